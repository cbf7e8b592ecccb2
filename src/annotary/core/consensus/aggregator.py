"""What a consensus method is: the descriptor an aggregator plugin registers.

Every consensus method, built-in or from a plugin, is an `AggregatorSpec`
returned by a `register_aggregators` hook (`annotary.hookspecs`). The consensus
of an item (`core.consensus.item`) looks each field's method up by name and
calls its `combine` with the field's units: one list of values (one value per
annotation, in submission order, None where the annotation left the field out)
for the field, or one per turn of a per-turn field. `combine` returns one
`UnitResult` per unit: the combined value, the agreement (what `measure` names,
from 0 to 1, compared with the field's threshold) and a confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from annotary.core.plugins.checks import (
    callable_problems,
    choice_problems,
    name_problems,
    text_problems,
)
from annotary.core.schema.fields import FIELD_KINDS

if TYPE_CHECKING:
    from annotary.core.consensus.outcome import UnitResult, Voters
    from annotary.core.consensus.settings import FieldRule
    from annotary.core.schema.fields import AnyField

GOLD_WEIGHTS: Final = "gold_weights"
"""An input a method `uses`: each annotator's gold-accuracy weight (`Voters.weights`)."""
DAWID_SKENE_FITS: Final = "dawid_skene_fits"
"""An input a method `uses`: the stored Dawid-Skene parameters (`Voters.fits`)."""
INPUTS: Final = (GOLD_WEIGHTS, DAWID_SKENE_FITS)

PRE_REGISTRY_METHODS: Final = frozenset(
    {
        "majority",
        "weighted",
        "dawid_skene",
        "token_vote",
        "median",
        "borda",
        "bradley_terry",
        "adjudicate",
        "omit",
    }
)
"""The built-in methods' names: bare, as project files wrote them before the
registry existed; each means its version 1 for good. Every other name is versioned."""


class Combine(Protocol):
    """Combine one field's units into one result per unit."""

    def __call__(
        self,
        spec: AnyField,
        rule: FieldRule,
        units: Sequence[Sequence[Any]],
        voters: Voters,
    ) -> Sequence[UnitResult]: ...


FieldUnits = tuple["AnyField", "FieldRule", Sequence[Sequence[Any]]]
"""One field of an item with its rule and its units."""


class CombineMany(Protocol):
    """Combine several fields of one item at once (e.g. one model fit for all of them)."""

    def __call__(
        self, fields: Sequence[FieldUnits], voters: Voters
    ) -> Sequence[Sequence[UnitResult]]: ...


@dataclass(frozen=True)
class AggregatorSpec:
    """A consensus method: which field kinds it combines, what its agreement
    measures and the function that combines.

    `measure` None means the field is not compared (it never blocks
    finalization by agreement; a `UnitResult` with `needs_review` still sends
    the item to a reviewer). `per_turn` False keeps the method off per-turn
    fields. `uses` names the inputs the queue must gather for it (`INPUTS`).
    `combine_many`, when given, is called once per item with all the item's
    fields that use the method, instead of `combine` per field.
    """

    name: str
    kinds: frozenset[str]
    measure: str | None
    combine: Combine
    per_turn: bool = True
    uses: frozenset[str] = frozenset()
    combine_many: CombineMany | None = None
    description: str = ""

    def problems(self) -> list[str]:
        """Why this descriptor cannot be registered (empty when it can)."""
        return [
            *name_problems(self.name, PRE_REGISTRY_METHODS),
            *choice_problems("kinds", self.kinds, FIELD_KINDS),
            *text_problems("measure", self.measure, optional=True),
            *callable_problems("combine", self.combine),
            *callable_problems("combine_many", self.combine_many, optional=True),
            *choice_problems("uses", self.uses, INPUTS, empty=True),
            *([] if isinstance(self.per_turn, bool) else ["per_turn must be True or False"]),
            *([] if isinstance(self.description, str) else ["description must be a string"]),
        ]

    def fits(self, spec: AnyField) -> bool:
        """Whether this method can combine the field `spec`."""
        return spec.kind in self.kinds and (self.per_turn or not spec.per_turn)
