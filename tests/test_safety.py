"""auditlab.safety and where it applies: what people see, what spreadsheets open."""

from __future__ import annotations

import csv
import io
import sys
import types
import unicodedata

import pandas as pd
import pytest
from helpers import entry, frame

import auditlab.analysis as analysis
from auditlab.analysis.figures import CHART_TEXT_LIMIT, chart_text
from auditlab.errors import InvalidQuery
from auditlab.report.present import TABLE_TEXT_LIMIT, report_table
from auditlab.report.renderer import show_text_safely
from auditlab.safety import (
    csv_safe,
    display_frame,
    display_text,
    formula_safe,
    frame_html,
    reveal_controls,
    shorten,
    to_csv,
)

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _marker(char: str) -> str:
    return f"⟨U+{ord(char):04X}⟩"


def test_every_bidi_control_and_zero_width_character_is_shown_as_its_code_point() -> None:
    for char in BIDI_CONTROLS + ZERO_WIDTH:
        assert reveal_controls(f"a{char}b") == f"a{_marker(char)}b"
    assert reveal_controls("Mallory\u202egnp.exe") == "Mallory⟨U+202E⟩gnp.exe"


def test_every_format_and_control_character_unicode_knows_is_shown() -> None:
    hidden = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf"
        or (unicodedata.category(chr(c)) == "Cc" and chr(c) not in "\t\n")
    ]
    assert len(hidden) > 200
    assert [c for c in hidden if reveal_controls(c) != _marker(c)] == []


def test_visible_text_of_any_script_is_left_alone() -> None:
    names = ["Zoë Ng", "王小明", "محمد علي", "שרה כהן", "Ana\tSilva\nline two", "🙂 ok", "a&b <c>"]
    assert [reveal_controls(n) for n in names] == names


def test_shorten_keeps_the_first_characters_and_says_how_many_were_left_out() -> None:
    assert shorten("a" * 100_000) == "a" * 300 + "… [99,700 more characters]"
    assert shorten("a" * 300) == "a" * 300
    assert shorten("abcdef", limit=2) == "ab… [4 more characters]"
    with pytest.raises(InvalidQuery) as raised:
        shorten("abc", limit=-1)
    assert raised.value.parameter == "limit"


def test_display_text_counts_the_characters_as_sent_and_leaves_other_values() -> None:
    assert display_text("\u202e" * 400, limit=2) == "⟨U+202E⟩⟨U+202E⟩… [398 more characters]"
    assert display_text(None) is None and display_text(3.5) == 3.5


def test_display_frame_changes_text_cells_and_labels_of_a_copy_only() -> None:
    df = pd.DataFrame(
        {
            "name": pd.Series(["Mallory\u202egnp.exe", "Ana", None], dtype="str"),
            "agent": pd.Series(["x" * 500, "Firefox", "Firefox"], dtype="category"),
            "mixed": pd.Series([1, "b\u200b", None], dtype=object),
            "events": [1, 2, 3],
        }
    ).set_axis(["u\u202e1", "u2", "u3"])
    before = df.copy()
    shown = display_frame(df)
    pd.testing.assert_frame_equal(df, before)
    assert shown["name"].tolist()[:2] == ["Mallory⟨U+202E⟩gnp.exe", "Ana"]
    assert pd.isna(shown["name"].iloc[2])
    assert shown["agent"].tolist()[0] == "x" * 300 + "… [200 more characters]"
    assert shown["mixed"].tolist()[:2] == [1, "b⟨U+200B⟩"]
    assert shown["events"].tolist() == [1, 2, 3]
    assert shown.index.tolist() == ["u⟨U+202E⟩1", "u2", "u3"]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_csv_safe_puts_a_quote_before_each_formula_start(start: str) -> None:
    df = pd.DataFrame({"name": [f"{start}1+1", "Ana"]})
    assert csv_safe(df)["name"].tolist() == [f"'{start}1+1", "Ana"]


def test_csv_safe_keeps_numbers_times_and_missing_values_as_they_are() -> None:
    df = pd.DataFrame(
        {
            "count": [-2, 3],
            "ratio": [-0.5, float("nan")],
            "flag": pd.array([True, None], dtype="boolean"),
            "at": pd.to_datetime(["2026-11-18T15:30:00Z", None], utc=True),
            "name": pd.Series(["-2+3", None], dtype="str"),
        }
    )
    safe = csv_safe(df)
    for column in ("count", "ratio", "flag", "at"):
        pd.testing.assert_series_equal(safe[column], df[column])
    assert safe["name"].iloc[0] == "'-2+3" and pd.isna(safe["name"].iloc[1])
    assert to_csv(df).splitlines()[1] == "-2,-0.5,True,2026-11-18 15:30:00+00:00,'-2+3"


