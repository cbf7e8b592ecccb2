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
    """The consensus of each unit's ratings (one unit per item, or per turn), in one fit.

    >>> from annotary.core.schema.fields import RatingField
    >>> f = RatingField(name="r", kind="rating", min=1, max=5)
    >>> [(r.value, round(r.agreement, 3)) for r in ratings_consensus(f, 1, [[3, 4, 4], [2, 4, 4]])]
    [(4, 1.0), (4, 0.667)]
    """
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
    reach = tolerance * step_size(spec) + _SLACK * max(1.0, spec.max - spec.min)
    results = []
    for unit, ratings, median_code in zip(units, given, medians, strict=True):
        if 2 * (len(unit) - len(ratings)) > len(unit) or median_code < 0:
            left_out = (len(unit) - len(ratings)) / len(unit)
            results.append(UnitResult(None, left_out, left_out))
            continue
        median = scale[int(median_code)]
        value = next(v for v in ratings if float(v) == median)
        share = sum(abs(float(v) - median) <= reach for v in ratings) / len(unit)
        results.append(UnitResult(value, share, share))
    return results
