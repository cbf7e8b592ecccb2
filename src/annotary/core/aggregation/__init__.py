"""Label aggregation: estimators that turn several annotations into one final label.

Each estimator is a small class in its own module, shaped like crowd-kit's
(`fit(...) -> self`, results in attributes ending in `_`), but taking NumPy
arrays of integer codes in long format instead of DataFrames. Every estimator
has a stable `method` name (recorded with each final label), `labels_` and a
per-item `confidence_`.
"""

from annotary.core.aggregation.dawid_skene import DawidSkene, item_posterior
from annotary.core.aggregation.mace import MACE
from annotary.core.aggregation.majority import MajorityVote
from annotary.core.aggregation.rankings import Borda, BradleyTerry
from annotary.core.aggregation.ratings import MedianRating
from annotary.core.aggregation.spans import AggregatedSpan, TokenVote
from annotary.core.aggregation.weighted import WeightedVote

__all__ = [
    "MACE",
    "AggregatedSpan",
    "Borda",
    "BradleyTerry",
    "DawidSkene",
    "MajorityVote",
    "MedianRating",
    "TokenVote",
    "WeightedVote",
    "item_posterior",
]
