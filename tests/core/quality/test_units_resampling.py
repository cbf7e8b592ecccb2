"""Slot matrices, unit pairs and the distance bootstrap against brute force and the
existing statistics."""

from __future__ import annotations

import doctest
from itertools import combinations
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotary.core.quality import (
    alpha_masi,
    bootstrap_alpha,
    fleiss_kappa,
    krippendorff_alpha,
    masi_distance,
    resampling,
    units,
)
from annotary.core.quality.resampling import bootstrap_alpha_distances
from annotary.core.quality.units import slot_matrix, unit_pairs

observations = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 4), st.integers(0, 2)),
    min_size=0,
    max_size=60,
    unique_by=lambda t: (t[0], t[1]),
)


@pytest.mark.parametrize("module", [units, resampling])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=200, deadline=None)
@given(observations)
def test_slot_matrix_keeps_each_units_values(triples: list[tuple[int, int, int]]) -> None:
    unit = np.array([t[0] for t in triples], dtype=np.int64)
    value = np.array([t[2] for t in triples], dtype=np.int64)
    matrix = slot_matrix(unit, value, -1)
    distinct = sorted(set(unit.tolist()))
    assert matrix.shape[0] == len(distinct)
    for row, u in zip(matrix, distinct, strict=True):
        assert row[row >= 0].tolist() == [t[2] for t in triples if t[0] == u]
        assert (row[len(row[row >= 0]) :] == -1).all()


@settings(max_examples=200, deadline=None)
@given(observations)
def test_unit_pairs_are_every_pair_of_coders_on_a_unit(
    triples: list[tuple[int, int, int]],
) -> None:
    unit = np.array([t[0] for t in triples], dtype=np.int64)
    coder = np.array([t[1] for t in triples], dtype=np.int64)
    first, second = unit_pairs(unit, coder)
    found = sorted(zip(first.tolist(), second.tolist(), strict=True))
    expected = sorted(
        (i, j) if coder[i] < coder[j] else (j, i)
        for i, j in combinations(range(len(triples)), 2)
        if unit[i] == unit[j]
    )
    assert found == expected


def test_alpha_and_fleiss_are_the_same_on_slots_as_on_coder_columns() -> None:
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 4, size=(300, 12))
    wide[rng.random(wide.shape) < 0.75] = -1
    rows, cols = np.nonzero(wide >= 0)
    slots = slot_matrix(rows, wide[rows, cols], -1)
    assert slots.shape[1] < wide.shape[1]
    for level in ("nominal", "ordinal"):
        assert krippendorff_alpha(slots, level) == pytest.approx(
            krippendorff_alpha(wide, level), abs=1e-12
        )
    assert fleiss_kappa(slots) == pytest.approx(fleiss_kappa(wide), abs=1e-12)


def test_distance_bootstrap_equals_the_nominal_bootstrap() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(-1, 3, size=(150, 4))
    nominal = 1.0 - np.eye(3)
    assert bootstrap_alpha_distances(codes, nominal, n_boot=300, seed=4) == bootstrap_alpha(
        codes, "nominal", n_boot=300, seed=4
    )


def test_masi_bootstrap_brackets_masi_alpha() -> None:
    rng = np.random.default_rng(2)
    sets = [frozenset(), frozenset("a"), frozenset("b"), frozenset("ab")]
    truth = rng.integers(0, 4, 200)
    codes = np.where(rng.random((200, 3)) < 0.8, truth[:, None], rng.integers(0, 4, (200, 3)))
    distances = np.array([[masi_distance(a, b) for b in sets] for a in sets])
    alpha = alpha_masi([[sets[c] for c in row] for row in codes])
    low, high = bootstrap_alpha_distances(codes, distances, n_boot=500)
    assert low < alpha < high
    assert high - low < 0.2
