"""Command modules loaded on demand, so that `annotary --help` and light commands start fast.

How the command line is put together (read this before adding a command):

- Each module `annotary.cli.<topic>_cmds` defines its commands with Typer and a
  `register(app)` function that adds its top-level commands and groups to `app`
  (`app.command("init")(init)`, `app.add_typer(project_app, name="project")`).
- `annotary.cli.app.COMMANDS` lists every top-level command or group: its name,
  the module whose `register` adds it, and the one-line help `annotary --help`
  prints for it. `annotary --help` reads that list and imports no command
  module; running a command (or asking for its `--help`) imports its module
  only.
- A new subcommand of an existing group (`annotary users deactivate`) needs no
  change to `COMMANDS`. A new top-level command or group needs one line there;
  `tests/cli/test_startup.py` fails until the list and the modules agree, help
  text included.
- At the top of a command module import only Typer, `annotary.cli.common` and
  light modules (`annotary.errors`, `annotary.templates`, the standard
  library); import services, storage, the web app, NumPy, httpx and friends
  inside the command function that uses them. `tests/cli/test_startup.py` runs
  `--help` of every command, and the light commands, in a fresh interpreter and
  fails if one of them loads the database, web or numeric stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a top-level command lives and what `annotary --help` says about it."""

    module: str  # under annotary.cli, e.g. "project_cmds"
    help: str


def load_module_commands(module_name: str) -> dict[str, Any]:
    """The Click commands that `annotary.cli.<module_name>.register` adds, by name."""
    module = importlib.import_module(f"annotary.cli.{module_name}")
    # Plain help (no Rich panels), as the root app prints it.
    scratch = typer.Typer(rich_markup_mode=None, add_completion=False)
    module.register(scratch)
    return dict(typer.main.get_group(scratch).commands)


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands: every registered name is listed; a module loads on first use."""

    def __init__(self, registry: Mapping[str, LazyCommand], loaded: Mapping[str, Any]) -> None:
        self.registry = registry
        self.loaded: dict[str, Any] = dict(loaded)

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded and name in self.registry:
            self.loaded.update(load_module_commands(self.registry[name].module))
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.registry
        yield from (name for name in self.loaded if name not in self.registry)

    def __len__(self) -> int:
        return len(self.registry) + sum(name not in self.registry for name in self.loaded)

    def __contains__(self, name: object) -> bool:
        return name in self.registry or name in self.loaded


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from `registry`, each module imported on demand.

    Subclass it with `registry` set and pass the subclass as `cls=` to `typer.Typer`.
    """

    registry: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = LazyCommands(self.registry, self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of `--help`, from the registry for modules not loaded yet."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self._loaded_command(name)
            if loaded is None:
                loaded = TyperCommand(name, help=self.registry[name].help)
            if not loaded.hidden:
                rows.append((name, loaded.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _loaded_command(self, name: str) -> Any:
        commands = self.commands
        if isinstance(commands, LazyCommands):
            return commands.loaded.get(name)
        return commands.get(name)
