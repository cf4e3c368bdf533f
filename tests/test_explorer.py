"""The explorer: its pickers filter the frame, offer what the others leave, and redraw.

Here the widgets run without a frontend (no kernel): what they hold is read
from the pickers, ``matching`` and ``figures``. Drawing in a browser is
tested in test_explore_jupyterlab.py.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets
import pytest
from helpers import SAMPLE_ENTRIES, entry, frame, person

import auditlab
from auditlab.explorer import EVERY, Explorer, explore
from auditlab.frame import empty_frame

SAMPLE = frame(SAMPLE_ENTRIES)  # 8 events, 2026-10-01 to 2026-10-09


def labels(explorer: Explorer, picker: str) -> list[str]:
    """Return the labels a picker offers, in order."""
    return [label for label, _ in explorer.pickers[picker].options]


def ids(explorer: Explorer) -> set[str]:
    return set(explorer.matching["id"])


def test_it_opens_on_everything_with_every_picker_at_any_and_the_whole_period() -> None:
    explorer = explore(SAMPLE)
    assert len(explorer.matching) == 8
    assert [explorer.pickers[name].value for name in ("actor", "ip", "category", "action")] == [
        EVERY
    ] * 4
    assert explorer.pickers["period"].value == (dt.date(2026, 10, 1), dt.date(2026, 10, 9))
    assert labels(explorer, "actor") == [
        "Every actor (8 events)",
        "Ana Silva <ana@example.com> · 3",
        "Chen Wei <chen@example.com> · 3",
        "Ben Okafor <ben@example.com> · 1",
    ]
    assert explorer.figures["timeline"].layout.title.text == "Events per day: everything"


def test_picking_an_actor_keeps_their_events_and_offers_only_their_addresses() -> None:
    explorer = explore(SAMPLE)
    explorer.pickers["actor"].value = "u3"  # as a click in the dropdown sets it
    assert ids(explorer) == set(SAMPLE.loc[SAMPLE["actor_id"] == "u3", "id"])
    assert labels(explorer, "ip") == [
        "Every IP address (3 events)", "198.51.100.7 · 2", "203.0.113.9 · 1",
    ]  # fmt: skip
    # the actor picker still lists everyone: it leaves itself out of its own counts
    assert len(labels(explorer, "actor")) == 4
    assert explorer.figures["timeline"].layout.title.text == "Events per day: Chen Wei"
    assert explorer.figures["map"].layout.title.text == "Events by country: Chen Wei"


def test_a_category_narrows_the_actions_offered_to_its_own() -> None:
    explorer = explore(SAMPLE).select(category="assistant")
    assert labels(explorer, "action") == [
        "Every action (2 events)", "assistant.created · 1", "assistant.updated · 1",
    ]  # fmt: skip
    assert ids(explorer) == set(SAMPLE.loc[SAMPLE["action_category"] == "assistant", "id"])


def test_the_period_keeps_whole_utc_days() -> None:
    explorer = explore(SAMPLE).select(period=(dt.date(2026, 10, 2), dt.date(2026, 10, 3)))
    assert sorted(explorer.matching["created_at"].dt.strftime("%m-%d %H:%M")) == [
        "10-02 10:00", "10-02 11:00", "10-03 12:00",
    ]  # fmt: skip
    assert explorer.figures["timeline"].layout.title.subtitle.text == (
        "2026-10-02 00:00 to 2026-10-03 23:59 UTC"
    )


def test_a_picked_value_the_others_exclude_stays_picked_and_matches_nothing() -> None:
    explorer = explore(SAMPLE).select(ip="10.0.0.5")  # only Ana used it
    explorer.select(actor="u3")
    assert explorer.pickers["ip"].value == "10.0.0.5"
    assert explorer.pickers["ip"].label == "10.0.0.5 · 0"
    assert explorer.matching.empty
    assert explorer.figures["actors"].layout.title.text.endswith("no events")


def test_show_everything_clears_every_picker_and_the_search_but_the_period() -> None:
    explorer = explore(SAMPLE).select(
        actor="u1", category="assistant", period=(dt.date(2026, 10, 1), dt.date(2026, 10, 1)),
        text="ana",
    )  # fmt: skip
    assert len(explorer.matching) == 2
    (button,) = [w for w in _descendants(explorer.panel) if isinstance(w, ipywidgets.Button)]
    button.click()
    assert [
        explorer.pickers[name].value for name in ("actor", "ip", "category", "action", "text")
    ] == [EVERY] * 5
    assert len(explorer.matching) == 3  # the three events of 1 October


def test_the_search_box_keeps_the_events_holding_the_text_and_narrows_the_pickers() -> None:
    explorer = explore(SAMPLE)
    explorer.pickers["text"].value = "CHEN@example"  # as pressing Enter in the box sets it
    assert ids(explorer) == set(SAMPLE.audit.search("chen@example")["id"])
    assert len(explorer.matching) == 3
    assert labels(explorer, "actor") == [
        "Every actor (3 events)", "Chen Wei <chen@example.com> · 3",
    ]  # fmt: skip
    assert explorer.figures["actors"].layout.title.text == 'Most active actors: "CHEN@example"'
    # the search and a picker together; the status line says both
    explorer.select(ip="203.0.113.9")
    assert ids(explorer) == {SAMPLE_ENTRIES[3]["id"]}  # Chen's one event from that address
    assert explorer._status.value == (
        "<b>1</b> of 8 events match <i>203.0.113.9 · &quot;CHEN@example&quot;</i>"
    )


def test_hostile_names_show_their_hidden_characters_and_draw_no_tags() -> None:
    hostile = frame([
        *SAMPLE_ENTRIES[:2],
        {**entry("2026-10-04T09:00:00Z", actor="u9"),
         "actor": {**person("u9"), "name": "<b>Mallory</b>\u202egnp.exe"}},
    ])  # fmt: skip
    explorer = explore(hostile).select(actor="u9")
    assert "<b>Mallory</b>⟨U+202E⟩gnp.exe <u9@example.com> · 1" in labels(explorer, "actor")
    assert explorer.figures["timeline"].layout.title.text == (
        "Events per day: &lt;b&gt;Mallory&lt;/b&gt;⟨U+202E⟩gnp.exe"
    )


def test_select_names_the_pickers_when_given_an_unknown_one() -> None:
    with pytest.raises(TypeError, match="no picker named person; the pickers are actor, ip"):
        explore(SAMPLE).select(person="u1")


def test_without_a_widget_frontend_it_shows_a_note_saying_what_it_needs() -> None:
    bundle = explore(SAMPLE)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    for note in (bundle["text/plain"], bundle["text/html"]):
        assert "8 events from 2026-10-01 to 2026-10-09" in note
        assert "need a running Jupyter kernel and a widget frontend" in note


def test_the_accessor_and_the_package_open_the_same_explorer() -> None:
    by_accessor, by_package = SAMPLE.audit.explore(), auditlab.explore(SAMPLE)
    assert ids(by_accessor.select(actor="u2")) == ids(by_package.select(actor="u2")) == {
        SAMPLE.loc[SAMPLE["actor_id"] == "u2", "id"].item()
    }


def test_an_empty_frame_opens_with_no_events_and_charts_that_say_so() -> None:
    explorer = explore(empty_frame())
    assert explorer.matching.empty
    assert labels(explorer, "actor") == ["Every actor (0 events)"]
    assert all(f.layout.title.text.endswith("no events") for f in explorer.figures.values())


def _descendants(widget: ipywidgets.Widget) -> list[ipywidgets.Widget]:
    children = getattr(widget, "children", ())
    return [widget, *(w for child in children for w in _descendants(child))]
