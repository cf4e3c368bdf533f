"""The sandbox's switches for what Invent leaves open, and its own reading of the contract."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from auditlab.cli import build_parser
from auditlab.clock import ManualClock
from auditlab.sandbox import generate_org, serve

KEY = "sk_test_undocumented"
# Three minutes past a midnight: the late entries of the day before are still arriving.
NOW = dt.datetime(2026, 3, 15, 0, 3, tzinfo=dt.UTC)


def fetch_all(server: Any, take: int = 100, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Return every entry the server answers for params (pages of take) and its count."""
    entries: list[dict[str, Any]] = []
    with httpx2.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}) as c:
        for page in range(1, 5000):
            response = c.get("/orgs/c/audit-logs", params={**params, "page": page, "take": take})
            assert response.status_code == 200, response.text
            entries += response.json()
            if len(response.json()) < take:
                return entries, int(response.headers["pagination-count"])
    raise AssertionError("never reached a short page")


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


def person(entry: dict[str, Any], side: str) -> str | None:
    return (entry.get(side) or {}).get("id")


# --- the user_id rule and entries naming one side only ----------------------------------

RULES = {
    "actor": lambda e, v: person(e, "actor") == v,
    "user": lambda e, v: person(e, "user") == v,
    "either": lambda e, v: v in (person(e, "actor"), person(e, "user")),
}


@pytest.fixture(scope="module")
def gappy() -> Iterator[Any]:
    with serve(api_key=KEY, seed=4, days=14, now=NOW, rate_limit=None, person_gaps=0.3) as s:
        yield s


def test_person_gaps_drop_actor_or_user_absent_or_null_at_the_share_asked(gappy: Any) -> None:
    people = [e for e in gappy.org.entries if e.get("actor") or e.get("user")]
    kinds = {
        (side, "absent" if side not in e else "null")
        for e in people
        for side in ("actor", "user")
        if not e.get(side)
    }
    assert kinds == {("actor", "absent"), ("actor", "null"), ("user", "absent"), ("user", "null")}
    one_sided = sum(1 for e in people if bool(e.get("actor")) != bool(e.get("user")))
    assert 0.25 < one_sided / len(people) < 0.35


def test_person_gaps_are_deterministic_for_the_seed_and_spare_the_answer_key() -> None:
    def served(seed: int) -> list[tuple[Any, Any]]:
        with serve(api_key=KEY, seed=seed, days=14, now=NOW, person_gaps=0.3) as s:
            planted = {i for incident in s.org.answer_key for i in incident.entry_ids}
            kept = [e for e in s.org.entries if e["id"] in planted]
            assert all("actor" in e and "user" in e for e in kept)
            return [(person(e, "actor"), person(e, "user")) for e in s.org.entries]

    assert served(4) == served(4) != served(5)


@pytest.mark.parametrize("rule", ["actor", "user", "either"])
def test_user_id_filter_matches_the_person_the_switch_names(rule: str) -> None:
    with serve(api_key=KEY, seed=4, days=14, now=NOW, rate_limit=None, person_gaps=0.3,
               user_filter=rule) as server:  # fmt: skip
        who = server.org.people[2].id
        expected = [e for e in server.org.entries if RULES[rule](e, who)]
        got, count = fetch_all(server, user_id=who, to="2026-03-14")
        expected = [e for e in expected if e["created_at"][:10] <= "2026-03-14"]
    assert ids(got) == ids(expected) and count == len(expected)
    others = [r for r in RULES if r != rule]
    assert any([e for e in server.org.entries if RULES[r](e, who)] != expected for r in others), (
        "with gaps, another rule must select other entries, or this test proves nothing"
    )


def test_user_filter_and_person_gaps_are_refused_out_of_range() -> None:
    with pytest.raises(ValueError, match="user_filter"), serve(user_filter="member"):
        pass
    with pytest.raises(ValueError, match="person_gaps"), serve(person_gaps=1.5):
        pass


# --- late entries -----------------------------------------------------------------------


def test_late_entries_show_only_after_their_delay_and_in_their_place_by_time() -> None:
    clock = ManualClock(NOW)
    with serve(api_key=KEY, seed=6, days=14, now=NOW, rate_limit=None, late=4,
               late_delay=dt.timedelta(minutes=10), clock=clock) as server:  # fmt: skip
        shown = server.server.shown_from
        assert len(shown) == 4 * 14
        last_night = {i for i, at in shown.items() if at.date() == NOW.date()}
        pending = {i for i in last_night if shown[i] > NOW}
        assert len(last_night) == 4 and pending, "some of last night's late entries still wait"
        before, count_before = fetch_all(server, **{"from": "2026-03-14", "to": "2026-03-14"})
        assert not pending & set(ids(before)) and count_before == len(before)
        on_the_14th = [e for e in server.visible() if e["created_at"][:10] == "2026-03-14"]
        assert ids(before) == ids(on_the_14th)
        clock.advance(minutes=10)
        after, count_after = fetch_all(server, **{"from": "2026-03-14", "to": "2026-03-14"})
        assert count_after == count_before + len(pending)
        assert set(ids(after)) - set(ids(before)) == pending
        # newest first by time: a late entry of the 14th sits below the 15th's entries
        whole, _ = fetch_all(server)
        assert ids(whole) == ids(server.org.entries)
        assert [e["created_at"] for e in whole] == sorted(
            (e["created_at"] for e in whole), reverse=True
        )


def test_late_entries_are_deterministic_for_the_seed() -> None:
    def late(seed: int) -> dict[str, dt.datetime]:
        with serve(api_key=KEY, seed=seed, days=14, now=NOW, late=2) as server:
            return dict(server.server.shown_from)

    assert late(6) == late(6) != late(7)


def test_late_entries_filtered_pages_skip_the_hidden_ones() -> None:
    clock = ManualClock(NOW)
    with serve(api_key=KEY, seed=6, days=14, now=NOW, rate_limit=None, late=30,
               clock=clock) as server:  # fmt: skip
        hidden = {i for i, at in server.server.shown_from.items() if at > NOW}
        entry = next(e for e in server.org.entries if e["id"] in hidden)
        action = entry["action"]
        expected = [e for e in server.visible() if e["action"] == action]
        for take in (1, 7, 100):
            got, count = fetch_all(server, take=take, action=action)
            assert ids(got) == ids(expected) and count == len(expected), take


# --- the command line and independence from the client ----------------------------------


def test_command_line_offers_the_switches() -> None:
    args = build_parser().parse_args(
        ["sandbox", "--user-filter", "either", "--person-gaps", "0.1", "--late", "3",
         "--late-delay", "90"]
    )  # fmt: skip
    assert (args.user_filter, args.person_gaps, args.late, args.late_delay) == (
        "either", 0.1, 3, 90.0,
    )  # fmt: skip
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--user-filter", "member"])


def test_the_sandbox_reads_the_contract_without_the_clients_query_code() -> None:
    probe = (
        "import sys; from auditlab.sandbox import serve\n"
        "with serve(days=14) as s: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('auditlab.api')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_generated_org_is_unchanged_when_no_switch_is_on() -> None:
    plain = generate_org(seed=4, days=14, now=NOW)
    with serve(api_key=KEY, seed=4, days=14, now=NOW) as server:
        assert server.org.entries == plain.entries
        assert server.server.shown_from == {}
