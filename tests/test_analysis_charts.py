"""The analysis charts: plotly Figures with the expected traces, one theme, "no events",
and one vocabulary of names and keywords."""

from __future__ import annotations

import inspect

import pandas as pd
import plotly.graph_objects as go
import pytest
from helpers import SAMPLE_ENTRIES, entry, frame

import auditlab.analysis as analysis
from auditlab.actions import ACTIONS
from auditlab.analysis import TOP
from auditlab.analysis.figures import SHARED, label, theme
from auditlab.analysis.renamed import RENAMED
from auditlab.errors import InvalidQuery
from auditlab.frame import empty_frame

SAMPLE = frame(SAMPLE_ENTRIES)
CHARTS = [name for name in analysis.__all__ if name.endswith("_chart")]
# The charts that show only the busiest rows (the actions' bars and the map show every one).
RANKING_CHARTS = ["actor_breakdown_chart", "actor_action_matrix_chart", "ip_summary_chart"]
SHARED_KEYWORDS = ["since", "until", "tz", "title", "labels", "template", "width", "height"]


def test_the_timeline_stacks_one_bar_series_per_category_with_a_range_slider():
    figure = analysis.timeline_chart(SAMPLE)
    assert isinstance(figure, go.Figure)
    assert [t.type for t in figure.data] == ["bar"] * 7
    assert {t.name for t in figure.data} == {
        "agent", "api_key", "assistant", "connection", "member", "org", "workflow",
    }  # fmt: skip
    assert sum(sum(t.y) for t in figure.data) == len(SAMPLE_ENTRIES)
    assert figure.layout.barmode == "stack"
    assert figure.layout.xaxis.rangeslider.visible is True
    assert figure.layout.title.text == "Events per day by category"
    assert figure.layout.yaxis.title.text == label("events") == "Events"


def test_the_timeline_without_by_is_one_series_per_period_in_the_time_zone():
    figure = analysis.timeline_chart(SAMPLE, freq="W", by=None, tz="Asia/Tokyo")
    assert len(figure.data) == 1 and list(figure.data[0].y) == [6, 2]
    assert figure.layout.title.text == "Events per week"


def test_the_actor_breakdown_chart_sets_events_beside_sensitive_events_for_the_top_actors():
    figure = analysis.actor_breakdown_chart(SAMPLE, top=2)
    assert [(t.type, t.name) for t in figure.data] == [
        ("bar", "Events"), ("bar", "Sensitive events"),
    ]  # fmt: skip
    assert list(figure.data[0].y) == ["Ana Silva", "Chen Wei"]
    assert list(figure.data[0].x) == [3, 3] and list(figure.data[1].x) == [0, 1]


def test_the_action_breakdown_chart_ranks_every_action_coloured_by_category():
    figure = analysis.action_breakdown_chart(SAMPLE)
    assert {t.type for t in figure.data} == {"bar"}
    assert {t.name for t in figure.data} == {
        "agent", "api_key", "assistant", "connection", "member", "org", "workflow",
    }  # fmt: skip
    shown = {action: events for t in figure.data for action, events in zip(t.y, t.x, strict=True)}
    assert shown == {e["action"]: 1 for e in SAMPLE_ENTRIES}
    assert list(figure.layout.yaxis.categoryarray) == analysis.action_breakdown(SAMPLE, None)[
        "action"
    ].tolist()


def test_category_axes_label_every_category_and_make_room_for_them():
    figure = analysis.action_breakdown_chart(frame([
        entry("2026-10-01T08:00:00Z", action) for action in sorted(ACTIONS)
    ]))  # fmt: skip
    assert (figure.layout.yaxis.tickmode, figure.layout.yaxis.dtick) == ("linear", 1)
    assert figure.layout.height == 24 * len(ACTIONS) + 170
    assert analysis.action_breakdown_chart(SAMPLE).layout.height == 450
    assert analysis.action_breakdown_chart(SAMPLE, height=300).layout.height == 300
    heatmap = analysis.actor_action_matrix_chart(SAMPLE)
    assert heatmap.layout.xaxis.tickmode == heatmap.layout.yaxis.tickmode == "linear"
    for chart in ("actor_breakdown_chart", "ip_summary_chart"):
        assert getattr(analysis, chart)(SAMPLE).layout.yaxis.dtick == 1


