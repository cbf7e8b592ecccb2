"""Bootstrap interval for Krippendorff's alpha with any distance between categories.

`krippendorff.bootstrap_alpha` covers the four metric levels; set-valued labels
compared with MASI (and any other custom distance) need the same resampling
over a given K x K distance matrix, which is this module.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import agreement_undefined, as_codes
from annotary.core.quality.coincidence import (
    alpha_from_coincidences,
    coincidence_matrix,
    pairable,
)
from annotary.core.quality.krippendorff import alpha_from_distances


def bootstrap_alpha_distances(
    codes: npt.ArrayLike,
    distances: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval for `alpha_from_distances`, resampling units.

    Same method as `krippendorff.bootstrap_alpha`: the pairable units are
    grouped by their multiset of codes, each of the `n_boot` resamples is drawn
    as multinomial counts over those groups (`numpy.random.default_rng(seed)`),
    alpha is recomputed from the weighted coincidence matrix with the fixed
    `distances`, resamples with D_e = 0 are left out, and the interval is the
    (1 - confidence)/2 and (1 + confidence)/2 quantiles (`np.quantile`). With
    the nominal distance (1 - identity) it equals `bootstrap_alpha(codes,
    "nominal")` for the same seed. Cost grows with the number of distinct
    value multisets, not with the number of units.

    >>> codes = [[0, 0], [1, 1], [0, 1], [1, 1], [0, 0]]
    >>> low, high = bootstrap_alpha_distances(codes, [[0, 1], [1, 0]], n_boot=200)
    >>> low < 0.6 < high
    True
    """
    if n_boot < 1 or not 0.0 < confidence < 1.0:
        raise agreement_undefined("need n_boot >= 1 and 0 < confidence < 1", "n_boot")
    matrix = np.asarray(distances, dtype=np.float64)
    alpha_from_distances(codes, matrix)  # validates both; E601 if undefined on the data
    coded = as_codes(codes, max(matrix.shape[0], 1))
    profiles, group_size = np.unique(np.sort(pairable(coded), axis=1), axis=0, return_counts=True)
    n_units = int(group_size.sum())
    draws = np.random.default_rng(seed).multinomial(n_units, group_size / n_units, size=n_boot)
    alphas: list[float] = []
    for multiplicity in draws:
        coincidences = coincidence_matrix(
            profiles, matrix.shape[0], multiplicity.astype(np.float64)
        )
        marginals = coincidences.sum(axis=1)
        if float(marginals @ matrix @ marginals) > 0.0:
            alphas.append(alpha_from_coincidences(coincidences, matrix))
    if not alphas:
        raise agreement_undefined("alpha is undefined (D_e = 0) in every bootstrap resample")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.array(alphas), [tail, 1.0 - tail])
    return float(low), float(high)
