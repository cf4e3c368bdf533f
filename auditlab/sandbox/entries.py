"""Building audit-log entries in the exact shape of Invent's response page.

``EntryFactory.build`` is the one place an entry dict is assembled, for the
generated history, the planted incidents and the entries the server appends
while it runs. Nested objects that do not change (the org, an assistant, a
connection) are shared between entries: treat entries as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from auditlab.actions import action_category
from auditlab.sandbox.people import Person
from auditlab.sandbox.world import (
    ASSISTANT_NAMES,
    BROADCAST_NAMES,
    CONNECTIONS,
    SUGGESTED_MESSAGES,
    WELCOME_BANNERS,
    WORKFLOW_NAMES,
)

Entry = dict[str, Any]

# Who performed a row, when it is not a person: the index space of `who`.
SYSTEM = -1
STAFF = -2

# Which nested object an action affects.
TARGET: dict[str, str] = {
    "assistant": "assistant",
    "action": "assistant",
    "chat": "assistant",
    "workflow": "workflow",
    "connection": "connection",
    "integration": "connection",
    "broadcast": "broadcast",
    "member": "member",
}

FIELD_SETS: dict[str, tuple[tuple[str, ...], ...]] = {
    "assistant": (
        ("instructions",), ("model",), ("instructions", "model"), ("name",),
        ("knowledge",), ("config.conversation.welcome_banner",), ("temperature",),
    ),
    "connection": (("name",), ("credentials",), ("channel",), ("scopes",)),
    "org": (("name",), ("logo_url",), ("config.address",), ("features.broadcasts",)),
}  # fmt: skip


def _pick(options: tuple[Any, ...], r: int) -> Any:
    return options[r % len(options)]


def _fields(kind: str) -> Callable[[int], dict[str, Any]]:
    return lambda r: {"fields": list(_pick(FIELD_SETS[kind], r >> 7))}


def _with_id(key: str, prefix: str) -> Callable[[int], dict[str, Any]]:
    return lambda r: {key: f"{prefix}{(r >> 9) % 0xFFFFF:05x}"}


def _domain(r: int) -> dict[str, Any]:
    return {"domain": _pick(("help.example.com", "example.net", "support.example.org"), r >> 5)}


def _sso(r: int) -> dict[str, Any]:
    return {"profile_id": f"sso_{(r >> 4) % 97:02d}", "provider": _pick(("okta", "azure"), r)}


METADATA: dict[str, Callable[[int], Any]] = {
    "assistant.updated": _fields("assistant"),
    "assistant.created": lambda r: {"template": _pick(("blank", "support", "sales"), r >> 5)},
    "assistant.duplicated": _with_id("new_assistant_id", "ast_"),
    "assistant.duplicated_from": _with_id("source_assistant_id", "ast_"),
    "action.created": lambda r: {"action_id": f"act_{(r >> 6) % 4096:03x}", "type": "HTTP"},
    "action.deleted": _with_id("action_id", "act_"),
    "action.enabled": _with_id("action_id", "act_"),
    "action.disabled": _with_id("action_id", "act_"),
    "chat.deleted": lambda r: {"chat_id": f"cht_{(r >> 8) % 0xFFFFFF:06x}", "messages": r % 40},
    "connection.updated": _fields("connection"),
    "integration.updated": _fields("connection"),
    "broadcast.activated": lambda r: {"audience_size": 50 + (r >> 4) % 5000},
    "workflow.created": lambda r: {"trigger": _pick(("chat.closed", "schedule", "webhook"), r)},
    "org.updated": _fields("org"),
    "org.sub_org_created": _with_id("sub_org_id", "org_sub"),
    "org.sub_org_updated": _with_id("sub_org_id", "org_sub"),
    "org.sub_org_member_joined": _with_id("sub_org_id", "org_sub"),
    "org.sub_org_member_role_changed": lambda r: {
        "sub_org_id": f"org_sub{(r >> 9) % 0xFFFFF:05x}",
        "previous_role": "MEMBER",
        "new_role": "DEVELOPER",
    },
    "org.transferred_to": _with_id("org_id", "org_"),
    "org.detached_from": _with_id("org_id", "org_"),
    "org.detached": _with_id("parent_org_id", "org_"),
    "domain.created": _domain,
    "domain.deleted": _domain,
    "email.domain.created": _domain,
    "email.domain.deleted": _domain,
    "email.identity.created": lambda r: {"email": f"team{r % 9}@example.com"},
    "email.identity.deleted": lambda r: {"email": f"team{r % 9}@example.com"},
    "sso.profile.created": _sso,
    "sso.profile.updated": _sso,
    "sso.profile.deleted": _sso,
    "sso.profile.sessions.revoked": lambda r: {**_sso(r), "sessions": 1 + (r >> 3) % 60},
    "sso.domain.create_code_requested": _domain,
    "sso.domain.delete_code_requested": _domain,
    "sso.domain.created": _domain,
    "sso.domain.updated": _domain,
    "sso.domain.deleted": _domain,
    "api_key.created": lambda r: {"key_id": f"key_{(r >> 5) % 0xFFFF:04x}", "name": "ci"},
    "api_key.deleted": _with_id("key_id", "key_"),
    "member.role_changed": lambda r: {"previous_role": "MEMBER", "new_role": "DEVELOPER"},
    "member.invited": lambda r: {"email": f"new{r % 997}@example.com", "role": "MEMBER"},
}


class Pools:
    """The org's assistants, workflows, connections, broadcasts and memberships."""

    def __init__(self, rng: np.random.Generator, org_id: str, people: list[Person]) -> None:
        self.assistant = [_assistant(rng, i) for i in range(int(rng.integers(8, 19)))]
        self.deleted_assistant = [{**a, "deleted": True, "enabled": False} for a in self.assistant]
        self.workflow = [
            {
                "id": f"wf_{i:02d}{int(rng.integers(0, 4096)):03x}",
                "name": name,
                "access": str(rng.choice(("PRIVATE", "ORG", "PUBLIC"), p=(0.5, 0.4, 0.1))),
                "org_id": org_id,
            }
            for i, name in enumerate(WORKFLOW_NAMES)
        ]
        self.connection = [
            {"id": f"con_{i:02d}{int(rng.integers(0, 4096)):03x}", "type": kind, "name": name}
            for i, (kind, name) in enumerate(CONNECTIONS)
        ]
        self.broadcast = [
            {"id": f"brd_{i:02d}{int(rng.integers(0, 256)):02x}", "name": name}
            for i, name in enumerate(BROADCAST_NAMES)
        ]
        self.member = [membership(p, p.role) for p in people if p.kind == "person"]


