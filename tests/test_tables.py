"""The shared table component: escaped plain tables, DataTables past a page, offline."""

from __future__ import annotations

import re

import pandas as pd

from auditlab.report import external_references
from auditlab.tables import PAGE_LENGTH, datatables_html, table_html


def rows(html: str) -> int:
    return len(re.findall(r"<tr>", html)) - 1  # the header row


def test_a_short_table_is_plain_escaped_html_in_a_box_that_scrolls_sideways():
    df = pd.DataFrame({"who": ["<script>alert(1)</script>", None], "n": [1234, 5]})
    html = table_html(df, caption="Actors & <more>")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<caption>Actors &amp; &lt;more&gt;</caption>" in html
    assert "<td>1,234</td>" in html and "<td>—</td>" in html
    assert 'style="overflow-x:auto;max-width:100%"' in html
    assert "auditlab-datatable" not in html and "<script" not in html
    assert rows(html) == 2


def test_a_table_longer_than_a_page_keeps_every_row_and_becomes_a_datatable():
    df = pd.DataFrame({"n": range(PAGE_LENGTH + 1)})
    html = table_html(df)
    assert rows(html) == PAGE_LENGTH + 1
    assert "auditlab-datatable" in html and '"pageLength": 15' in html
    assert html.count('<script type="module">') == 1
    assert rows(table_html(df.head(PAGE_LENGTH))) == PAGE_LENGTH
    assert "auditlab-datatable" not in table_html(df.head(PAGE_LENGTH))
    assert '"pageLength": 50' in table_html(pd.DataFrame({"n": range(60)}), page_length=50)


def test_text_cells_show_hidden_controls_and_long_values_cut_ids_joined_times_plain():
    df = pd.DataFrame({
        "name": ["Ana\u202eredli", "x" * 400],
        "ids": [("alog_1", "alog_2"), ("alog_3",)],
        "at": pd.to_datetime(["2026-10-01T08:00:00Z", "2026-10-02T09:30:00Z"]),
    })  # fmt: skip
    html = table_html(df)
    assert "Ana⟨U+202E⟩redli" in html and "\u202e" not in html
    assert "… [100 more characters]" in html and "x" * 301 not in html
    assert "<td>alog_1, alog_2</td>" in html and "<td>2026-10-02 09:30:00</td>" in html


def test_the_datatables_bundle_is_embedded_and_loads_nothing_from_the_network():
    bundle = datatables_html()
    assert external_references(bundle) == []
    assert "http://" not in bundle.split("atob(")[0] and len(bundle) > 500_000
