"""Annotation schema definitions: the field kinds of SPEC section 2.

A schema is a list of named fields. Each field kind is a pydantic model with a
`kind` discriminator; these models validate the *definition* (the project YAML).
Validating an *annotation payload* against a schema is `validate_annotation` in
`validation.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from annotary.core.items import TURN_ROLES
from annotary.errors import quote

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
TAXONOMY_SEPARATOR = "/"
MAX_VERSION = 2**31 - 1
"""Largest schema or guidelines version: it is stored in an INTEGER column."""
MAX_COUNT = 10_000_000
"""Upper bound of the counts and lengths a field may require."""
_LABEL_PATTERN = re.compile(r"^[^\s/][^/]*(/[^\s/][^/]*)*$")


class Strict(BaseModel):
    """Base for definition models: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(Strict):
    """Show/require a field only when another field has (one of) a value.

    `equals` compares with the other field's value; for a multi-label field it
    holds when the value is among the chosen labels. `in` accepts any of a list.
    `present: true` holds whenever the other field has any value.
    """

    field: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    present: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [self.equals is not None, self.in_ is not None, self.present is not None]
        if sum(given) != 1:
            raise ValueError("a condition needs exactly one of 'equals', 'in', 'present'")
        return self


class LabelOption(Strict):
    """One choice of a label set, with an optional description and hotkey."""

    name: str
    description: str | None = None
    hotkey: str | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not value or not _LABEL_PATTERN.match(value):
            raise ValueError(
                f"label {quote(value)} is not valid: use non-empty names, '/' only between "
                "taxonomy levels, no leading spaces"
            )
        return value


def _coerce_labels(value: Any) -> Any:
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} {quote(name)}")
        seen.add(name)


class BaseField(Strict):
    """What every field kind has: a name, help text, required flag, condition."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    required: bool = True
    when: Condition | None = None
    per_turn: bool = False
    turn_roles: list[str] | None = None
    """With `per_turn`, which turn roles get a value (e.g. ['assistant']); None = all."""

    @model_validator(mode="after")
    def _turn_roles_need_per_turn(self) -> BaseField:
        if self.turn_roles is not None and not self.per_turn:
            raise ValueError("'turn_roles' is only allowed with 'per_turn: true'")
        if self.turn_roles is not None:
            # A misspelt role would silently make the field apply to no turn at all.
            if not self.turn_roles:
                raise ValueError("'turn_roles' must not be empty; leave it out for all roles")
            for role in self.turn_roles:
                if role not in TURN_ROLES:
                    raise ValueError(
                        f"turn role {quote(role)} is not known; valid: {', '.join(TURN_ROLES)}"
                    )
        return self


class ChoiceField(BaseField):
    """Shared by `label` and `labels`: a label set, optionally a taxonomy tree.

    Hierarchical labels are written as paths (`safety/hate/slur`). Every ancestor
    of a listed path is itself a valid label; choosing a child implies its
    ancestors. With `leaf_only`, only leaves may be chosen.
    """

    labels: list[LabelOption]
    hierarchical: bool = False
    leaf_only: bool = False

    @field_validator("labels", mode="before")
    @classmethod
    def _strings_to_options(cls, value: Any) -> Any:
        return _coerce_labels(value)

    @field_validator("labels")
    @classmethod
    def _labels_valid(cls, value: list[LabelOption]) -> list[LabelOption]:
        if not value:
            raise ValueError("a label set needs at least one label")
        _check_unique([o.name for o in value], "label")
        hotkeys = [o.hotkey for o in value if o.hotkey is not None]
        _check_unique(hotkeys, "hotkey")
        return value

    @model_validator(mode="after")
    def _paths_only_when_hierarchical(self) -> ChoiceField:
        if not self.hierarchical:
            nested = [o.name for o in self.labels if TAXONOMY_SEPARATOR in o.name]
            if nested:
                raise ValueError(
                    f"label {quote(nested[0])} contains '/': "
                    "set 'hierarchical: true' for a taxonomy"
                )
        if self.leaf_only and not self.hierarchical:
            raise ValueError("'leaf_only' is only allowed with 'hierarchical: true'")
        return self

    def label_names(self) -> list[str]:
        """Every choosable label: listed ones plus, for a taxonomy, their ancestors."""
        all_nodes = self.taxonomy_nodes()
        if self.leaf_only:
            return [n for n in all_nodes if not any(m.startswith(n + "/") for m in all_nodes)]
        return all_nodes

    def taxonomy_nodes(self) -> list[str]:
        """Every label of the set, choosable or not: listed ones plus their ancestors."""
        names = [o.name for o in self.labels]
        if not self.hierarchical:
            return names
        seen: dict[str, None] = {}
        for name in names:
            for node in with_ancestors(name):
                seen.setdefault(node, None)
        return list(seen)


def ancestors(label: str) -> list[str]:
    """Proper ancestors of a taxonomy path, root first: a/b/c -> [a, a/b]."""
    parts = label.split(TAXONOMY_SEPARATOR)
    return [TAXONOMY_SEPARATOR.join(parts[:i]) for i in range(1, len(parts))]


def with_ancestors(label: str) -> list[str]:
    """A taxonomy path and everything it implies, root first."""
    return [*ancestors(label), label]


class LabelField(ChoiceField):
    """Single choice from a label set."""

    kind: Literal["label"]


class LabelsField(ChoiceField):
    """Multi-label choice; `min_count`/`max_count` bound how many are chosen."""

    kind: Literal["labels"]
    min_count: int = Field(default=0, ge=0, le=MAX_COUNT)
    max_count: int | None = Field(default=None, ge=1, le=MAX_COUNT)

    @model_validator(mode="after")
    def _bounds(self) -> LabelsField:
        if self.max_count is not None and self.max_count < self.min_count:
            raise ValueError("'max_count' must be >= 'min_count'")
        return self


class RelationType(Strict):
    """A relation between spans.

    `directed`: head -> tail (e.g. works_for PER -> ORG); `undirected`: a pair;
    `chain`: a coreference chain of two or more spans that refer to one entity.
    """

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["directed", "undirected", "chain"] = "directed"
    head_labels: list[str] | None = None
    tail_labels: list[str] | None = None

    @model_validator(mode="after")
    def _label_limits(self) -> RelationType:
        if self.kind == "chain" and (self.head_labels or self.tail_labels):
            raise ValueError("a chain relation has no 'head_labels'/'tail_labels'")
        return self


class Normalization(Strict):
    """Per-span normalized value or knowledge-base id (entity linking)."""

    required: bool = False
    knowledge_base: str | None = None
    pattern: str | None = None
    """Regular expression a normalized value must match in full (e.g. `Q[0-9]+`)."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from exc
        return value


