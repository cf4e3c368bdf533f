"""Where the API key and base URL come from, and how bad ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PLANTED_KEY

from auditlab.api.credentials import (
    ApiKey,
    api_key_source,
    dotenv_folders,
    find_dotenv,
    resolve_api_key,
    resolve_base_url,
)
from auditlab.errors import InvalidQuery, MissingAPIKey
from auditlab.report import DataSource


@pytest.fixture
def no_key_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return an empty working directory with INVENT_API_KEY unset."""
    monkeypatch.delenv("INVENT_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_argument_wins_over_environment() -> None:
    assert resolve_api_key("sk_from_argument") == "sk_from_argument"


def test_environment_is_used_when_no_argument() -> None:
    assert resolve_api_key() == PLANTED_KEY


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("INVENT_API_KEY=sk_from_dotenv\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_api_key() == PLANTED_KEY


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("INVENT_API_KEY=sk_plain", "sk_plain"),
        ('INVENT_API_KEY="sk_double"', "sk_double"),
        ("INVENT_API_KEY='sk_single'", "sk_single"),
        ("export INVENT_API_KEY=sk_exported", "sk_exported"),
        ("  INVENT_API_KEY = sk_spaced  # a comment", "sk_spaced"),
        ('INVENT_API_KEY="sk_quoted" # a comment', "sk_quoted"),
    ],
)
def test_dotenv_line_forms(no_key_anywhere: Path, line: str, expected: str) -> None:
    (no_key_anywhere / ".env").write_text(f"# keys\nOTHER=1\n{line}\n")
    assert resolve_api_key() == expected


def test_dotenv_last_assignment_wins(no_key_anywhere: Path) -> None:
    (no_key_anywhere / ".env").write_text("INVENT_API_KEY=sk_old\nINVENT_API_KEY=sk_new\n")
    assert resolve_api_key() == "sk_new"


def test_missing_key_names_the_parameter_and_all_three_sources(no_key_anywhere: Path) -> None:
    with pytest.raises(MissingAPIKey) as caught:
        resolve_api_key()
    message = str(caught.value)
    assert caught.value.parameter == "api_key"
    assert "api_key" in message and "INVENT_API_KEY" in message and ".env" in message
    assert isinstance(caught.value, InvalidQuery) and isinstance(caught.value, ValueError)


@pytest.fixture
def project(no_key_anywhere: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a project folder (it has a pyproject.toml) whose notebooks/ is the working dir."""
    root = no_key_anywhere / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\n")
    monkeypatch.chdir(root / "notebooks")
    return root


def test_dotenv_at_the_project_root_is_read_from_a_notebooks_folder(project: Path) -> None:
    (project / ".env").write_text("INVENT_API_KEY=sk_from_root\n")
    assert resolve_api_key() == "sk_from_root"
    assert find_dotenv() == project / ".env"
    assert api_key_source() == str(project / ".env")


def test_a_git_folder_marks_the_project_root_too(project: Path) -> None:
    (project / "pyproject.toml").unlink()
    (project / ".git").mkdir()
    (project / ".env").write_text("INVENT_API_KEY=sk_from_root\n")
    assert resolve_api_key() == "sk_from_root"


def test_the_nearest_dotenv_on_the_way_up_wins(project: Path) -> None:
    (project / ".env").write_text("INVENT_API_KEY=sk_from_root\n")
    (project / "notebooks" / ".env").write_text("INVENT_API_KEY=sk_from_notebooks\n")
    assert resolve_api_key() == "sk_from_notebooks"


def test_a_dotenv_above_the_project_root_is_never_read(project: Path) -> None:
    (project.parent / ".env").write_text("INVENT_API_KEY=sk_other_project\n")
    assert dotenv_folders() == [project / "notebooks", project]
    with pytest.raises(MissingAPIKey) as caught:
        resolve_api_key()
    assert api_key_source() is None
    # the message points at the project root's .env, where the key belongs
    assert str(project / ".env") in str(caught.value)


def test_without_a_project_marker_only_the_working_directory_is_searched(
    no_key_anywhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (no_key_anywhere / ".env").write_text("INVENT_API_KEY=sk_parent\n")
    (no_key_anywhere / "loose").mkdir()
    monkeypatch.chdir(no_key_anywhere / "loose")
    assert dotenv_folders() == [no_key_anywhere / "loose"]
    assert find_dotenv() is None
    with pytest.raises(MissingAPIKey):
        resolve_api_key()


def test_the_environment_is_named_as_the_source_before_any_dotenv(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text("INVENT_API_KEY=sk_from_root\n")
    monkeypatch.setenv("INVENT_API_KEY", PLANTED_KEY)
    assert api_key_source() == "the INVENT_API_KEY environment variable"


def test_the_data_source_notice_names_the_dotenv_file_read_but_never_the_key(
    project: Path,
) -> None:
    (project / ".env").write_text("INVENT_API_KEY=sk_secret_in_dotenv\n")
    notice = DataSource("http://127.0.0.1:8787").notice_html()
    assert f"API key from <code>{project / '.env'}</code>" in notice
    assert "sk_secret_in_dotenv" not in notice


def test_empty_argument_is_refused(no_key_anywhere: Path) -> None:
    with pytest.raises(MissingAPIKey, match="api_key must be a non-empty string"):
        resolve_api_key("  ")


def test_key_with_a_newline_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidQuery) as caught:
        resolve_api_key(PLANTED_KEY + "\nX-Evil: 1")
    assert caught.value.parameter == "api_key"
    assert PLANTED_KEY not in str(caught.value)


def test_api_key_wrapper_never_shows_the_key() -> None:
    key = ApiKey(PLANTED_KEY)
    shown = [repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})]
    assert all(PLANTED_KEY not in text for text in shown)
    assert key.reveal() == PLANTED_KEY
    assert key.scrub(f"bad key {PLANTED_KEY}!") == "bad key ***!"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.useinvent.com"),
        ("https://api.useinvent.com/", "https://api.useinvent.com"),
        ("https://invent.example.org:8443", "https://invent.example.org:8443"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_base_url_accepted(
    given: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INVENT_BASE_URL", raising=False)
    assert resolve_base_url(given) == expected


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVENT_BASE_URL", "http://127.0.0.1:4000")
    assert resolve_base_url() == "http://127.0.0.1:4000"


@pytest.mark.parametrize(
    "given",
    [
        "http://api.useinvent.com",
        "http://10.0.0.1:8787",
        "http://128.0.0.1",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
        "api.useinvent.com",
        "https://",
    ],
)
def test_base_url_refused(given: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        resolve_base_url(given)
    assert caught.value.parameter == "base_url"
    assert "base_url" in str(caught.value) and "https" in str(caught.value)