def test_the_map_draws_land_coastlines_and_borders_around_the_countries_with_events():
    geo = analysis.country_summary_chart(SAMPLE).layout.geo
    assert geo.showland and geo.showcoastlines and geo.showcountries
    assert geo.landcolor == "#e5e7eb" and geo.projection.type == "natural earth"


def test_the_heatmap_shows_the_matrix_with_actor_names():
    (heatmap,) = analysis.actor_action_matrix_chart(SAMPLE).data
    matrix = analysis.actor_action_matrix(SAMPLE)
    assert heatmap.type == "heatmap"
    assert list(heatmap.y) == ["Ana Silva", "Chen Wei", "Ben Okafor"]
    assert list(heatmap.x) == matrix.columns.tolist()
    assert heatmap.z.tolist() == matrix.to_numpy().tolist()


def test_the_country_summary_chart_is_a_choropleth_over_iso3_codes():
    (choropleth,) = analysis.country_summary_chart(SAMPLE).data
    assert choropleth.type == "choropleth" and choropleth.locationmode == "ISO-3"
    assert dict(zip(choropleth.locations, choropleth.z, strict=True)) == {
        "DEU": 3, "FRA": 2, "JPN": 1, "USA": 1,
    }  # fmt: skip


def test_the_ip_summary_chart_sets_private_addresses_apart():
    figure = analysis.ip_summary_chart(SAMPLE)
    assert [(t.type, t.name) for t in figure.data] == [
        ("bar", "public or unknown"), ("bar", "private network"),
    ]  # fmt: skip
    assert list(figure.data[1].y) == ["10.0.0.5"]
    assert sum(len(t.y) for t in figure.data) == 4


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_shares_the_theme(name):
    figure = getattr(analysis, name)(SAMPLE)
    assert figure.layout.template.layout.colorway == go.Figure(
        layout={"template": theme()}
    ).layout.template.layout.colorway
    assert figure.layout.title.text


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_of_an_empty_frame_says_no_events(name):
    figure = getattr(analysis, name)(empty_frame())
    assert isinstance(figure, go.Figure)
    assert len(figure.data) == 0
    assert figure.layout.title.text.endswith("no events")
    assert [a.text for a in figure.layout.annotations] == ["no events"]


@pytest.mark.parametrize("name", CHARTS)
def test_the_accessor_draws_the_same_figure(name):
    assert getattr(SAMPLE.audit, name)().to_json() == getattr(analysis, name)(SAMPLE).to_json()


def test_every_table_has_its_chart_named_after_it():
    assert sorted(CHARTS) == [
        "access_history_chart", "action_breakdown_chart", "actor_action_matrix_chart",
        "actor_breakdown_chart", "country_summary_chart", "ip_summary_chart",
        "privileged_access_chart", "timeline_chart",
    ]  # fmt: skip
    assert all(name.removesuffix("_chart") in analysis.__all__ for name in CHARTS)


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_takes_the_shared_keywords_by_keyword_with_their_defaults(name):
    parameters = inspect.signature(getattr(analysis, name)).parameters
    assert next(iter(parameters)) == "df"
    for keyword in SHARED_KEYWORDS:
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY, keyword
        assert parameters[keyword].default == SHARED[keyword], keyword


@pytest.mark.parametrize("name", RANKING_CHARTS)
def test_every_ranking_chart_and_its_table_share_one_top_default(name):
    for function in (name, name.removesuffix("_chart")):
        assert inspect.signature(getattr(analysis, function)).parameters["top"].default == TOP
    assert TOP == 20