def membership(person: Person, role: str, seen_at: str | None = None) -> dict[str, Any]:
    """Return the ``member`` object of an entry that affects this person.

    >>> from auditlab.sandbox.people import make_bot
    >>> membership(make_bot(), "ADMIN")["user"]["name"]
    'Build Bot'
    """
    return {"id": person.member_id, "role": role, "user": {**person.actor, "seen_at": seen_at}}


def _assistant(rng: np.random.Generator, i: int) -> dict[str, Any]:
    return {
        "id": f"ast_{i:02d}{int(rng.integers(0, 65536)):04x}",
        "name": ASSISTANT_NAMES[i % len(ASSISTANT_NAMES)],
        "enabled": bool(rng.random() < 0.85),
        "avatar_url": f"https://cdn.example.com/ast/{i}.png" if rng.random() < 0.4 else None,
        "deleted": False,
        "config": {
            "conversation": {
                "welcome_banner": WELCOME_BANNERS[int(rng.integers(len(WELCOME_BANNERS)))],
                "suggested_messages": [
                    str(m) for m in rng.choice(SUGGESTED_MESSAGES, 2, replace=False)
                ],
                "auto_intro_message": None if rng.random() < 0.6 else "Hello from our team!",
                "enable_auto_csat": bool(rng.random() < 0.5),
            }
        },
    }


class EntryFactory:
    """Assembles entries for one org from (action, who, time, random bits)."""

    def __init__(self, org: dict[str, Any], people: list[Person], pools: Pools) -> None:
        self.org = org
        self.people = people
        self.pools = pools
        self._plans: dict[str, tuple[str | None, list[Any], Callable[[int], Any] | None]] = {}

    def plan(self, action: str) -> tuple[str | None, list[Any], Callable[[int], Any] | None]:
        """Return the nested key an action affects, the pool it picks from, its metadata maker."""
        found = self._plans.get(action)
        if found is None:
            kind = TARGET.get(action_category(action))
            if kind is None:
                pool: list[Any] = []
            elif action == "assistant.deleted":
                pool = self.pools.deleted_assistant
            else:
                pool = getattr(self.pools, kind)
            found = self._plans[action] = (kind, pool, METADATA.get(action))
        return found

    def build(
        self,
        entry_id: str,
        action: str,
        created_at: str,
        seen_at: str | None,
        who: int,
        r: int,
    ) -> Entry:
        """Return one entry: a person's or the bot's (who >= 0), the system's or staff's.

        People's entries carry every nested key (null when unaffected); system
        and staff entries carry only the affected object's key, as Invent
        omits keys it has nothing for.
        """
        kind, pool, metadata = self._plans.get(action) or self.plan(action)
        if who >= 0:
            person = self.people[who]
            bot = person.kind == "bot"
            actor = person.actor if bot else {**person.actor, "seen_at": seen_at}
            entry: Entry = {
                "id": entry_id,
                "action": action,
                "source": "api" if bot else "app",
                "ip": person.ips[(r >> 3) % len(person.ips)],
                "country": person.country,
                "agent": person.agent,
                "created_at": created_at,
                "actor": actor,
                "user": actor,
                "assistant": None,
                "workflow": None,
                "connection": None,
                "broadcast": None,
                "member": None,
            }
        else:
            entry = {
                "id": entry_id,
                "action": action,
                "source": "system" if who == SYSTEM else "admin",
                "ip": None,
                "country": None,
                "agent": None,
                "created_at": created_at,
                "actor": None,
                "user": None,
            }
        if kind is not None:
            entry[kind] = pool[r % len(pool)]
        entry["org"] = self.org
        entry["metadata"] = metadata(r) if metadata is not None else None
        return entry
