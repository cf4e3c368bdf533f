"""The sandbox server speaks DESIGN section 1 over real HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from auditlab.actions import ACTION_SET
from auditlab.cli import main
from auditlab.sandbox import generate_org, serve

KEY = "sk_test_sandbox_key_0123456789"
NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def org():
    return generate_org(seed=3, days=30, now=NOW)


@pytest.fixture(scope="module")
def server(org) -> Iterator:
    with serve(org=org, api_key=KEY, rate_limit=None) as running:
        yield running


@pytest.fixture
def client(server) -> Iterator[httpx2.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx2.Client(base_url=server.base_url, headers=headers) as c:
        yield c


def _fetch_all(client: httpx2.Client, **params: str) -> list[dict]:
    entries: list[dict] = []
    page = 1
    while True:
        response = client.get("/orgs/c/audit-logs", params={**params, "page": page})
        assert response.status_code == 200, response.text
        batch = response.json()
        entries += batch
        if len(batch) < 100:
            assert int(response.headers["pagination-count"]) == len(entries)
            return entries
        page += 1


def _ids(entries: list[dict]) -> list[str]:
    return [e["id"] for e in entries]


def _nested(entry: dict, key: str) -> str | None:
    return (entry.get(key) or {}).get("id")


def test_first_page_is_the_newest_hundred_with_pagination_headers(client, org):
    response = client.get("/orgs/c/audit-logs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert _ids(response.json()) == _ids(org.entries[:100])
    assert response.headers["pagination-count"] == str(len(org.entries))
    assert response.headers["pagination-page"] == "1"
    assert response.headers["pagination-take"] == "100"


def test_pages_walk_the_log_newest_first_and_past_the_end_is_empty(client, org):
    response = client.get("/orgs/c/audit-logs", params={"page": 3, "take": 7})
    assert _ids(response.json()) == _ids(org.entries[14:21])
    assert (response.headers["pagination-page"], response.headers["pagination-take"]) == ("3", "7")
    last = len(org.entries) // 7 + 2
    beyond = client.get("/orgs/c/audit-logs", params={"page": last, "take": 7})
    assert beyond.json() == []
    assert beyond.headers["pagination-count"] == str(len(org.entries))


def test_take_accepts_one_to_a_hundred(client):
    assert len(client.get("/orgs/c/audit-logs", params={"take": 1}).json()) == 1
    assert len(client.get("/orgs/c/audit-logs", params={"take": 100}).json()) == 100


def test_whole_log_is_served_once_each(client, org):
    assert _ids(_fetch_all(client)) == _ids(org.entries)


@pytest.mark.parametrize(
    "name, pick, matches",
    [
        ("action", lambda o: "member.role_changed", lambda e, v: e["action"] == v),
        ("user_id", lambda o: o.people[3].id, lambda e, v: _nested(e, "user") == v),
        ("assistant_id", lambda o: o.factory.pools.assistant[1]["id"],
         lambda e, v: _nested(e, "assistant") == v),
        ("workflow_id", lambda o: o.factory.pools.workflow[2]["id"],
         lambda e, v: _nested(e, "workflow") == v),
        ("connection_id", lambda o: o.factory.pools.connection[0]["id"],
         lambda e, v: _nested(e, "connection") == v),
        ("from", lambda o: "2026-11-15", lambda e, v: e["created_at"][:10] >= v),
        ("to", lambda o: "2026-10-25", lambda e, v: e["created_at"][:10] <= v),
    ],
)  # fmt: skip
def test_each_filter_returns_exactly_the_matching_entries(client, org, name, pick, matches):
    value = pick(org)
    expected = [e for e in org.entries if matches(e, value)]
    assert expected, "the filter must select something to be a real test"
    assert len(expected) < len(org.entries)
    assert _ids(_fetch_all(client, **{name: value})) == _ids(expected)


def test_filters_combine_with_a_date_range(client, org):
    user = org.people[1].id
    expected = [
        e
        for e in org.entries
        if _nested(e, "user") == user
        and e["action"] == "assistant.updated"
        and "2026-11-01" <= e["created_at"][:10] <= "2026-11-10"
    ]
    params = {
        "user_id": user,
        "action": "assistant.updated",
        "from": "2026-11-01",
        "to": "2026-11-10",
    }
    assert expected
    assert _ids(_fetch_all(client, **params)) == _ids(expected)


def test_action_all_and_a_single_day_range(client, org):
    day = "2026-11-03"
    expected = [e for e in org.entries if e["created_at"].startswith(day)]
    got = _fetch_all(client, **{"action": "ALL", "from": day, "to": day})
    assert _ids(got) == _ids(expected)


def test_an_id_that_matches_nothing_answers_an_empty_page(client):
    response = client.get("/orgs/c/audit-logs", params={"user_id": "usr_nobody"})
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["pagination-count"] == "0"


@pytest.mark.parametrize(
    "name, value",
    [
        ("action", "agent.summoned"),
        ("action", "all"),
        ("from", "2026-13-01"),
        ("from", "20261101"),
        ("to", "yesterday"),
        ("user_id", "u" * 129),
        ("assistant_id", "a" * 129),
        ("workflow_id", "w" * 129),
        ("connection_id", "c" * 129),
        ("page", "0"),
        ("page", "-1"),
        ("page", "two"),
        ("take", "0"),
        ("take", "101"),
        ("take", "1.5"),
        ("take", "+5"),
        ("take", " 5"),
        ("from", "2026-11-1"),
        ("to", "2026-11-01T00:00:00Z"),
    ],
)
def test_bad_parameter_answers_400_naming_it(client, name, value):
    response = client.get("/orgs/c/audit-logs", params={name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == name
    assert name in body["message"]


def test_a_parameter_given_twice_answers_400_naming_it(client):
    response = client.get("/orgs/c/audit-logs?take=5&take=6")
    assert response.status_code == 400 and response.json()["parameter"] == "take"


def test_to_before_from_answers_400_naming_to(client):
    params = {"from": "2026-11-02", "to": "2026-11-01"}
    response = client.get("/orgs/c/audit-logs", params=params)
    assert response.status_code == 400
    assert response.json()["parameter"] == "to"


def test_an_id_of_exactly_128_characters_is_accepted(client):
    response = client.get("/orgs/c/audit-logs", params={"workflow_id": "w" * 128})
    assert response.status_code == 200


def test_the_org_id_or_c_serve_the_same_log_and_other_orgs_are_404(client, org):
    by_id = client.get(f"/orgs/{org.org_id}/audit-logs", params={"take": 5})
    by_alias = client.get("/orgs/c/audit-logs", params={"take": 5})
    assert by_id.content == by_alias.content
    other = client.get("/orgs/org_someone_else/audit-logs")
    assert other.status_code == 404
    assert client.get("/orgs/c/members").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk_wrong_key"},
        {"Authorization": KEY},
        {"Authorization": "Bearer"},
    ],
)
def test_missing_or_wrong_key_answers_401_without_echoing_it(server, headers):
    response = httpx2.get(f"{server.base_url}/orgs/c/audit-logs", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"]
    assert KEY not in response.text and "sk_wrong_key" not in response.text
    assert KEY not in repr(server)


def test_stats_count_requests_statuses_and_query_strings(org):
    with serve(org=org, api_key=KEY) as sandbox, httpx2.Client(base_url=sandbox.base_url) as c:
        auth = {"Authorization": f"Bearer {KEY}"}
        c.get("/orgs/c/audit-logs?take=2", headers=auth)
        c.get("/orgs/c/audit-logs?take=2", headers=auth)
        c.get("/orgs/c/audit-logs?take=0", headers=auth)
        c.get("/orgs/c/audit-logs")
        assert sandbox.stats.requests == 4
        assert sandbox.stats.by_status == {200: 2, 400: 1, 401: 1}
        assert sandbox.stats.queries["take=2"] == 2
        sandbox.stats.reset()
        assert sandbox.stats.requests == 0 and not sandbox.stats.queries


def test_rate_limit_answers_429_with_an_integer_retry_after(org):
    with serve(org=org, api_key=KEY, rate_limit=5) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as c:
            statuses = [
                c.get("/orgs/c/audit-logs", params={"take": 1}).status_code for _ in range(5)
            ]
            limited = c.get("/orgs/c/audit-logs", params={"take": 1})
    assert statuses == [200] * 5
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert sandbox.stats.rate_limited == 1


def test_fault_rate_one_answers_every_request_with_a_5xx(org):
    with serve(org=org, api_key=KEY, fault_rate=1.0) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as c:
            statuses = [c.get("/orgs/c/audit-logs").status_code for _ in range(12)]
    assert set(statuses) <= {500, 502, 503}
    assert len(set(statuses)) > 1
    assert sandbox.stats.server_errors == 12


def test_fault_rate_is_a_seeded_share_of_requests(org):
    runs = []
    for _ in range(2):
        with serve(org=org, api_key=KEY, fault_rate=0.3, seed=9) as sandbox:
            auth = {"Authorization": f"Bearer {KEY}"}
            with httpx2.Client(base_url=sandbox.base_url, headers=auth) as c:
                runs.append([c.get("/orgs/c/audit-logs?take=1").status_code for _ in range(40)])
    assert runs[0] == runs[1]
    assert 0 < sum(s >= 500 for s in runs[0]) < 40


def test_cut_rate_one_sends_half_the_body_then_closes(org):
    with serve(org=org, api_key=KEY, cut_rate=1.0) as sandbox:
        host, port = sandbox.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"GET /orgs/c/audit-logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}"
                "\r\n\r\n".encode()
            )
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        with pytest.raises(httpx2.RemoteProtocolError):
            httpx2.get(
                f"{sandbox.base_url}/orgs/c/audit-logs", headers={"Authorization": f"Bearer {KEY}"}
            )
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < length
    assert sandbox.stats.cuts == 2


def test_live_appends_new_entries_at_the_front_after_each_page():
    org = generate_org(seed=8, days=14, now=NOW)
    before = len(org.entries)
    with serve(org=org, api_key=KEY, live=3) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as c:
            first = c.get("/orgs/c/audit-logs", params={"take": 5})
            second = c.get("/orgs/c/audit-logs", params={"take": 5})
    assert first.headers["pagination-count"] == str(before)
    assert second.headers["pagination-count"] == str(before + 3)
    assert len(org.entries) == before + 6
    new = second.json()[:3]
    assert _ids(new) == _ids(org.entries[3:6])
    assert _ids(second.json()[3:]) == _ids(first.json()[:2])
    assert len({e["id"] for e in org.entries}) == len(org.entries)
    stamps = [e["created_at"] for e in org.entries[:6]]
    assert stamps == sorted(stamps, reverse=True)
    # stamped by the sandbox's clock, which starts at the org's now
    assert stamps[-1] >= f"{NOW:%Y-%m-%dT%H:%M:%S}Z"
    assert all(e["actor"] is None or e["actor"]["id"] not in org.removed for e in org.entries[:6])
    assert sandbox.stats.live_added == 6


def test_live_entries_are_deterministic_for_a_seed():
    actions = []
    for _ in range(2):
        org = generate_org(seed=8, days=14, now=NOW)
        with serve(org=org, api_key=KEY, live=4, seed=8) as sandbox:
            auth = {"Authorization": f"Bearer {KEY}"}
            httpx2.get(f"{sandbox.base_url}/orgs/c/audit-logs?take=1", headers=auth)
            httpx2.get(f"{sandbox.base_url}/orgs/c/audit-logs?take=1", headers=auth)
        actions.append([(e["action"], (e["actor"] or {}).get("id")) for e in org.entries[:8]])
    assert actions[0] == actions[1]


def test_chaos_adds_unknown_actions_and_fields_but_spares_the_answer_key():
    org = generate_org(seed=8, days=14, now=NOW)
    planted = {i for incident in org.answer_key for i in incident.entry_ids}
    with serve(org=org, api_key=KEY, chaos=0.2, rate_limit=None) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        with httpx2.Client(base_url=sandbox.base_url, headers=auth) as c:
            served = _fetch_all(c)
            rejected = c.get("/orgs/c/audit-logs", params={"action": "agent.summoned"})
    assert served == org.entries
    unknown = [e for e in served if e["action"] not in ACTION_SET]
    extra = [e for e in served if "risk_score" in e]
    assert 0.05 * len(served) < len(unknown) < len(extra) < 0.3 * len(served)
    assert all(e["org"]["region"] == "eu-west-1" for e in extra)
    assert any("mfa" in (e["actor"] or {}) for e in extra)
    assert not planted & {e["id"] for e in extra}
    assert rejected.status_code == 400


def test_latency_delays_each_answer(org):
    with serve(org=org, api_key=KEY, latency_ms=150) as sandbox:
        auth = {"Authorization": f"Bearer {KEY}"}
        response = httpx2.get(f"{sandbox.base_url}/orgs/c/audit-logs?take=1", headers=auth)
    assert response.status_code == 200
    assert response.elapsed >= dt.timedelta(milliseconds=150)


def test_serve_stops_cleanly_and_frees_its_port(org):
    with serve(org=org, api_key=KEY) as sandbox:
        url = sandbox.base_url
        with httpx2.Client() as c:
            assert c.get(f"{url}/orgs/c/audit-logs?take=1").status_code == 401
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/orgs/c/audit-logs")


def test_serve_refuses_a_non_loopback_host(org):
    with pytest.raises(ValueError, match="loopback"), serve(org=org, host="0.0.0.0"):
        pass
    with pytest.raises(SystemExit, match="--host"):
        main(["sandbox", "--host", "192.168.1.10"])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_command_prints_url_and_key_serves_then_stops_on_a_signal(stop):
    command = [sys.executable, "-m", "auditlab.cli", "sandbox", "--port", "0", "--days", "14",
               "--api-key", "k"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        url = next(line.split("=", 1)[1].strip() for line in lines if "BASE_URL" in line)
        assert "INVENT_API_KEY=k\n" in lines
        response = httpx2.get(
            f"{url}/orgs/c/audit-logs?take=2", headers={"Authorization": "Bearer k"}
        )
        assert response.status_code == 200 and len(response.json()) == 2
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.stdout.close()
