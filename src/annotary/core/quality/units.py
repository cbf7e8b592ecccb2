"""Layouts of long-format observations for agreement over many units.

Observations arrive as parallel arrays, one entry per value: the unit (item,
or item x turn, or item x candidate) and the coder that gave it. Two layouts
serve the statistics:

- `slot_matrix`: units x slots, slot j holding a unit's j-th value. Krippendorff's
  alpha, Fleiss' kappa and the observed agreement depend on a unit only through
  the multiset of its values, not on who gave them, so this matrix carries all
  they need in (most coders on one unit) columns instead of one column per coder:
  300,000 items x 50 annotators is 15 M cells, x 4 slots 1.2 M.
- `unit_pairs`: every pair of observations by two different coders on the same
  unit, for statistics per coder pair (Cohen's kappa on shared items).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Value = TypeVar("Value", bound=np.generic)


def slot_matrix(
    units: npt.ArrayLike, values: npt.NDArray[Value], fill: float
) -> npt.NDArray[Value]:
    """Units x slots matrix of `values`: one row per distinct unit (ascending codes).

    A unit's values fill its row from the left in input order; the rest of the
    row is `fill` (-1 for codes, NaN for numbers). Units with no value get no row.

    >>> slot_matrix([5, 2, 5], np.array([1, 0, 2]), -1).tolist()
    [[0, -1], [1, 2]]
    """
    unit = np.asarray(units, dtype=np.int64).reshape(-1)
    if unit.size != values.size:
        raise ValueError("units and values need one entry per observation")
    order = np.argsort(unit, kind="stable")
    ordered = unit[order]
    starts_group = np.ones(ordered.size, dtype=np.bool_)
    starts_group[1:] = ordered[1:] != ordered[:-1]
    row = np.cumsum(starts_group) - 1
    slot = np.arange(ordered.size) - np.flatnonzero(starts_group)[row]
    width = int(slot.max()) + 1 if slot.size else 0
    matrix = np.full((int(starts_group.sum()), width), fill, dtype=values.dtype)
    matrix[row, slot] = values.reshape(-1)[order]
    return matrix


def unit_pairs(units: npt.ArrayLike, coders: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Index pairs (i, j) of observations on the same unit with coders[i] < coders[j].

    Each unordered pair of coders sharing a unit appears once per unit; a coder
    with two values on one unit is never paired with itself. Costs one sort plus
    one vectorised pass per extra coder on the most-coded unit.

    >>> first, second = unit_pairs([0, 0, 0, 1], [7, 3, 5, 3])
    >>> sorted(zip(first.tolist(), second.tolist()))
    [(1, 0), (1, 2), (2, 0)]
    """
    unit = np.asarray(units, dtype=np.int64).reshape(-1)
    coder = np.asarray(coders, dtype=np.int64).reshape(-1)
    if unit.size != coder.size:
        raise ValueError("units and coders need one entry per observation")
    order = np.lexsort((coder, unit))
    ordered_unit, ordered_coder = unit[order], coder[order]
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    distance = 1
    while distance < ordered_unit.size:
        # Sorted by unit, so a unit with m values has partners at distances 1..m-1 only.
        same = np.flatnonzero(ordered_unit[distance:] == ordered_unit[:-distance])
        if same.size == 0:
            break
        distinct = ordered_coder[same] != ordered_coder[same + distance]
        firsts.append(order[same[distinct]])
        seconds.append(order[same[distinct] + distance])
        distance += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    return np.concatenate(firsts), np.concatenate(seconds)
