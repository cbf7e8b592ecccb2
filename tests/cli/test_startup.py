"""Light commands start without the database, web or numeric stack.

Start-up time is measured by `bench/cli.py`; these tests check the cause
instead of a timing, in a fresh interpreter: which libraries a command loaded.
They also keep the lazy command registry (`annotary.cli.app.COMMANDS`) in step
with what the command modules register.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer.main
from typer.core import TyperCommand, TyperGroup

from annotary.cli.app import COMMANDS, app
from annotary.cli.lazy import load_module_commands

# What a light command must not load (each costs 0.05-0.3 s to import).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "numpy",
    "scipy",
    "pyarrow",
    "pandas",
    "httpx",
    "argon2",
    "pydantic_settings",
)

# Runs each command line in turn in one interpreter and reports, after each,
# the heavy libraries and command modules loaded so far: the first command
# after which a library appears is the one that loaded it.
PROGRAM = """
import contextlib, io, json, sys
from annotary.cli.app import main
heavy = set(sys.argv[2].split(","))
report = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["annotary", *args]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main()
        except SystemExit:
            pass
    loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy)
    modules = sorted(name for name in sys.modules if name.endswith("_cmds"))
    report.append([" ".join(args), loaded, modules])
print(json.dumps(report))
"""


def loaded_after(commands: list[list[str]], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTARY_")}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, json.dumps(commands), ",".join(heavy)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=True,
        timeout=120,
    )
    report: list = json.loads(result.stdout)
    return report


def command_paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(group, TyperGroup):
        for name in group.list_commands(None):  # type: ignore[arg-type]
            paths.extend(command_paths(group.commands[name], (*prefix, name)))
    return paths


def test_help_and_light_commands_load_no_heavy_library(tmp_path: Path) -> None:
    every_help = [[*path, "--help"] for path in command_paths(typer.main.get_command(app))]
    assert len(every_help) >= 20
    commands = [
        ["--help"],
        ["init", "proj"],
        ["validate", "proj/project.yaml"],
        ["agreement", "--help"],
        *every_help,
    ]
    report = loaded_after(commands, tmp_path)
    assert (tmp_path / "proj" / "project.yaml").is_file()  # init ran
    first, *_ = report
    assert first == ["--help", [], []], "annotary --help imported a command module"
    blamed = {command: loaded for command, loaded, _ in report if loaded}
    assert blamed == {}, f"first command to load a heavy library: {next(iter(blamed.items()))}"


def test_remote_commands_load_httpx_only(tmp_path: Path) -> None:
    # No token: the command fails before any request, after loading its client.
    report = loaded_after([["remote", "projects"]], tmp_path, HEAVY)
    assert report[0][1] == ["httpx"]


def test_registry_lists_what_the_modules_register() -> None:
    modules = {entry.module for entry in COMMANDS.values()}
    registered: dict[str, str] = {}
    for module in sorted(modules):
        for name in load_module_commands(module):
            assert name not in registered, f"{name!r} registered by {registered[name]} and {module}"
            registered[name] = module
    missing = sorted(set(registered) - set(COMMANDS))
    assert missing == [], f"add {missing} to COMMANDS in annotary.cli.app"
    assert registered == {name: entry.module for name, entry in COMMANDS.items()}


def test_registry_help_is_the_commands_own() -> None:
    """`annotary --help` shows the registry's text: it must be what the command says."""
    for name, entry in COMMANDS.items():
        command = load_module_commands(entry.module)[name]
        listed = TyperCommand(name, help=entry.help).get_short_help_str(1000)
        assert listed == command.get_short_help_str(1000), name
