"""Shipped project templates (SPEC 1): one folder per common objective.

Each template folder holds `project.yaml` (a complete project definition whose
guidelines live in `guidelines.md`) and `sample.jsonl` (hand-written sample
items, some with gold answers and pre-labels). They are package data, read
through `importlib.resources` so they work from a wheel or a zip as well as from
a source checkout.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Final

from annotary.errors import E_TEMPLATE_UNKNOWN, Invalid

TEMPLATE_NAMES: Final[tuple[str, ...]] = (
    "classification",
    "ner",
    "safety",
    "sft",
    "preference",
    "conversation",
)
"""The shipped templates, in the order they are listed to users."""

TEMPLATE_FILES: Final[tuple[str, ...]] = ("project.yaml", "guidelines.md", "sample.jsonl")
"""The files every template folder holds."""


def template_dir(name: str) -> Traversable:
    """The package-data folder of template `name` (Invalid E103 if there is none)."""
    if name not in TEMPLATE_NAMES:
        raise Invalid(
            E_TEMPLATE_UNKNOWN,
            f"unknown template {name!r}; valid: {', '.join(TEMPLATE_NAMES)}",
        )
    return resources.files(__name__).joinpath(name)


def template_files(name: str) -> dict[str, str]:
    """The text of each file of template `name`, keyed by file name."""
    folder = template_dir(name)
    return {
        filename: folder.joinpath(filename).read_text(encoding="utf-8")
        for filename in TEMPLATE_FILES
    }
