"""The command line spells each option one way; an old spelling works for a release, warning."""

from __future__ import annotations

import pytest

from auditlab.cli import build_parser


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["fetch", "report"])
def test_fetch_and_report_spell_progress_and_action_the_same(command, capsys):
    shown = help_text(command, capsys)
    assert "--no-progress" in shown and "--action ACTION" in shown
    assert "--quiet" not in shown and "--actions" not in shown


def test_report_takes_several_actions_in_one_or_many_options():
    args = build_parser().parse_args(
        ["report", "--action", "org.updated", "org.deleted", "--action", "api_key.created"]
    )
    assert args.actions == ["org.updated", "org.deleted", "api_key.created"]
    assert args.no_progress is False


def test_report_old_spellings_still_work_and_say_what_replaces_them(capsys):
    args = build_parser().parse_args(
        ["report", "--quiet", "--actions", "org.updated", "--action", "org.deleted"]
    )
    assert args.no_progress is True
    assert args.actions == ["org.updated", "org.deleted"]
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "auditlab report: --quiet is deprecated and goes in the next release; use --no-progress",
        "auditlab report: --actions is deprecated and goes in the next release; use --action",
    ]
