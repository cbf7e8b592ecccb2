"""plugins: what the installed plugins register."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from annotary.cli.common import JsonOption, console, print_json

COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aggregators": ("consensus methods", ("name", "kinds", "measure", "plugin")),
    "prelabelers": ("pre-labelers", ("name", "kinds", "item_kinds", "plugin")),
    "exporters": ("export formats", ("name", "item_kinds", "plugin")),
    "pii_recognizers": ("PII recognizers", ("name", "entities", "languages", "plugin")),
}
"""Per component type in the listing: its title and the columns shown (`--json`
adds each one's description and details)."""


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)


def plugins(as_json: JsonOption = False) -> None:
    """List the plugins (built-in and installed) and the components they register."""
    from annotary.core.plugins.manager import default_plugins  # only this command needs it

    listing = default_plugins().listing()
    if as_json:
        print_json(listing)
        return
    table = Table(title="plugins")
    for column in ("name", "source", "distribution", "hooks"):
        table.add_column(column)
    for plugin in listing["plugins"]:
        version = f" {plugin['version']}" if plugin["version"] else ""
        distribution = f"{plugin['distribution']}{version}" if plugin["distribution"] else ""
        table.add_row(plugin["name"], plugin["source"], distribution, ", ".join(plugin["hooks"]))
    console.print(table)
    for key, (title, columns) in COLUMNS.items():
        rows = listing[key]
        if not rows:
            console.print(f"{title}: none registered")
            continue
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_cell(row[column]) for column in columns))
        console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "any"
    return "-" if value is None else str(value)