class SpansField(BaseField):
    """Character-offset spans over a text of the item, each with a label.

    `source` names the item text the offsets refer to (`text`, `prompt`,
    `responses[0]`, ...). Offsets are `[start, end)` over Python characters.
    """

    kind: Literal["spans"]
    source: str = "text"
    labels: list[LabelOption]
    allow_overlap: bool = False
    normalization: Normalization | None = None
    relations: list[RelationType] = Field(default_factory=list)
    required: bool = False

    @field_validator("labels", mode="before")
    @classmethod
    def _strings_to_options(cls, value: Any) -> Any:
        return _coerce_labels(value)

    @field_validator("labels")
    @classmethod
    def _labels_valid(cls, value: list[LabelOption]) -> list[LabelOption]:
        if not value:
            raise ValueError("a span field needs at least one label")
        _check_unique([o.name for o in value], "label")
        return value

    @field_validator("relations")
    @classmethod
    def _relations_unique(cls, value: list[RelationType]) -> list[RelationType]:
        _check_unique([r.name for r in value], "relation")
        return value

    @model_validator(mode="after")
    def _relation_labels_known(self) -> SpansField:
        names = {o.name for o in self.labels}
        for relation in self.relations:
            for label in [*(relation.head_labels or []), *(relation.tail_labels or [])]:
                if label not in names:
                    raise ValueError(
                        f"relation {relation.name!r} names label {quote(label)}, which is not "
                        f"in the span labels; valid: {', '.join(sorted(names))}"
                    )
        return self

    def label_names(self) -> list[str]:
        return [o.name for o in self.labels]


class RatingField(BaseField):
    """A score on an ordinal (integer points) or interval (real-valued) scale."""

    kind: Literal["rating"]
    scale: Literal["ordinal", "interval"] = "ordinal"
    min: float
    max: float
    step: float | None = None
    point_labels: dict[str, str] | None = None
    """Optional names for scale points, e.g. {'1': 'useless', '5': 'excellent'}."""

    @model_validator(mode="after")
    def _bounds(self) -> RatingField:
        if self.max <= self.min:
            raise ValueError("'max' must be greater than 'min'")
        if self.scale == "ordinal" and (self.min != int(self.min) or self.max != int(self.max)):
            raise ValueError("an ordinal scale needs integer 'min' and 'max'")
        if self.step is not None and self.step <= 0:
            raise ValueError("'step' must be positive")
        if self.scale == "ordinal" and self.step is not None and self.step != int(self.step):
            # Ordinal values are whole points; a fractional step would contradict that.
            raise ValueError("an ordinal scale needs an integer 'step'")
        return self

    def effective_step(self) -> float | None:
        """Ordinal scales move in whole points unless a step says otherwise."""
        if self.step is not None:
            return self.step
        return 1.0 if self.scale == "ordinal" else None


