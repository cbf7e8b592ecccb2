"""Integer codes: the one input shape every agreement statistic works on.

A *codes matrix* has one row per unit (item) and one column per coder
(annotator). Entry ``k >= 0`` is the position of the coder's label in the
category list; ``-1`` (`MISSING`) means the coder did not label that unit. The
statistics take these matrices (NumPy, vectorised); turning Python labels into
codes happens once, here.

Category order matters for weighted kappa and for ordinal alpha, which weigh
disagreements by category *positions*: pass ``categories`` explicitly whenever
the order (or an unused category) is meaningful.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from annotary.errors import E_AGREEMENT_UNDEFINED, FieldError, Invalid

MISSING: Final = -1
Codes = npt.NDArray[np.int64]
MAX_CODE: Final = 1 << 20  # far above any label set; keeps count arrays bounded
MAX_COUNT_CELLS: Final = 1 << 27  # units x categories cells counted at once (1 GiB)
_SHOWN: Final = 12  # categories listed in an error message before "..."


def agreement_undefined(reason: str, path: str = "") -> Invalid:
    """The E601 error: why an agreement statistic cannot be computed on this input.

    >>> agreement_undefined("all values are identical").message
    'agreement undefined: all values are identical'
    """
    details = [FieldError(path, reason)] if path else []
    return Invalid(E_AGREEMENT_UNDEFINED, f"agreement undefined: {reason}", details)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _listing(categories: Sequence[Hashable]) -> str:
    shown = ", ".join(repr(c) for c in categories[:_SHOWN])
    return shown + (", ..." if len(categories) > _SHOWN else "")


def _category_index(
    values: Iterable[object], categories: Sequence[Hashable] | None
) -> tuple[dict[Hashable, int], list[Hashable]]:
    """Map label -> code. Without `categories`: sorted labels, or first-seen order
    when the labels cannot be compared with each other (e.g. str and int mixed)."""
    if categories is not None:
        listed = list(categories)
        index = {c: i for i, c in enumerate(listed)}
        if len(index) != len(listed):
            raise agreement_undefined("categories contain duplicates", "categories")
        return index, listed
    seen: dict[Hashable, None] = {}
    for value in values:
        if not _is_missing(value):
            if not isinstance(value, Hashable):
                raise agreement_undefined(
                    f"label {value!r} is not hashable; encode labels as str, int or frozenset"
                )
            seen.setdefault(value, None)
    found: list[Hashable] = list(seen)
    with contextlib.suppress(TypeError):  # mixed types: keep the order of first appearance
        found = sorted(found)  # type: ignore[type-var]
    return {c: i for i, c in enumerate(found)}, found


def _code_of(value: object, index: dict[Hashable, int], categories: list[Hashable]) -> int:
    if _is_missing(value):
        return MISSING
    try:
        return index[value]
    except (KeyError, TypeError):
        raise agreement_undefined(
            f"label {value!r} is not one of the categories; valid: {_listing(categories)}",
            "categories",
        ) from None


def encode_wide(
    rows: Sequence[Sequence[object | None]] | npt.NDArray[Any],
    categories: Sequence[Hashable] | None = None,
) -> tuple[Codes, list[Hashable]]:
    """Codes matrix (units x coders, -1 = missing) and category list from wide rows.

    ``None`` and float NaN are missing. Without ``categories`` the categories are
    the distinct labels, sorted (first-appearance order if they do not sort).

    >>> codes, cats = encode_wide([["b", "a"], ["a", None]])
    >>> codes.tolist(), cats
    ([[1, 0], [0, -1]], ['a', 'b'])
    """
    if any(not isinstance(row, Sequence | np.ndarray) or isinstance(row, str) for row in rows):
        raise agreement_undefined("each row must be a list of labels, one per coder", "rows")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise agreement_undefined(
            f"rows have different numbers of coders ({sorted(widths)}); use None for missing",
            "rows",
        )
    index, listed = _category_index((v for row in rows for v in row), categories)
    width = widths.pop() if widths else 0
    codes = np.fromiter(
        (_code_of(v, index, listed) for row in rows for v in row),
        dtype=np.int64,
        count=len(rows) * width,
    )
    return codes.reshape(len(rows), width), listed


class Observations(NamedTuple):
    """Long-format annotations as parallel index arrays (one entry per observation)."""

    item: Codes
    annotator: Codes
    label: Codes
    items: list[Hashable]
    annotators: list[Hashable]
    categories: list[Hashable]

    def to_matrix(self) -> Codes:
        """Codes matrix (items x annotators); E601 if an (item, annotator) pair repeats.

        >>> encode_observations([("i1", "ann", "x")]).to_matrix().tolist()
        [[0]]
        """
        matrix = np.full((len(self.items), len(self.annotators)), MISSING, dtype=np.int64)
        cell = self.item * len(self.annotators) + self.annotator
        if np.unique(cell).size != cell.size:
            first = int(np.argmax(np.bincount(cell)))  # a cell holding two labels
            item, annotator = divmod(first, len(self.annotators))
            raise agreement_undefined(
                f"annotator {self.annotators[annotator]!r} labelled item "
                f"{self.items[item]!r} more than once; a codes matrix holds one label per pair",
                "annotations",
            )
        matrix.reshape(-1)[cell] = self.label
        return matrix


def encode_observations(
    triples: Iterable[tuple[Hashable, Hashable, object]],
    categories: Sequence[Hashable] | None = None,
    *,
    allow_repeats: bool = True,
) -> Observations:
    """Index arrays for long ``(item, annotator, label)`` triples; repeats allowed.

    Aggregation (e.g. Dawid-Skene) needs every observation, including an
    annotator labelling the same item twice; with ``allow_repeats=False`` a
    repeated (item, annotator) pair is an E601 error. Items and annotators keep
    their order of first appearance; observations with a missing label are dropped.

    >>> obs = encode_observations([(1, "a", "x"), (1, "a", "y")])
    >>> obs.label.tolist(), obs.categories
    ([0, 1], ['x', 'y'])
    """
    rows = [t for t in triples if not _is_missing(t[2])]
    index, listed = _category_index((t[2] for t in rows), categories)
    items: dict[Hashable, int] = {}
    annotators: dict[Hashable, int] = {}
    item = np.fromiter((items.setdefault(t[0], len(items)) for t in rows), np.int64, len(rows))
    who = np.fromiter(
        (annotators.setdefault(t[1], len(annotators)) for t in rows), np.int64, len(rows)
    )
    label = np.fromiter((_code_of(t[2], index, listed) for t in rows), np.int64, len(rows))
    observations = Observations(item, who, label, list(items), list(annotators), listed)
    if not allow_repeats:
        observations.to_matrix()  # raises on the first repeated pair
    return observations


class LongCodes(NamedTuple):
    """A codes matrix built from long triples, with its row/column/category names."""

    codes: Codes
    categories: list[Hashable]
    items: list[Hashable]
    annotators: list[Hashable]


def encode_long(
    triples: Iterable[tuple[Hashable, Hashable, object]],
    categories: Sequence[Hashable] | None = None,
) -> LongCodes:
    """Codes matrix (items x annotators) from ``(item, annotator, label)`` triples.

    Items and annotators are ordered by first appearance. A repeated (item,
    annotator) pair is an E601 error here; use `encode_observations` to keep repeats.

    >>> coded = encode_long([("i1", "ann", "x"), ("i2", "bob", "y")])
    >>> coded.codes.tolist(), coded.annotators
    ([[0, -1], [-1, 1]], ['ann', 'bob'])
    """
    obs = encode_observations(triples, categories)
    return LongCodes(obs.to_matrix(), obs.categories, obs.items, obs.annotators)


def as_codes(data: npt.ArrayLike, n_categories: int | None = None, *, ndim: int = 2) -> Codes:
    """Validated int64 codes array (-1 = missing, otherwise < ``n_categories``).

    >>> as_codes([[0, 1], [1, -1]]).dtype
    dtype('int64')
    """
    shape = "a units x coders matrix" if ndim == 2 else "a vector with one code per unit"
    try:
        array = np.asarray(data)
    except ValueError:  # ragged nested lists
        raise agreement_undefined(
            f"codes must be {shape} (rows of equal length)", "codes"
        ) from None
    if array.ndim != ndim:
        raise agreement_undefined(f"codes must be {shape}; got shape {array.shape}", "codes")
    if array.dtype.kind == "b" or (array.size and array.dtype.kind not in "iuf"):
        raise agreement_undefined(
            "codes must be integers (-1 = missing); encode labels with encode_wide", "codes"
        )
    if array.dtype.kind == "f" and not (
        np.all(np.isfinite(array))
        and np.all(array == np.round(array))
        and np.all(np.abs(array) <= MAX_CODE)
    ):
        raise agreement_undefined(
            "codes must be whole numbers (-1 = missing); for numeric values with NaN "
            "as missing use krippendorff_alpha",
            "codes",
        )
    codes = array.astype(np.int64)
    if codes.size and int(codes.min()) < MISSING:
        raise agreement_undefined("codes must be >= 0, or -1 for missing", "codes")
    if codes.size and int(codes.max()) > MAX_CODE:
        raise agreement_undefined(
            f"code {int(codes.max())} is too large: codes are category positions "
            "0..K-1; encode labels with encode_wide",
            "codes",
        )
    if n_categories is not None:
        if not 1 <= n_categories <= MAX_CODE + 1:
            raise agreement_undefined(
                f"n_categories must be between 1 and {MAX_CODE + 1}", "n_categories"
            )
        if codes.size and int(codes.max()) >= n_categories:
            raise agreement_undefined(
                f"code {int(codes.max())} is out of range for {n_categories} categories",
                "n_categories",
            )
    return codes


def n_categories_of(codes: Codes, n_categories: int | None) -> int:
    """``n_categories`` if given, else one more than the largest code used.

    >>> n_categories_of(np.array([[0, 3], [-1, 1]]), None)
    4
    """
    if n_categories is not None:
        return n_categories
    return int(codes.max()) + 1 if codes.size else 0


def category_counts(codes: npt.ArrayLike, n_categories: int | None = None) -> Codes:
    """Units x categories matrix: how many coders put each unit in each category.

    This is the table Fleiss' kappa and Gwet's AC1 depend on (Fleiss 1971, Table 1).

    >>> category_counts([[0, 0, 1], [2, -1, 2]]).tolist()
    [[2, 1, 0], [0, 0, 2]]
    """
    matrix = as_codes(codes, n_categories)
    k = n_categories_of(matrix, n_categories)
    n_units = matrix.shape[0]
    if n_units * (k + 1) > MAX_COUNT_CELLS:
        raise agreement_undefined(
            f"{n_units} units x {k} categories is too large a count matrix; "
            "compute per batch of units or merge rare categories"
        )
    # Missing values go to an extra column k that is dropped: no boolean indexing.
    column = np.where(matrix >= 0, matrix, k)
    flat = (np.arange(n_units, dtype=np.int64) * (k + 1))[:, None] + column
    counts = np.bincount(flat.reshape(-1), minlength=n_units * (k + 1))
    per_unit: Codes = counts.reshape(n_units, k + 1)[:, :k]
    return per_unit
