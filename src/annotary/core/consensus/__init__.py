"""Consensus: how an item's annotations become one final label, field by field (SPEC 6).

Every field kind has its natural aggregator and its own per-item agreement:

- `label`: the project's vote (`majority`, `weighted` by gold accuracy,
  `dawid_skene`); agreement = share of annotations for the chosen label.
- `labels`: a vote per label (more than half, weighted where the project
  weighs; a taxonomy child implies its ancestors); agreement = the smallest
  share agreeing with the decision over the labels anyone chose.
- `preference`: the vote on the choice (a tie is a choice like any other),
  strength by majority of the winners; agreement = share for the choice.
- `spans`: `token_vote` over characters, every annotator in the denominator;
  agreement = mean pairwise exact span F1.
- `rating`: `median` (the lower median); agreement = share within `tolerance`
  scale steps of it.
- `ranking`: `borda` or `bradley_terry`; agreement = Kendall's W.
- `text`: `adjudicate` (a reviewer picks or edits) or `omit`; never compared.

An item is finalized when every compared field reaches its threshold
(`workflow.consensus.<field>.threshold`, default `workflow.agreement_threshold`);
otherwise it goes to adjudication. `values` holds the whole-value comparison
that gold scoring uses.

Every method is a registered aggregator (`aggregator.AggregatorSpec`): the
built-in ones above register through the same plugin hook as a third-party
one (`plugin`), and plugins add methods under versioned names
(`acme.trimmed_mean.v1`) that `workflow.consensus` can name.

Modules: `settings` (per-field methods and thresholds), `aggregator` (what a
method is), `methods` (the built-in ones), `plugin` (the plugin that registers
them), `choices` (label, labels,
preference), `spans`, `ratings`, `rankings`, `item` (`item_consensus`, text
fields, per-turn fields), `outcome` (the result types). This package
re-exports only what needs no NumPy, so that reading a project file stays light;
import `item_consensus` from `annotary.core.consensus.item`.
"""

from annotary.core.consensus.aggregator import AggregatorSpec
from annotary.core.consensus.methods import KIND_METHODS
from annotary.core.consensus.settings import (
    DEFAULT_TOLERANCE,
    FieldRule,
    FieldSetting,
    field_rules,
    setting_problems,
    settings_of,
)
from annotary.core.consensus.values import (
    UNCOMPARABLE_KINDS,
    comparable_fields,
    gold_matches,
    value_key,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "KIND_METHODS",
    "UNCOMPARABLE_KINDS",
    "AggregatorSpec",
    "FieldRule",
    "FieldSetting",
    "comparable_fields",
    "field_rules",
    "gold_matches",
    "setting_problems",
    "settings_of",
    "value_key",
]
