"""`init`: write a complete, valid project folder from a shipped template."""

from __future__ import annotations

from pathlib import Path

from annotary.errors import E_TARGET_EXISTS, Conflict
from annotary.templates import template_files


def init_project(target: Path, template: str, force: bool = False) -> list[Path]:
    """Write the template's files into `target`; refuse to overwrite unless `force`."""
    files = template_files(template)
    clashes = [target / name for name in files if (target / name).exists()]
    if clashes and not force:
        raise Conflict(
            E_TARGET_EXISTS,
            f"{clashes[0]} already exists; pass --force to overwrite "
            f"({len(clashes)} file(s) would be replaced)",
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
