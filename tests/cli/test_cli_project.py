from __future__ import annotations

from pathlib import Path

import pytest

from annotary.templates import TEMPLATE_NAMES
from tests.cli.runner import run


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_init_then_validate_every_template(tmp_path: Path, template: str) -> None:
    target = tmp_path / template
    created = run("init", str(target), "--template", template)
    assert created.returncode == 0, created.stderr
    assert {p.name for p in target.iterdir()} == {"project.yaml", "guidelines.md", "sample.jsonl"}
    checked = run("validate", str(target / "project.yaml"))
    assert checked.returncode == 0, checked.stderr
    assert "valid project" in checked.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "-t", "ner").returncode == 0
    again = run("init", str(tmp_path), "-t", "ner")
    assert again.returncode == 1
    assert "E104" in again.stderr and "--force" in again.stderr
    assert run("init", str(tmp_path), "-t", "ner", "--force").returncode == 0


def test_unknown_template_names_the_valid_ones(tmp_path: Path) -> None:
    result = run("init", str(tmp_path), "--template", "sentiment")
    assert result.returncode == 1
    assert "E103" in result.stderr and "classification" in result.stderr
    assert "Traceback" not in result.stderr


BROKEN = """\
name: broken
objective:
  use_case: classification
schema:
  fields:
    - name: sentiment
      kind: label
      labels: [pos, neg, neg]
    - name: score
      kind: rating
      min: 1
      max: 5
      stepp: 1
guidelines: Be kind.
workflow:
  overlap: 0
"""


def test_validate_prints_line_numbered_errors(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text(BROKEN)
    result = run("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{path}:8 schema.fields[0].labels: duplicate label 'neg'" in result.stderr
    assert f"{path}:13 schema.fields[1].stepp: unknown key" in result.stderr
    assert f"{path}:16 workflow.overlap:" in result.stderr


def test_validate_reports_yaml_syntax_errors_with_line(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("name: x\nschema:\n  fields: [\n    {name: a\n")
    result = run("validate", str(path))
    assert result.returncode == 1
    assert "E101" in result.stderr and "invalid YAML" in result.stderr
    assert f"{path}:" in result.stderr


def test_validate_missing_file(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "E102" in result.stderr