def test_csv_safe_escapes_categories_objects_and_column_names() -> None:
    df = pd.DataFrame(
        {
            "agent": pd.Series(["@SUM(1)", "Firefox", "@SUM(1)"], dtype="category"),
            "mixed": pd.Series(["=1", 7, None], dtype=object),
            "=cmd": ["a", "b", "c"],
        }
    )
    safe = csv_safe(df)
    assert safe["agent"].tolist() == ["'@SUM(1)", "Firefox", "'@SUM(1)"]
    assert isinstance(safe["agent"].dtype, pd.CategoricalDtype)
    assert safe["mixed"].tolist() == ["'=1", 7, None]
    assert safe.columns.tolist() == ["agent", "mixed", "'=cmd"]
    assert df["agent"].tolist()[0] == "@SUM(1)"


def test_categories_that_collide_once_escaped_become_plain_text_cells() -> None:
    df = pd.DataFrame({"agent": pd.Series(["=1", "'=1"], dtype="category")})
    assert csv_safe(df)["agent"].tolist() == ["'=1", "'=1"]


def test_csv_keeps_a_carriage_return_inside_its_cell() -> None:
    df = pd.DataFrame({"name": ["\r=1+1", "a\rb"], "n": [1, 2]})
    rows = list(csv.reader(io.StringIO(to_csv(df), newline="")))
    assert rows == [["name", "n"], ["'\r=1+1", "1"], ["a\rb", "2"]]
    assert pd.read_csv(io.StringIO(to_csv(df, raw=True), newline=""))["name"].tolist() == [
        "\r=1+1",
        "a\rb",
    ]


def test_to_csv_writes_a_file_and_raw_keeps_text_as_sent(tmp_path) -> None:
    df = pd.DataFrame({"name": ["@SUM(A1)", "Ana"]})
    assert to_csv(df, tmp_path / "safe.csv") is None
    assert (tmp_path / "safe.csv").read_bytes() == b"name\r\n'@SUM(A1)\r\nAna\r\n"
    assert to_csv(df, raw=True) == "name\r\n@SUM(A1)\r\nAna\r\n"
    assert formula_safe(-1) == -1


def test_notebook_shows_frames_and_series_with_controls_revealed() -> None:
    from IPython.core.formatters import DisplayFormatter

    shell = types.SimpleNamespace(display_formatter=DisplayFormatter())
    assert show_text_safely(shell) is True
    df = pd.DataFrame({"actor_name": ["Mallory\u202egnp.exe"] * 100, "events": range(100)})
    shown, _ = shell.display_formatter.format(df)
    assert "Mallory⟨U+202E⟩gnp.exe" in shown["text/html"]
    assert "\u202e" not in shown["text/html"]
    assert "100 rows × 2 columns" in shown["text/html"]
    counts, _ = shell.display_formatter.format(df["actor_name"].value_counts())
    assert "Mallory⟨U+202E⟩gnp.exe" in counts["text/plain"] and "\u202e" not in counts["text/plain"]


def test_frame_html_formats_only_what_pandas_shows() -> None:
    df = pd.DataFrame({"name": ["<b>\u200b</b>"] * 1000})
    html = frame_html(df)
    assert html.count("&lt;b&gt;⟨U+200B⟩&lt;/b&gt;") == pd.get_option("display.min_rows")
    assert "1000 rows × 1 columns" in html


def _hostile_week() -> pd.DataFrame:
    rows = [entry("2026-10-01T09:00:00Z", actor=f"u{n}") for n in range(4)]
    names = [
        "Mallory\u202egnp.exe",
        '<a href="https://attacker.example/">Ana</a>',
        "=" + "W" * 99_999,
        "Ben\u200b",
    ]
    for row, name in zip(rows, names, strict=True):
        row["actor"] = {**row["actor"], "name": name}
    return frame(rows)


def test_chart_labels_show_controls_cut_long_names_and_escape_plotly_tags() -> None:
    df = _hostile_week()
    labels = analysis.actor_breakdown_chart(df).data[0].y
    assert "Mallory⟨U+202E⟩gnp.exe" in labels and "Ben⟨U+200B⟩" in labels
    assert '&lt;a href="https://attacker.example/"&gt;Ana&lt;/a&gt;' in labels
    assert "=" + "W" * 49 + "… [99,950 more characters]" in labels
    assert all("\u202e" not in y and "<" not in y and len(y) < 130 for y in labels)
    names = [t.name for t in analysis.timeline_chart(df, by="actor_name").data]
    assert "Mallory⟨U+202E⟩gnp.exe" in names and all("<" not in n for n in names)
    heatmap = analysis.actor_action_matrix_chart(df).data[0]
    assert sorted(heatmap.y) == sorted(labels)


def test_chart_text_is_cut_at_the_chart_limit_and_keeps_numbers() -> None:
    left_out = 500 - CHART_TEXT_LIMIT
    assert chart_text("x" * 500) == "x" * CHART_TEXT_LIMIT + f"… [{left_out} more characters]"
    assert chart_text(7) == 7


def test_report_tables_show_controls_and_cut_long_text() -> None:
    df = pd.DataFrame({"actor_name": ["Mallory\u202egnp.exe", "<script>x</script>", "y" * 1000]})
    html = report_table(df, empty="none")
    assert "Mallory⟨U+202E⟩gnp.exe" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "y" * TABLE_TEXT_LIMIT + f"… [{1000 - TABLE_TEXT_LIMIT} more characters]" in html
    assert "\u202e" not in html and "<script>" not in html
