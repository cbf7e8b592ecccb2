"""Settings from the environment: bad values are clear errors, not tracebacks."""

from __future__ import annotations

import pytest

from annotary.config import load_settings
from annotary.errors import Invalid
from tests.cli.runner import run


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTARY_WORKER_THREADS", "24")
    monkeypatch.setenv("ANNOTARY_QUEUE_THREADS", "6")
    settings = load_settings(database_url="sqlite:///x.db")
    assert (settings.worker_threads, settings.queue_threads) == (24, 6)
    assert settings.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("variables", "path", "reason"),
    [
        ({"ANNOTARY_IMPORT_BATCH": "0"}, "ANNOTARY_IMPORT_BATCH", "greater than or equal to 1"),
        ({"ANNOTARY_WORKER_THREADS": "many"}, "ANNOTARY_WORKER_THREADS", "valid integer"),
        (
            {"ANNOTARY_WORKER_THREADS": "8", "ANNOTARY_QUEUE_THREADS": "8"},
            "ANNOTARY_QUEUE_THREADS",
            "must be less than ANNOTARY_WORKER_THREADS (8)",
        ),
    ],
)
def test_a_bad_setting_names_the_variable_and_the_reason(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], path: str, reason: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Invalid) as raised:
        load_settings()
    assert raised.value.code == "E105"
    [detail] = raised.value.details
    assert detail.path == path and reason in detail.reason


def test_serve_refuses_bad_settings_before_starting(tmp_path) -> None:
    done = run(
        "serve",
        "--db",
        str(tmp_path / "a.db"),
        "--workers",
        "2",
        env={"ANNOTARY_QUEUE_THREADS": "99"},
    )
    assert done.returncode == 1
    assert "E105" in done.stderr and "ANNOTARY_QUEUE_THREADS" in done.stderr
    assert not (tmp_path / "a.db").exists()  # refused before anything was created
