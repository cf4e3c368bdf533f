"""The action catalogue: exactly Invent's 61 actions and their categories."""

from auditlab.actions import ACTION_SET, ACTIONS, CATEGORIES, action_category


def test_catalogue_has_the_61_documented_actions_once_each():
    assert len(ACTIONS) == 61
    assert len(ACTION_SET) == 61


def test_category_is_the_text_before_the_first_dot():
    assert action_category("member.role_changed") == "member"
    assert action_category("api_key.created") == "api_key"
    assert action_category("org.sub_org_member_role_changed") == "org"


def test_email_and_sso_subfamilies_join_their_documented_category():
    assert action_category("email.domain.created") == "domain"
    assert action_category("email.domain.deleted") == "domain"
    assert action_category("email.identity.created") == "email"
    assert action_category("sso.profile.sessions.revoked") == "sso"
    assert action_category("sso.domain.create_code_requested") == "sso"


def test_unknown_action_gets_a_category_by_the_same_rule():
    assert action_category("agent.summoned") == "agent"
    assert action_category("nodots") == "nodots"


def test_categories_list_each_category_once_in_catalogue_order():
    assert CATEGORIES == (
        "org", "member", "assistant", "action", "integration", "broadcast",
        "domain", "sso", "email", "chat", "workflow", "connection", "api_key",
    )  # fmt: skip