@pytest.mark.parametrize("name", ["action_breakdown", "country_summary"])
def test_tables_that_rank_take_top_even_where_their_chart_shows_every_row(name):
    parameters = inspect.signature(getattr(analysis, name)).parameters
    assert parameters["top"].default == TOP
    assert "top" not in inspect.signature(getattr(analysis, f"{name}_chart")).parameters
    assert len(getattr(analysis, name)(SAMPLE, top=2)) == 2


def test_only_the_timeline_takes_by():
    takes_by = [
        name for name in analysis.__all__
        if "by" in inspect.signature(getattr(analysis, name)).parameters
    ]  # fmt: skip
    assert takes_by == ["timeline", "timeline_chart"]


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_applies_title_size_template_and_labels(name):
    figure = getattr(analysis, name)(
        SAMPLE, title="Mine", width=640, height=480, template="plotly_dark",
        labels={"events": "Entries", "action_category": "Kind", "actor_name": "Person"},
    )  # fmt: skip
    assert figure.layout.title.text == "Mine"
    assert (figure.layout.width, figure.layout.height) == (640, 480)
    assert figure.layout.template.layout.paper_bgcolor == go.Figure(
        layout={"template": "plotly_dark"}
    ).layout.template.layout.paper_bgcolor
    shown = {figure.layout.xaxis.title.text, figure.layout.yaxis.title.text}
    shown.add(figure.layout.legend.title.text)
    assert not shown & {"Events", "Category", "Actor"}


def test_labels_rename_axes_legend_and_series():
    figure = analysis.actor_breakdown_chart(SAMPLE, labels={"events": "Entries"})
    assert figure.layout.xaxis.title.text == "Entries"
    assert [t.name for t in figure.data] == ["Entries", "Sensitive events"]
    timeline = analysis.timeline_chart(SAMPLE, labels={"action_category": "Kind"})
    assert timeline.layout.legend.title.text == "Kind"
    assert timeline.layout.title.text == "Events per day by kind"


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_states_its_window_in_its_time_zone(name):
    figure = getattr(analysis, name)(
        SAMPLE, since="2026-10-01", until="2026-10-09", tz="Asia/Tokyo"
    )
    assert figure.layout.title.subtitle.text == "2026-10-01 09:00 to 2026-10-10 08:59 Asia/Tokyo"
    assert getattr(analysis, name)(SAMPLE).layout.title.subtitle.text in (None, "")


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_rejects_a_bad_shared_keyword_naming_it(name):
    bad = [({"tz": "Mars/Olympus"}, "tz"), ({"width": 0}, "width"),
           ({"height": "tall"}, "height"), ({"since": "soon"}, "since")]  # fmt: skip
    for keywords, parameter in bad:
        with pytest.raises(InvalidQuery) as raised:
            getattr(analysis, name)(SAMPLE, **keywords)
        assert raised.value.parameter == parameter


@pytest.mark.parametrize("name", RANKING_CHARTS)
def test_top_none_keeps_every_row_and_a_bad_top_is_refused(name):
    assert getattr(analysis, name)(SAMPLE, top=None).to_json() == getattr(analysis, name)(
        SAMPLE, top=100
    ).to_json()
    with pytest.raises(InvalidQuery) as raised:
        getattr(analysis, name)(SAMPLE, top=0)
    assert raised.value.parameter == "top"


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_old_names_still_work_for_one_release_with_a_deprecation_warning(old, new):
    with pytest.warns(DeprecationWarning, match=f"use auditlab.analysis.{new}"):
        result = getattr(analysis, old)(SAMPLE)
    with pytest.warns(DeprecationWarning, match=f"use df.audit.{new}"):
        method = getattr(SAMPLE.audit, old)()
    expected = getattr(analysis, new)(SAMPLE)
    if isinstance(expected, go.Figure):
        assert result.to_json() == method.to_json() == expected.to_json()
    else:
        pd.testing.assert_frame_equal(result, expected)
        pd.testing.assert_frame_equal(method, expected)
