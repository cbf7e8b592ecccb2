"""Consensus of rating fields: the lower median, agreement within a tolerance.

The value is the lower median of the ratings given (`core.aggregation.
MedianRating`: the smaller middle rating for an even count), so it is always a
rating someone gave and lies on the scale's grid whatever its `min` and `step`.
Agreement is the share of the item's annotations whose rating lies within
`tolerance` scale steps of the median (default 1 step: ratings 3, 4, 4 on a
1-5 scale all agree; 2, 4, 4 give 2/3); a step is the field's `step`, 1 on an
ordinal scale without one, a tenth of the range on a stepless interval scale.
A tolerance of 0 asks for the exact median. An annotation that leaves the field
out disagrees; when more than half leave it out, so does the consensus.
Confidence equals the agreement.

A per-item chance-corrected figure (interval alpha) would need the project's
expected disagreement; Krippendorff's alpha per field is in the QA report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from annotary.core.aggregation import MedianRating
from annotary.core.consensus.outcome import UnitResult
from annotary.core.consensus.settings import step_size
from annotary.core.schema.fields import RatingField
from annotary.core.schema.values import is_number

_SLACK = 1e-9


def ratings_consensus(
    spec: RatingField, tolerance: float, units: Sequence[Sequence[Any]]
) -> list[UnitResult]:
    """The consensus of each unit's ratings (one unit per item, or per turn).

    >>> from annotary.core.schema.fields import RatingField
    >>> f = RatingField(name="r", kind="rating", min=1, max=5)
    >>> [(r.value, round(r.agreement, 3)) for r in ratings_consensus(f, 1, [[3, 4, 4], [2, 4, 4]])]
    [(4, 1.0), (4, 0.667)]
    """
    return ratings_consensus_many([(spec, tolerance, units)])[0]


def ratings_consensus_many(
    fields: Sequence[tuple[RatingField, float, Sequence[Sequence[Any]]]],
) -> list[list[UnitResult]]:
    """`ratings_consensus` of several fields at once: one median fit for all their units.

    >>> from annotary.core.schema.fields import RatingField
    >>> a = RatingField(name="a", kind="rating", min=1, max=5)
    >>> b = RatingField(name="b", kind="rating", min=0, max=1, step=0.5, scale="interval")
    >>> both = ratings_consensus_many([(a, 1, [[1, 2, 5]]), (b, 0, [[0, 1, 1]])])
    >>> [[r.value for r in results] for results in both]
    [[2], [1]]
    """
    units = [unit for _, _, field_units in fields for unit in field_units]
    given = [[v for v in unit if is_number(v)] for unit in units]
    scale = sorted({float(v) for ratings in given for v in ratings})
    code = {value: k for k, value in enumerate(scale)}
    rows = [
        (u, a, code[float(v)]) for u, ratings in enumerate(given) for a, v in enumerate(ratings)
    ]
    medians = np.full(len(units), -1)
    if rows:
        fit = MedianRating().fit(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            len(units),
            max(len(unit) for unit in units),
            len(scale),
        )
        medians = fit.labels_
    out: list[list[UnitResult]] = []
    position = 0
    for spec, tolerance, field_units in fields:
        reach = tolerance * step_size(spec) + _SLACK * max(1.0, spec.max - spec.min)
        results = []
        for unit in field_units:
            ratings, median_code = given[position], int(medians[position])
            position += 1
            results.append(
                _result(unit, ratings, scale[median_code] if median_code >= 0 else None, reach)
            )
        out.append(results)
    return out


def _result(
    unit: Sequence[Any], ratings: list[Any], median: float | None, reach: float
) -> UnitResult:
    left_out = (len(unit) - len(ratings)) / len(unit)
    if median is None or 2 * (len(unit) - len(ratings)) > len(unit):
        return UnitResult(None, left_out, left_out)
    value = next(v for v in ratings if float(v) == median)
    share = sum(abs(float(v) - median) <= reach for v in ratings) / len(unit)
    return UnitResult(value, share, share)
