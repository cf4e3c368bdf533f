"""The report's parts, each on small inputs: digest, pseudonyms, scope, export, findings, CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import stat
from pathlib import Path

import nbformat
import pandas as pd
import plotly.graph_objects as go
import pytest
from helpers import PLANTED_KEY, entry, frame

from auditlab.cli import main
from auditlab.errors import InvalidQuery
from auditlab.frame import entries_to_table, table_to_frame
from auditlab.report import (
    Pseudonymizer,
    ReportFailed,
    Scope,
    access_review,
    data_digest,
    export_html,
    external_references,
    incidents_found,
    plotly_bootstrap_html,
    pseudonym_key,
    pseudonymize,
    report_sections,
)
from auditlab.report.renderer import figure_html, topojson

EXAMPLE = Path(__file__).parent / "data" / "audit_logs_page.example.json"


@pytest.fixture
def example_frame() -> pd.DataFrame:
    return table_to_frame(entries_to_table(json.loads(EXAMPLE.read_text())))


# -- the data digest -------------------------------------------------------------------------


def test_digest_is_sha256_of_the_documented_canonical_lines() -> None:
    df = pd.DataFrame(
        {
            "id": ["alog_b", "alog_a"],
            "created_at": pd.to_datetime(["2026-10-02T08:00:00.000Z", "2026-10-01T07:30:00.500Z"]),
            "action": pd.Categorical(["chat.deleted", "org.updated"]),
            "ip": ["203.0.113.9", None],
        }
    )
    expected = hashlib.sha256(
        b'["id","created_at","action","ip"]\n'
        b'["alog_a","2026-10-01T07:30:00.500000Z","org.updated",null]\n'
        b'["alog_b","2026-10-02T08:00:00.000000Z","chat.deleted","203.0.113.9"]\n'
    ).hexdigest()
    assert data_digest(df) == expected


def test_digest_ignores_row_order_but_not_a_changed_value(example_frame: pd.DataFrame) -> None:
    shuffled = example_frame.iloc[[2, 0, 1]]
    changed = example_frame.copy()
    changed.loc[0, "ip"] = "198.51.100.1"
    assert data_digest(shuffled) == data_digest(example_frame)
    assert data_digest(changed) != data_digest(example_frame)
    assert data_digest(example_frame.iloc[:2]) != data_digest(example_frame)


# -- pseudonyms ------------------------------------------------------------------------------


def test_pseudonyms_are_stable_per_key_and_differ_between_keys() -> None:
    one, same, other = Pseudonymizer(b"k1"), Pseudonymizer(b"k1"), Pseudonymizer(b"k2")
    assert one.email("Lena.Vogel@example.com") == same.email("lena.vogel@example.com")
    assert one.name("Lena Vogel") == same.name("Lena Vogel") != other.name("Lena Vogel")
    assert one.ip("203.0.113.42") != one.ip("203.0.113.43")
    assert "k1" not in repr(one)


def test_pseudonymize_replaces_people_and_addresses_everywhere(
    example_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITLAB_PSEUDONYM_KEY", "test-secret")
    example_frame.loc[1, "assistant_name"] = "Lena Vogel's triage bot"
    out = pseudonymize(example_frame)
    text = out.to_csv()
    for real in (
        "lena.vogel@example.com",
        "Lena Vogel",
        "Omar Haddad",
        "omar.haddad@example.com",
        "203.0.113.42",
        "2001:db8:85a3::8a2e:370:7334",
        "it@example.com",
    ):
        assert real in example_frame.to_csv()
        assert real not in text, real
    assert out["id"].tolist() == example_frame["id"].tolist()
    assert out["org_name"].tolist() == example_frame["org_name"].tolist()
    assert out["actor_id"].tolist() == example_frame["actor_id"].tolist()
    assert out["ip"].isna().tolist() == example_frame["ip"].isna().tolist()
    assert out["actor_name"].nunique() == example_frame["actor_name"].nunique()
    assert (
        out.loc[1, "assistant_name"]
        == f"{Pseudonymizer(b'test-secret').name('Lena Vogel')}'s triage bot"
    )
    assert out["agent"].tolist() == example_frame["agent"].tolist()
    # same dtypes; a categorical's categories are its (now pseudonymous) values
    assert out.dtypes.astype(str).equals(example_frame.dtypes.astype(str))


def test_pseudonym_key_file_is_created_once_private_and_not_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITLAB_PSEUDONYM_KEY", raising=False)
    first = pseudonym_key(tmp_path)
    path = tmp_path / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path) == first
    assert len(first) == 64 and PLANTED_KEY.encode() not in first
    monkeypatch.setenv("AUDITLAB_PSEUDONYM_KEY", "from-env")
    assert pseudonym_key(tmp_path) == b"from-env"


# -- scope: bad input names its parameter ------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"date_from": "2026-02-30"}, "date_from"),
        ({"date_from": "2026-10-02", "date_to": "2026-10-01"}, "date_to"),
        ({"date_from": "2099-01-01"}, "date_from"),
        ({"actions": ["member.role_changed", "member.promoted"]}, "actions"),
        ({"tz": "Europe/Atlantis"}, "tz"),
        ({"org_id": ""}, "org_id"),
        ({"date_from": "2026-10-01", "date_to": "2026-10-31", "history_from": "2026-10-02"},
         "history_from"),
        ({"history_from": "spring"}, "history_from"),
    ],
)
def test_bad_scope_names_the_parameter(arguments: dict, parameter: str) -> None:
    org_id = arguments.pop("org_id", "c")
    with pytest.raises(InvalidQuery) as error:
        Scope.build(org_id, **arguments)
    assert error.value.parameter == parameter


def test_scope_defaults_to_the_90_days_ending_today() -> None:
    scope = Scope.build(today=dt.date(2026, 9, 30))
    assert (scope.date_from, scope.date_to, scope.days) == (
        dt.date(2026, 7, 3),
        dt.date(2026, 9, 30),
        90,
    )
    assert Scope.build(actions=["ALL"]).actions == ()


def test_report_command_rejects_bad_options_before_running(
    sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = sandbox.stats.requests
    out = tmp_path / "r.html"
    assert main(["report", "--base-url", sandbox.base_url, "--tz", "Mars/Base", "--out", str(out)])
    assert main(["report", "--base-url", sandbox.base_url, "--action", "nope", "--out", str(out)])
    assert main(["report", "--from", "2026-09-31", "--out", str(out)]) == 2
    assert main(["report", "--base-url", "http://example.com", "--out", str(out)]) == 2
    late = ["--from", "2026-09-01", "--to", "2026-09-30", "--history-from", "2026-09-02"]
    assert main(["report", "--base-url", sandbox.base_url, *late, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--tz: tz 'Mars/Base'" in err and "--action: action 'nope'" in err
    assert "--from: date_from '2026-09-31'" in err and "--base-url: base_url" in err
    assert "--history-from: history_from (2026-09-02) is after date_from (2026-09-01)" in err
    assert "Traceback" not in err
    assert sandbox.stats.requests == served and not out.exists()


# -- the access review section ---------------------------------------------------------------


def test_access_review_finds_says_what_it_cannot_know_and_what_it_read() -> None:
    entries = [
        entry("2026-09-01T08:00:00Z", "member.joined", None, source="system", member="u1",
              role="OWNER"),
        entry("2026-09-01T08:00:01Z", "member.joined", None, source="system", member="u2",
              role="DEVELOPER"),
        entry("2026-09-10T03:00:00Z", "member.role_changed", "u2", member="u2", role="ADMIN",
              metadata={"previous_role": "DEVELOPER", "new_role": "ADMIN"}),
        entry("2026-09-11T10:00:00Z", "member.role_changed", "u1", member=None,
              metadata={"new_role": 5}),
        entry("2026-09-12T10:00:00Z", "assistant.updated", "u3"),
    ]  # fmt: skip
    scope = Scope.build(date_from="2026-09-05", date_to="2026-09-30", tz="Europe/Berlin")
    review = access_review(frame(entries), scope)
    assert [(f.rule, f.entry_ids) for f in review.findings.itertuples()] == [
        ("grant_by_non_holder", (entries[2]["id"],)),
    ]
    held = review.privileged_shown()[["name", "since", "until", "role_at_period_end"]]
    assert held.values.tolist() == [
        ["Ana Silva", "2026-09-01 10:00", "still held", "OWNER"],
        ["Ben Okafor", "2026-09-10 05:00", "still held", "ADMIN"],
    ]  # fmt: skip
    summary = review.summary_html()
    assert "from 5 entries from the organisation&#x27;s first day" in summary
    assert "The role of 1 member(s) active in the period is unknown" in summary
    assert "1 role-bearing entry could not be read completely" in summary
    assert list(review.tables()) == ["Privileged access", "Leavers", "Role history"]
    lines = review.provenance(frame(entries), base_url="https://api.example", digest="ab")
    assert lines == {
        "Access review query": "GET https://api.example/orgs/c/audit-logs?to=2026-09-30",
        "Access review entries": "5 (oldest / newest, UTC: 2026-09-01 08:00:00 / "
        "2026-09-12 10:00:00)",
        "SHA-256 of the access review's data": "ab",
    }


# -- HTML export -------------------------------------------------------------------------------


def test_external_references_finds_every_kind_of_fetch() -> None:
    page = (
        '<script src="https://cdn.example/require.js"></script>'
        "<link rel='stylesheet' href='//fonts.example/x.css'>"
        "<img src=http://img.example/a.png><style>@import url('https://x.example/y.css');</style>"
        '<script>var s = "<script src=" + x;</script><img src="data:image/png;base64,AAA">'
        '<a href="https://invent.example/docs">docs</a>'
    )
    assert external_references(page) == [
        "https://cdn.example/require.js",
        "//fonts.example/x.css",
        "http://img.example/a.png",
        "https://x.example/y.css",
    ]


def test_export_writes_one_file_without_code_or_cdn_scripts(tmp_path: Path) -> None:
    figure = go.Figure(go.Bar(x=["a"], y=[1]))
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("## Where from"),
            nbformat.v4.new_code_cell(
                "secret_code_marker = 1",
                outputs=[
                    nbformat.v4.new_output("display_data", data={"text/html": figure_html(figure)})
                ],
            ),
        ]
    )
    html = export_html(nb, tmp_path / "x.html", title="X").read_text()
    assert "secret_code_marker" not in html
    assert "require.js" not in html and "mathjax" not in html.lower()
    assert external_references(html) == []
    assert html.count('class="plotly-graph-div"') == 1


def test_export_refuses_a_page_that_would_fetch_from_the_network(tmp_path: Path) -> None:
    remote = '<script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script>'
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "", outputs=[nbformat.v4.new_output("display_data", data={"text/html": remote})]
            )
        ]
    )
    with pytest.raises(ReportFailed, match=r"cdn\.plot\.ly"):
        export_html(nb, tmp_path / "x.html", title="X")
    assert not (tmp_path / "x.html").exists()


def test_bootstrap_sets_the_bundled_outlines_before_plotly_js() -> None:
    bootstrap = plotly_bootstrap_html()
    outlines = json.loads(topojson("world_110m"))
    assert outlines["type"] == "Topology" and "countries" in outlines["objects"]
    assert bootstrap.index("window.PlotlyGeoAssets") < bootstrap.index("plotly.js v4.1.1")
    assert bootstrap.count("plotly.js v4.1.1") == 1
    assert external_references(bootstrap) == []


# -- findings read back from a report ----------------------------------------------------------


def test_incidents_are_looked_for_in_their_own_section() -> None:
    page = (
        '<h2 id="x">5. Where from<a class="anchor-link" href="#x">¶</a></h2>'
        "<table><td>alog_t1</td><td>alog_t2</td><td>alog_s1</td></table>"
        "<h2>6. Sensitive events</h2><table><td>alog_s2</td></table>"
    )

    class Incident:
        def __init__(self, kind: str, *ids: str) -> None:
            self.kind, self.entry_ids = kind, ids

    findings = incidents_found(
        page,
        [
            Incident("impossible_travel", "alog_t1", "alog_t2"),
            Incident("deletion_burst", "alog_s1", "alog_s2"),
        ],
    )
    assert [(f.kind, f.section, f.found, f.missing) for f in findings] == [
        ("impossible_travel", "Where from", True, ()),
        ("deletion_burst", "Sensitive events", False, ("alog_s1",)),
    ]
    assert list(report_sections(page)) == ["Where from", "Sensitive events"]


def test_a_file_holding_the_api_key_is_refused(tmp_path: Path) -> None:
    from auditlab.report.run import _refuse_secrets

    leaky, clean = tmp_path / "leaky.html", tmp_path / "clean.html"
    leaky.write_text(f"<p>{PLANTED_KEY}</p>")
    clean.write_text("<p>nothing to see</p>")
    _refuse_secrets(clean, None)
    with pytest.raises(ReportFailed, match="would contain the API key") as error:
        _refuse_secrets(leaky, None)
    assert PLANTED_KEY not in str(error.value)
    with pytest.raises(ReportFailed):
        _refuse_secrets(clean, {"INVENT_API_KEY": "nothing to see"})


# -- rules, baseline and exports: refused early, written safely ---------------------------------


def test_bad_rules_baseline_or_missing_chromium_are_refused_before_any_request(
    sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = sandbox.stats.requests
    out = tmp_path / "r.html"
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules.mass_deletion]\nseverity = 'high'\nburst = 1\nwindow = '10min'\n")
    baseline = tmp_path / "old.findings.json"
    baseline.write_text('{"format": "something else"}')
    common = ["report", "--base-url", sandbox.base_url, "--out", str(out)]
    assert main([*common, "--rules", str(rules)]) == 2
    assert main([*common, "--baseline", str(baseline)]) == 2
    monkeypatch.setenv("AUDITLAB_CHROMIUM", str(tmp_path / "no-chromium"))
    assert main([*common, "--pdf", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert "--rules: rules file" in err and "rules.mass_deletion.burst = 1" in err
    assert "a whole number >= 2" in err
    assert "--baseline: baseline" in err and "is not an auditlab findings file" in err
    assert "no Chromium at" in err and "AUDITLAB_CHROMIUM" in err
    assert "Traceback" not in err
    assert sandbox.stats.requests == served and set(tmp_path.iterdir()) == {rules, baseline}


def _findings_table() -> pd.DataFrame:
    from helpers import entry, frame

    from auditlab.analysis import findings

    df = frame([
        entry("2026-10-01T10:00:00Z", "api_key.created", "u1"),
        entry("2026-10-01T11:00:00Z", "org.transferred", "u2"),
    ])  # fmt: skip
    df["actor_name"] = df["actor_name"].astype("str").str.replace("Ben Okafor", "=HYPERLINK(1)")
    return findings(df)


def test_findings_file_round_trips_to_baseline_keys_and_marks_what_is_new(tmp_path: Path) -> None:
    from auditlab.analysis.findings import finding_keys
    from auditlab.report import findings_path, mark_new, read_baseline, write_findings

    found = _findings_table()
    path = write_findings(findings_path(tmp_path / "q3.html"), found, {"from": "2026-10-01"})
    assert path.name == "q3.findings.json"
    document = json.loads(path.read_text())
    assert document["report"] == {"from": "2026-10-01"}
    assert [f["rule"] for f in document["findings"]] == found["rule"].tolist()
    assert document["findings"][0]["first"].endswith("Z")
    assert read_baseline(path) == set(finding_keys(found))
    older = found[found["rule"] != "org_change"]
    write_findings(tmp_path / "old.findings.json", older, {})
    marked = mark_new(found, read_baseline(tmp_path / "old.findings.json"))
    assert marked.loc[marked["is_new"], "rule"].tolist() == ["org_change"]
    for bad, problem in [("[1, 2", "is not JSON"), ('{"format": "auditlab-findings", '
                         '"version": 1, "findings": [{"rule": "x"}]}', "findings[0] needs")]:
        (tmp_path / "bad.json").write_text(bad)
        with pytest.raises(InvalidQuery, match=re.escape(problem)) as error:
            read_baseline(tmp_path / "bad.json")
        assert error.value.parameter == "baseline"


def test_workbook_has_a_sheet_per_part_and_keeps_formulas_as_text(tmp_path: Path) -> None:
    import openpyxl

    from auditlab.report import write_workbook

    found = _findings_table()
    path = write_workbook(tmp_path / "r.xlsx", found, provenance={"Query": "@SUM(A1)"}, tz="UTC")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Findings", *dict.fromkeys(found["rule"]), "Actors", "Provenance"]
    assert book["Findings"].max_row == len(found) + 1
    values = [c.value for row in book["Findings"].iter_rows() for c in row]
    assert "'=HYPERLINK(1)" in values and not any(str(v).startswith("=") for v in values)
    assert [c.value for c in book["Provenance"][2]] == ["Query", "'@SUM(A1)"]
    assert all(c.data_type != "f" for sheet in book for row in sheet.iter_rows() for c in row)