class RankingField(BaseField):
    """Order the candidate responses of an item, best first.

    The value is a list of candidate indices (0-based); with `allow_ties` it may
    be a list of groups (lists of indices) where a group shares a rank.
    """

    kind: Literal["ranking"]
    source: str = "responses"
    allow_ties: bool = False


class PreferenceField(BaseField):
    """Pick the better of two responses (DPO/RM pairs), optional tie and strength."""

    kind: Literal["preference"]
    source: str = "responses"
    allow_tie: bool = True
    strengths: list[str] | None = None
    """Ordered strength labels, weakest first, e.g. [slightly, clearly, much]."""
    require_strength: bool = False

    @model_validator(mode="after")
    def _strengths(self) -> PreferenceField:
        if self.strengths is not None:
            if not self.strengths:
                raise ValueError("'strengths' must not be empty; leave it out instead")
            _check_unique(self.strengths, "strength")
        if self.require_strength and not self.strengths:
            raise ValueError("'require_strength' needs 'strengths'")
        return self


class TextField(BaseField):
    """Free text written or edited by the annotator.

    `prefill` names an item text shown for editing (e.g. `responses[0]` for a
    rewrite of the model's answer).
    """

    kind: Literal["text"]
    min_length: int = Field(default=0, ge=0, le=MAX_COUNT)
    max_length: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    prefill: str | None = None
    multiline: bool = True

    @model_validator(mode="after")
    def _bounds(self) -> TextField:
        if self.max_length is not None and self.max_length < self.min_length:
            raise ValueError("'max_length' must be >= 'min_length'")
        return self


AnyField = Annotated[
    LabelField
    | LabelsField
    | SpansField
    | RatingField
    | RankingField
    | PreferenceField
    | TextField,
    Field(discriminator="kind"),
]

FIELD_KINDS = ("label", "labels", "spans", "rating", "ranking", "preference", "text")


class AnnotationSchema(Strict):
    """A versioned list of fields; the contract every annotation is checked against."""

    version: int = Field(default=1, ge=1, le=MAX_VERSION)
    fields: list[AnyField]

    @field_validator("fields")
    @classmethod
    def _fields_valid(cls, value: list[AnyField]) -> list[AnyField]:
        if not value:
            raise ValueError("a schema needs at least one field")
        _check_unique([f.name for f in value], "field name")
        return value

    @model_validator(mode="after")
    def _conditions_refer_to_earlier_fields(self) -> AnnotationSchema:
        seen: dict[str, AnyField] = {}
        for index, spec in enumerate(self.fields):
            if spec.when is not None:
                target = seen.get(spec.when.field)
                if target is None:
                    raise ValueError(
                        f"fields[{index}] ({spec.name}): condition refers to "
                        f"{spec.when.field!r}, which is not an earlier field"
                    )
                if target.per_turn != spec.per_turn:
                    raise ValueError(
                        f"fields[{index}] ({spec.name}): a condition must refer to a field "
                        "with the same 'per_turn' setting"
                    )
                _check_condition_values(index, spec, target)
            seen[spec.name] = spec
        return self

    def field(self, name: str) -> AnyField:
        """The field called `name` (KeyError if there is none)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _check_condition_values(index: int, spec: AnyField, target: AnyField) -> None:
    """A condition on a label field must name labels that exist.

    Any taxonomy node counts, even with `leaf_only`: a chosen leaf implies its
    ancestors, so `equals: safety` holds whenever a `safety/...` leaf is chosen.
    """
    if not isinstance(target, ChoiceField) or spec.when is None:
        return
    wanted = [spec.when.equals] if spec.when.equals is not None else (spec.when.in_ or [])
    valid = target.taxonomy_nodes()
    for value in wanted:
        if value not in valid:
            raise ValueError(
                f"fields[{index}] ({spec.name}): condition value {quote(value)} is not a label of "
                f"{target.name!r}; valid: {', '.join(valid)}"
            )
