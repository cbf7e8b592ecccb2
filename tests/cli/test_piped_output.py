"""Output to a file or another program is not wrapped at 80 columns mid-sentence.

Rich wraps at 80 columns when its stream is not a terminal; these runs pipe
stdout and stderr (as `capture_output` does) with no `COLUMNS` set.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from rich.table import Table

from annotary.cli import common
from tests.cli.runner import ANNOTARY

LONG_LABEL = "a-label-long-enough-to-cross-eighty-columns-on-its-own-" * 2


def run_piped(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [ANNOTARY, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_error_detail_with_a_long_value_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    path.write_text(f"unit,A,B\nu1,1,2\nu2,3,{LONG_LABEL}\nu3,2,2\n")
    args = ("agreement", "values.csv", "--metric", "alpha", "--level", "interval")
    result = run_piped(*args, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "error E602: values.csv: 1 bad line (--level interval needs numeric labels)"
    assert lines[1] == (
        f"  values.csv:3 B: {LONG_LABEL!r} is not a number (--level interval needs numbers)"
    )
    assert len(lines) == 2


def test_long_message_on_stdout_stays_on_one_line(tmp_path: Path) -> None:
    folder = "a-project-folder-with-a-name-long-enough-to-push-the-line-past-eighty-columns"
    result = run_piped("init", folder, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {folder}/project.yaml",
        f"wrote {folder}/guidelines.md",
        f"wrote {folder}/sample.jsonl",
        f"next: annotary project create {folder}/project.yaml && "
        f"annotary import <project> {folder}/sample.jsonl",
    ]


def test_tables_get_the_width_they_need_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table cell wider than 80 columns is printed whole, the table still aligned."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    console = common.output_console()
    assert not console.is_terminal  # pytest captures stdout
    table = Table(title="Monitoring findings")
    table.add_column("annotator")
    table.add_column("evidence", overflow="fold")
    table.add_row("ann1", "evidence " + LONG_LABEL)
    table.add_row("ann2", "short")
    console.file = out
    console.print(table)
    lines = out.getvalue().splitlines()
    assert any(f"evidence {LONG_LABEL}" in line for line in lines)
    body = [line for line in lines if line.startswith(("┃", "│", "┏", "┡", "└"))]
    assert len(body) == 6  # top, header, rule, two rows, bottom: no folded lines
    assert len({len(line) for line in body}) == 1
