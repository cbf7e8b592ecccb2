"""QA statistics: inter-annotator agreement on codes, values, spans and rankings.

Every statistic takes NumPy arrays of integer codes (units x coders, -1 =
missing; see `coding`) or numbers, is checked against published worked examples
and reference libraries (tests/core/quality), and raises `Invalid` with code
E601 ("agreement undefined: ...") instead of returning NaN.
"""

from annotary.core.quality.agreement import (
    brennan_prediger,
    cohen_kappa,
    contingency_table,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    percent_agreement,
    scott_pi,
)
from annotary.core.quality.coding import (
    MISSING,
    LongCodes,
    Observations,
    agreement_undefined,
    category_counts,
    encode_long,
    encode_observations,
    encode_wide,
)
from annotary.core.quality.coincidence import LEVELS, Level, coincidence_matrix
from annotary.core.quality.krippendorff import (
    alpha_from_distances,
    alpha_masi,
    bootstrap_alpha,
    krippendorff_alpha,
    masi_distance,
)
from annotary.core.quality.ranking import (
    average_ranks,
    kendall_tau_b,
    kendall_w,
    pairwise_preference_agreement,
    spearman_rho,
)
from annotary.core.quality.spans import (
    SpanAgreement,
    SpanScore,
    bio_agreement,
    bio_spans,
    span_agreement,
    span_agreement_documents,
)

__all__ = [
    "LEVELS",
    "MISSING",
    "Level",
    "LongCodes",
    "Observations",
    "SpanAgreement",
    "SpanScore",
    "agreement_undefined",
    "alpha_from_distances",
    "alpha_masi",
    "average_ranks",
    "bio_agreement",
    "bio_spans",
    "bootstrap_alpha",
    "brennan_prediger",
    "category_counts",
    "cohen_kappa",
    "coincidence_matrix",
    "contingency_table",
    "encode_long",
    "encode_observations",
    "encode_wide",
    "fleiss_kappa",
    "fleiss_kappa_counts",
    "gwet_ac1",
    "kendall_tau_b",
    "kendall_w",
    "krippendorff_alpha",
    "masi_distance",
    "pairwise_preference_agreement",
    "percent_agreement",
    "scott_pi",
    "span_agreement",
    "span_agreement_documents",
    "spearman_rho",
]
