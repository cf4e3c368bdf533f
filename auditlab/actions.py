"""Invent's audit-log action catalogue: the one place that lists the actions.

Everything that needs the list of actions or an action's category imports it
from here: query validation, the frame layer, the sandbox and the analysis.
"""

from __future__ import annotations

ALL = "ALL"

ACTIONS: tuple[str, ...] = (
    "org.updated", "org.deleted", "org.disabled", "org.enabled", "org.restored",
    "org.transferred", "org.transferred_to", "org.detached", "org.detached_from",
    "org.sub_org_created", "org.sub_org_updated", "org.sub_org_member_joined",
    "org.sub_org_member_role_changed",
    "member.invited", "member.joined", "member.removed", "member.left", "member.role_changed",
    "assistant.created", "assistant.updated", "assistant.deleted", "assistant.restored",
    "assistant.duplicated", "assistant.duplicated_from",
    "action.created", "action.deleted", "action.enabled", "action.disabled",
    "integration.created", "integration.deleted", "integration.updated",
    "integration.enabled", "integration.disabled",
    "broadcast.created", "broadcast.deleted", "broadcast.activated", "broadcast.paused",
    "domain.created", "domain.deleted", "email.domain.created", "email.domain.deleted",
    "sso.profile.created", "sso.profile.updated", "sso.profile.deleted",
    "sso.profile.sessions.revoked", "sso.domain.create_code_requested",
    "sso.domain.delete_code_requested", "sso.domain.created", "sso.domain.updated",
    "sso.domain.deleted",
    "email.identity.created", "email.identity.deleted",
    "chat.deleted",
    "workflow.created", "workflow.deleted", "workflow.restored",
    "connection.created", "connection.updated", "connection.deleted",
    "api_key.created", "api_key.deleted",
)  # fmt: skip

ACTION_SET: frozenset[str] = frozenset(ACTIONS)

# Prefixes whose category is not simply the text before the first dot.
_CATEGORY_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("email.domain.", "domain"),
    ("email.identity.", "email"),
    ("sso.profile.", "sso"),
    ("sso.domain.", "sso"),
)


def action_category(action: str) -> str:
    """Return the category an action belongs to.

    The category is the text before the first dot, except for the prefixes
    in ``_CATEGORY_OVERRIDES``: ``email.domain.*`` belongs with ``domain``,
    ``email.identity.*`` with ``email``, ``sso.profile.*`` and
    ``sso.domain.*`` with ``sso``. Unknown actions get a category by the
    same rule, so a new server-side action is data, never an error.

    >>> action_category("email.domain.created")
    'domain'
    >>> action_category("member.role_changed")
    'member'
    """
    for prefix, category in _CATEGORY_OVERRIDES:
        if action.startswith(prefix):
            return category
    return action.split(".", 1)[0]


CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(action_category(a) for a in ACTIONS))
