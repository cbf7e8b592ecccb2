"""The annotator pool of a project by self-reported attribute, for managers: how many
people give each value, with small groups withheld (SPEC 4: attributes are shown
to managers only in aggregate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotary.core.quality.bias import MIN_GROUP_SIZE, pool_diversity


@dataclass(frozen=True)
class PoolAttribute:
    """How the pool splits on one attribute.

    `counts` holds only values given by at least k people; `suppressed_values`
    says how many smaller values were withheld (with the next smallest when
    needed, so the withheld people number at least k together); `undisclosed`
    counts members who did not give this attribute.
    """

    attribute: str
    counts: dict[str, int]
    suppressed_values: int
    undisclosed: int
    normalized_entropy: float | None


def pool_by_attribute(
    attributes: Sequence[Mapping[str, Any]], keys: Sequence[str], k: int = MIN_GROUP_SIZE
) -> list[PoolAttribute]:
    """One row per attribute key: people per value, small groups withheld
    (`bias.pool_diversity`), and the pool's evenness (normalised entropy).

    Three men and two non-binary people are withheld together (5 >= k):

    >>> people = [{"gender": "woman"}] * 6 + [{"gender": "man"}] * 3
    >>> people += [{"gender": "non-binary"}] * 2 + [{}]
    >>> row = pool_by_attribute(people, ["gender"])[0]
    >>> row.counts, row.suppressed_values, row.undisclosed
    ({'woman': 6}, 2, 1)
    """
    rows = []
    for key in keys:
        raw = [a.get(key) for a in attributes]
        texts = [v.strip() if isinstance(v, str) and v.strip() else None for v in raw]
        names = sorted({t for t in texts if t is not None})
        position = {name: i for i, name in enumerate(names)}
        codes = np.array([-1 if t is None else position[t] for t in texts], dtype=np.int64)
        pool = pool_diversity(codes, len(names), k)
        evenness = pool.normalized_entropy
        rows.append(
            PoolAttribute(
                key,
                {names[v]: n for v, n in pool.counts.items() if isinstance(n, int)},
                sum(1 for n in pool.counts.values() if not isinstance(n, int)),
                pool.n_unknown,
                float(evenness) if np.isfinite(evenness) else None,
            )
        )
    return rows
