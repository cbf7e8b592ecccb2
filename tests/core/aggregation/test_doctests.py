"""The examples in the aggregation docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "annotary.core.aggregation.majority",
    "annotary.core.aggregation.weighted",
    "annotary.core.aggregation.dawid_skene",
    "annotary.core.aggregation.spans",
    "annotary.core.aggregation.ratings",
    "annotary.core.aggregation.rankings",
    "annotary.core.aggregation.mace",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
