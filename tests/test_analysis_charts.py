"""The analysis charts: plotly Figures with the expected traces, one theme, "no events"."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from helpers import SAMPLE_ENTRIES, frame

import auditlab.analysis as analysis
from auditlab.analysis.figures import label, theme
from auditlab.frame import empty_frame

SAMPLE = frame(SAMPLE_ENTRIES)
CHARTS = [
    "timeline_chart", "user_chart", "action_chart", "user_action_heatmap", "country_map",
    "ip_chart",
]  # fmt: skip


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


def test_the_user_chart_sets_events_beside_sensitive_events_for_the_top_actors():
    figure = analysis.user_chart(SAMPLE, top=2)
    assert [(t.type, t.name) for t in figure.data] == [
        ("bar", "Events"), ("bar", "Sensitive events"),
    ]  # fmt: skip
    assert list(figure.data[0].y) == ["Ana Silva", "Chen Wei"]
    assert list(figure.data[0].x) == [3, 3] and list(figure.data[1].x) == [0, 1]


def test_the_action_chart_is_a_treemap_of_categories_and_their_actions():
    (treemap,) = analysis.action_chart(SAMPLE).data
    assert treemap.type == "treemap"
    assert len(treemap.ids) == 7 + 8
    parents = dict(zip(treemap.ids, treemap.parents, strict=True))
    assert parents["agent/agent.summoned"] == "agent" and parents["agent"] == ""
    values = dict(zip(treemap.ids, treemap.values, strict=True))
    assert values["assistant"] == 2 and values["assistant/assistant.updated"] == 1


def test_the_heatmap_shows_the_matrix_with_actor_names():
    (heatmap,) = analysis.user_action_heatmap(SAMPLE).data
    matrix = analysis.user_action_matrix(SAMPLE)
    assert heatmap.type == "heatmap"
    assert list(heatmap.y) == ["Ana Silva", "Chen Wei", "Ben Okafor"]
    assert list(heatmap.x) == matrix.columns.tolist()
    assert heatmap.z.tolist() == matrix.to_numpy().tolist()


def test_the_country_map_is_a_choropleth_over_iso3_codes():
    (choropleth,) = analysis.country_map(SAMPLE).data
    assert choropleth.type == "choropleth" and choropleth.locationmode == "ISO-3"
    assert dict(zip(choropleth.locations, choropleth.z, strict=True)) == {
        "DEU": 3, "FRA": 2, "JPN": 1, "USA": 1,
    }  # fmt: skip


def test_the_ip_chart_sets_private_addresses_apart():
    figure = analysis.ip_chart(SAMPLE)
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
    import auditlab  # noqa: F401  (registers df.audit)

    assert getattr(SAMPLE.audit, name)().to_json() == getattr(analysis, name)(SAMPLE).to_json()
