"""The README must stay true: every command, setting and error code documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from typer.core import TyperGroup

from annotary import errors
from annotary.cli.app import app
from annotary.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def command_paths(group: object, prefix: str = "annotary") -> list[str]:
    if isinstance(group, TyperGroup):
        paths = []
        for name, command in group.commands.items():
            paths.extend(command_paths(command, f"{prefix} {name}"))
        return paths
    return [prefix]


def test_every_cli_command_is_documented() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) >= 7
    missing = [p for p in paths if f"`{p}" not in README]
    assert missing == []


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`ANNOTARY_{name.upper()}`" in README


def test_every_error_code_is_documented() -> None:
    codes = [v for k, v in vars(errors).items() if k.startswith("E_") and isinstance(v, str)]
    assert len(codes) == len(set(codes)), "error codes must be unique"
    for code in codes:
        assert re.search(rf"^\| {code} \|", README, re.MULTILINE), code


def test_readme_opens_with_the_two_setup_commands() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_stay_inside_the_repository() -> None:
    outside = re.findall(r"(?<!\.)\.\./[\w./-]+", README)
    assert outside == [], f"the README points outside the repository: {outside}"
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
