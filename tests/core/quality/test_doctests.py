"""The docstring examples of the agreement modules run (pytest does not collect
doctests by default)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from annotary.core.quality import (
    agreement,
    coding,
    coincidence,
    krippendorff,
    ranking,
    spans,
)

MODULES = [agreement, coding, coincidence, krippendorff, ranking, spans]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_every_public_function_has_an_example(module: ModuleType) -> None:
    finder = doctest.DocTestFinder()
    tested = {t.name.rsplit(".", 1)[-1] for t in finder.find(module) if t.examples}
    public = {
        name
        for name, obj in vars(module).items()
        if callable(obj)
        and not name.startswith("_")
        and getattr(obj, "__module__", None) == module.__name__
        and not isinstance(obj, type)
    }
    assert public <= tested, f"no example: {sorted(public - tested)}"
