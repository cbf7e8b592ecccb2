"""Every docstring example in the domain core runs and holds (pytest does not
collect doctests by default), and the statistics all carry examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import annotary.core

CORE_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(annotary.core.__path__, prefix="annotary.core.")
    if not info.ispkg
)
STATISTICS = [
    name
    for name in CORE_MODULES
    if name.startswith(("annotary.core.quality.", "annotary.core.aggregation."))
    and not name.rsplit(".", 1)[-1].startswith("_")
    # The report package assembles the project QA report from these statistics.
    and not name.startswith("annotary.core.quality.report.")
]
AGREEMENT = [
    f"annotary.core.quality.{name}"
    for name in ("agreement", "coding", "coincidence", "krippendorff", "ranking", "spans")
]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", CORE_MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.failed == 0


@pytest.mark.parametrize("name", STATISTICS)
def test_statistics_modules_have_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.attempted > 0, f"{name} has no docstring example"


@pytest.mark.parametrize("name", AGREEMENT)
def test_every_public_agreement_function_has_an_example(name: str) -> None:
    module = importlib.import_module(name)
    tested = {t.name.rsplit(".", 1)[-1] for t in doctest.DocTestFinder().find(module) if t.examples}
    public = {
        attr
        for attr, obj in vars(module).items()
        if callable(obj)
        and not attr.startswith("_")
        and getattr(obj, "__module__", None) == module.__name__
        and not isinstance(obj, type)
    }
    assert public <= tested, f"no example: {sorted(public - tested)}"
