"""The rules a review applies, as data: read from a TOML file, checked before anything runs.

``rules.toml`` beside this module ships with auditlab and documents every key;
``load_rules(path)`` reads another file. A file is the whole rule set: a rule it
leaves out does not run. Every value is checked when the file is read: a bad
one raises ``InvalidQuery`` (``parameter="rules"``) naming the key, for example
``rules.mass_deletion.burst``, and what it allows.

>>> rules = load_rules()
>>> rules["mass_deletion"].severity, rules["mass_deletion"].settings["burst"]
('high', 10)
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from auditlab.actions import ACTIONS, action_category
from auditlab.errors import InvalidQuery

SEVERITIES = ("high", "medium", "low")
DEFAULT_SOURCE = "auditlab/analysis/rules.toml (shipped with auditlab)"
# The rules whose id auditlab defines and the settings each takes, in the order the
# rule's text is checked. Any other id is a rule that lists ``actions``.
LISTING = "actions"
RULE_SETTINGS: dict[str, tuple[str, ...]] = {
    "privileged_role": ("roles",),
    "own_role_changed": (),
    "first_api_key": (),
    "mass_deletion": ("burst", "window"),
    "after_removal": (),
    "off_hours": ("watch", "usual_share", "min_history", "work_hours"),
    "impossible_travel": ("max_speed_kmh",),
    "new_country": ("settling_in",),
    "grant_by_non_holder": (),
    "grant_by_unknown_role": (),
    "privileged_quiet": ("quiet_days",),
}
COMMON_KEYS = ("severity", "title", "description", "enabled")
ALLOW_KEYS = ("networks", "service_accounts", "countries")
# Rules about where an actor is: read the located events, honour ``allow.networks``.
LOCATION_RULES = ("impossible_travel", "new_country")
# Rules of the access review: they read roles from the whole history (access_findings).
ACCESS_RULES = ("grant_by_non_holder", "grant_by_unknown_role", "privileged_quiet")
# Rules about behaviour: service accounts are left out of them.
BEHAVIOUR_RULES = ("mass_deletion", "off_hours", *LOCATION_RULES)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Rule:
    """One rule: its id, severity, words for the report, and its checked settings.

    A listing rule (``actions`` in its settings) maps each action to the reason shown.
    """

    id: str
    severity: str
    title: str
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Allow:
    """What never makes a behavioural finding: address ranges, service accounts, countries."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    service_accounts: frozenset[str] = frozenset()
    countries: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    """A checked rule set: the enabled rules in file order, the allowlists, and where from.

    ``sha256`` is the hex SHA-256 of the file's bytes (the report prints it).
    Index it by rule id; ``in`` says whether a rule runs.
    """

    rules: Mapping[str, Rule]
    allow: Allow
    source: str
    sha256: str

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def with_settings(
        self, rule_id: str, *, names: Mapping[str, str] | None = None, **settings: Any
    ) -> Rules:
        """Return these rules with some of one rule's settings replaced (each checked).

        A setting given as None keeps the file's value. An error names the
        setting by ``names[setting]`` (the caller's keyword) when given.

        >>> load_rules().with_settings("mass_deletion", burst=9)["mass_deletion"].settings["burst"]
        9
        """
        given = {name: value for name, value in settings.items() if value is not None}
        if not given:
            return self
        called = {name: (names or {}).get(name, name) for name in given}
        if rule_id not in self.rules:
            name = called[next(iter(given))]
            raise InvalidQuery(
                f"{name} sets the {rule_id} rule, which these rules ({self.source}) do not run",
                parameter=name,
            )
        rule = self.rules[rule_id]
        checked = {
            name: _SETTING_CHECKS[name](value, called[name]) for name, value in given.items()
        }
        changed = replace(rule, settings={**rule.settings, **checked})
        note = ", ".join(f"{called[k]}={v!r}" for k, v in given.items())
        return replace(
            self, rules={**self.rules, rule_id: changed}, source=f"{self.source}, with {note}"
        )


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Return the rules of a TOML file (the shipped ``rules.toml`` when path is None).

    Raises ``InvalidQuery`` (``parameter="rules"``) naming the first bad key.

    >>> [rule.id for rule in load_rules()][:3]
    ['role_changed', 'member_removed', 'api_key']
    >>> parse_rules('[rules.x]\\nseverity = "urgent"\\nactions = {"org.updated" = "x"}')
    Traceback (most recent call last):
    ...
    auditlab.errors.InvalidQuery: rules file <text>: rules.x.severity = 'urgent': must be one of ...
    """
    if path is None:
        return default_rules()
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise InvalidQuery(
            f"rules file {str(file)!r} cannot be read: {error.strerror or error}",
            parameter="rules",
        ) from None
    return _parse(data, source=str(file))


@functools.cache
def default_rules() -> Rules:
    """Return the shipped rules (``auditlab/analysis/rules.toml``), read once.

    >>> default_rules().source
    'auditlab/analysis/rules.toml (shipped with auditlab)'
    """
    data = resources.files("auditlab.analysis").joinpath("rules.toml").read_bytes()
    return _parse(data, source=DEFAULT_SOURCE)


def parse_rules(text: str, *, source: str = "<text>") -> Rules:
    """Return the rules written in TOML ``text``; ``source`` names it in errors.

    >>> rules = parse_rules('[rules.org]\\nseverity = "high"\\nactions = {"org.deleted" = "x"}')
    >>> rules["org"].title, rules.source
    ('Org', '<text>')
    """
    return _parse(text.encode("utf-8"), source=source)


def resolve_rules(rules: Rules | str | os.PathLike[str] | None) -> Rules:
    """Return ``rules`` as a ``Rules``: itself, the file at a path, or the shipped ones for None.

    >>> resolve_rules(None) is default_rules()
    True
    """
    if isinstance(rules, Rules):
        return rules
    if rules is None or isinstance(rules, str | os.PathLike):
        return load_rules(rules)
    raise InvalidQuery(
        f"rules={rules!r} must be a Rules, a path to a TOML rules file, or None",
        parameter="rules",
    )


def _parse(data: bytes, *, source: str) -> Rules:
    try:
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise _Bad(f"is not valid TOML: {error}") from None
        _only(document, ("version", "rules", "allow"), "")
        if document.get("version", 1) != 1:
            raise _Bad(f"version = {document['version']!r}: only version 1 is known")
        rules = _table(document.get("rules", {}), "rules")
        if not rules:
            raise _Bad("rules: no rule is defined; define at least one [rules.<id>] table")
        built = {
            rule_id: _rule(rule_id, _table(body, f"rules.{rule_id}"))
            for rule_id, body in rules.items()
        }
        allow = _allow(_table(document.get("allow", {}), "allow"))
    except _Bad as bad:
        raise InvalidQuery(f"rules file {source}: {bad}", parameter="rules") from None
    enabled = {rule_id: rule for rule_id, rule in built.items() if rule is not None}
    return Rules(enabled, allow, source, hashlib.sha256(data).hexdigest())


class _Bad(Exception):
    """A bad key in a rules file; the message names the key."""


def _rule(rule_id: str, body: dict[str, Any]) -> Rule | None:
    key = f"rules.{rule_id}"
    settings = RULE_SETTINGS.get(rule_id, (LISTING,))
    _only(body, (*COMMON_KEYS, *settings), key, extra=_what_rules_are(rule_id))
    if "severity" not in body:
        raise _Bad(f"{key}.severity is missing: {_WHAT['severity']}")
    severity = body["severity"]
    if severity not in SEVERITIES:
        raise _Bad(f"{key}.severity = {severity!r}: must be one of {', '.join(SEVERITIES)}")
    for name in settings:
        if name not in body:
            raise _Bad(f"{key}.{name} is missing: {_WHAT[name]}")
    texts = {name: _text(body.get(name, ""), f"{key}.{name}") for name in ("title", "description")}
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _Bad(f"{key}.enabled = {enabled!r}: must be true or false")
    checked = {}
    for name in settings:
        try:
            checked[name] = _SETTING_CHECKS[name](body[name], f"{key}.{name}")
        except InvalidQuery as error:
            raise _Bad(str(error)) from None
    if not enabled:
        return None
    title = texts["title"] or rule_id.replace("_", " ").capitalize()
    return Rule(rule_id, severity, title, texts["description"], checked)


def _allow(body: dict[str, Any]) -> Allow:
    _only(body, ALLOW_KEYS, "allow")
    networks = []
    for n, value in enumerate(_list(body.get("networks", []), "allow.networks")):
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except (TypeError, ValueError):
            raise _Bad(
                f"allow.networks[{n}] = {value!r}: must be an address range such as "
                "'198.51.100.0/24' or '2001:db8::/32'"
            ) from None
    accounts = _list(body.get("service_accounts", []), "allow.service_accounts")
    for n, value in enumerate(accounts):
        _text(value, f"allow.service_accounts[{n}]", required=True)
    countries = {}
    for actor, codes in _table(body.get("countries", {}), "allow.countries").items():
        key = f"allow.countries.{actor}"
        for value in _list(codes, key):
            if not isinstance(value, str) or not _COUNTRY.match(value):
                raise _Bad(f"{key}: {value!r} is not a two-letter country code such as 'DE'")
        countries[actor] = frozenset(codes)
    return Allow(tuple(networks), frozenset(accounts), countries)


def _what_rules_are(rule_id: str) -> str:
    if rule_id in RULE_SETTINGS:
        return ""
    return (
        f" ({rule_id!r} is not one of auditlab's rules ({', '.join(RULE_SETTINGS)}), "
        "so it lists actions: give it `actions`)"
    )


def _only(body: Mapping[str, Any], allowed: tuple[str, ...], key: str, extra: str = "") -> None:
    for name in body:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            raise _Bad(f"{where} is not a known key; allowed here: {', '.join(allowed)}{extra}")


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{key} must be a table ([{key}]), not {type(value).__name__}")
    return value


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"{key} = {value!r}: must be a list, e.g. [\"...\"]")
    return value


def _text(value: Any, key: str, *, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise _Bad(f"{key} = {value!r}: must be {'non-empty ' if required else ''}text")
    return value


# -- settings: each checked by one function (value, key) -> value, raising InvalidQuery ----


def _invalid(key: str, value: Any, allowed: str) -> InvalidQuery:
    return InvalidQuery(f"{key} = {value!r}: must be {allowed}", parameter=key.rsplit(".", 1)[-1])


def _whole(minimum: int) -> Callable[[Any, str], int]:
    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _invalid(key, value, f"a whole number >= {minimum}")
        return value

    return check


def _fraction(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _invalid(key, value, "a fraction between 0 and 1, e.g. 0.02")
    return float(value)


def _positive(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _invalid(key, value, "a positive number")
    return float(value)


def _duration(value: Any, key: str) -> Any:
    import pandas as pd

    problem = _invalid(key, value, "a positive duration such as '10min', '2h' or '7 days'")
    if not isinstance(value, str):
        raise problem
    try:
        duration = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise problem from None
    if pd.isna(duration) or duration <= pd.Timedelta(0):
        raise problem
    return duration


def _hours(value: Any, key: str) -> tuple[int, int]:
    whole = isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )
    if not whole or len(value) != 2 or not 0 <= value[0] < value[1] <= 24:
        raise _invalid(key, value, "[start, end]: whole hours with 0 <= start < end <= 24")
    return value[0], value[1]


def _roles(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise _invalid(key, value, "a non-empty list of role names, e.g. [\"ADMIN\", \"OWNER\"]")
    return tuple(value)


def _known_action(action: Any, key: str) -> str:
    if action not in ACTIONS:
        raise InvalidQuery(
            f"{key}: {action!r} is not one of Invent's {len(ACTIONS)} actions "
            "(auditlab.actions.ACTIONS), e.g. 'member.role_changed'",
            parameter=key.rsplit(".", 1)[-1],
        )
    return action


def _reasons(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise _invalid(key, value, 'a table of action = "reason", e.g. {"org.deleted" = "gone"}')
    for action, reason in value.items():
        _known_action(action, key)
        if not isinstance(reason, str) or not reason.strip():
            raise _invalid(f"{key}.{action}", reason, "non-empty text: the reason shown")
    return dict(value)


def _watch(value: Any, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise _invalid(key, value, 'a non-empty list of actions or "CATEGORY.*"')
    categories = {action_category(a) for a in ACTIONS}
    watched = set()
    for item in value:
        if isinstance(item, str) and item.endswith(".*"):
            if item[:-2] not in categories:
                raise InvalidQuery(
                    f"{key}: {item!r} names no category; categories are "
                    f"{', '.join(sorted(categories))}",
                    parameter=key.rsplit(".", 1)[-1],
                )
            watched |= {a for a in ACTIONS if action_category(a) == item[:-2]}
        else:
            watched.add(_known_action(item, key))
    return frozenset(watched)


_SETTING_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    LISTING: _reasons,
    "roles": _roles,
    "burst": _whole(2),
    "window": _duration,
    "watch": _watch,
    "usual_share": _fraction,
    "min_history": _whole(1),
    "work_hours": _hours,
    "max_speed_kmh": _positive,
    "settling_in": _duration,
    "quiet_days": _whole(1),
}
# What each required key holds, for the message when it is missing.
_WHAT: dict[str, str] = {
    "severity": "one of high, medium, low",
    LISTING: 'a table of action = "reason"',
    "roles": "a list of role names",
    "burst": "a whole number >= 2",
    "window": "a duration such as '10min'",
    "watch": 'a list of actions or "CATEGORY.*"',
    "usual_share": "a fraction between 0 and 1",
    "min_history": "a whole number >= 1",
    "work_hours": "[start, end] in whole hours",
    "max_speed_kmh": "a positive number",
    "settling_in": "a duration such as '7 days'",
    "quiet_days": "a whole number of days >= 1",
}
