"""Properties of validation over random schemas of every field kind.

Valid payloads (from `schema_cases.cases`) must pass; a payload broken in one
named way must be blamed on the broken field. Every mutation is its own test
case, so each kind of breakage is exercised on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotary.core.schema import AnyField, validate_annotation
from tests.core.schema_cases import Case, Draw, cases, scope_text, value_for

VALID_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MUTATION_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
NOT_A_LABEL = "zz-not-a-label"


@VALID_SETTINGS
@given(cases())
def test_valid_payloads_have_no_errors(case: Case) -> None:
    assert validate_annotation(case.schema(), case.payload, case.item) == []


@VALID_SETTINGS
@given(cases())
def test_valid_payloads_stay_valid_without_the_item(case: Case) -> None:
    # Without the item, turns are unknown: only required per-turn fields may complain.
    found = validate_annotation(case.schema(), case.payload, None)
    for error in found:
        assert case.models[error.path.split(".")[0]].per_turn, found
        assert "at least one turn" in error.reason or "is required for turn" in error.reason


def assert_blamed(case: Case, path: str) -> None:
    found = validate_annotation(case.schema(), case.payload, case.item)
    blamed = [e for e in found if e.path == path or e.path.startswith((f"{path}.", f"{path}["))]
    assert blamed, (path, found)


# --- one value of field f0 broken ------------------------------------------------------


@dataclass
class Slot:
    """Where one value of f0 lives: the payload itself, or one turn's entry if per-turn."""

    case: Case
    container: dict[str, Any]
    key: str
    model: AnyField
    scope: dict[str, Any]
    path: str

    @property
    def value(self) -> Any:
        return self.container[self.key]

    def spans(self) -> list[dict[str, Any]]:
        return self.value if isinstance(self.value, list) else self.value["spans"]


def f0_slots(case: Case) -> list[Slot]:
    model, value = case.models["f0"], case.payload["f0"]
    if not model.per_turn:
        return [Slot(case, case.payload, "f0", model, case.item, "f0")]
    return [
        Slot(case, value, key, model, {**case.item, "turn_index": int(key)}, f"f0.{key}")
        for key in value
    ]


Mutate = Callable[[Draw, Slot], None]


def set_to(new: Any) -> Mutate:
    def mutate(draw: Draw, slot: Slot) -> None:
        slot.container[slot.key] = new

    return mutate


def add_spans(*new: dict[str, Any]) -> Mutate:
    """Append spans. Placeholders: "size"/"size+1" for the text length (plus one),
    "first"/"last" for the field's first/last span label."""

    def mutate(draw: Draw, slot: Slot) -> None:
        size = len(scope_text(slot.scope, slot.model.source))
        names = slot.model.label_names()
        placeholders = {"size": size, "size+1": size + 1, "first": names[0], "last": names[-1]}
        for span in new:
            slot.spans().append(
                {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in span.items()}
            )

    return mutate


def overlap(draw: Draw, slot: Slot) -> None:
    slot.case.fields[0]["allow_overlap"] = False
    add_spans(
        {"start": 0, "end": "size", "label": "first"}, {"start": 0, "end": 1, "label": "last"}
    )(draw, slot)


def first_label(slot: Slot) -> str:
    return str(slot.model.label_names()[0])


def rating_beyond(side: str) -> Mutate:
    def mutate(draw: Draw, slot: Slot) -> None:
        model = slot.model
        slot.container[slot.key] = model.max + 1 if side == "max" else model.min - 1

    return mutate


def text_length(draw: Draw, slot: Slot) -> None:
    limit = slot.model.max_length
    slot.container[slot.key] = "x" * (limit + 1) if limit is not None else "   "


VALUE_MUTATIONS: list[tuple[str, str, Mutate]] = [
    ("label-wrong-type", "label", set_to(7)),
    ("label-not-in-set", "label", set_to(NOT_A_LABEL)),
    ("labels-wrong-type", "labels", set_to("alpha")),
    ("labels-not-in-set", "labels", lambda draw, slot: slot.value.append(NOT_A_LABEL)),
    ("labels-duplicate", "labels", lambda draw, slot: slot.value.extend(2 * [first_label(slot)])),
    ("spans-wrong-type", "spans", set_to(3)),
    ("spans-out-of-bounds", "spans", add_spans({"start": 0, "end": "size+1", "label": "first"})),
    ("spans-negative-start", "spans", add_spans({"start": -1, "end": 1, "label": "first"})),
    ("spans-boolean-offset", "spans", add_spans({"start": True, "end": 1, "label": "first"})),
    ("spans-label-not-in-set", "spans", add_spans({"start": 0, "end": 1, "label": NOT_A_LABEL})),
    ("spans-unknown-key", "spans", add_spans({"start": 0, "end": 1, "label": "first", "x": 1})),
    ("spans-identical", "spans", add_spans(*[{"start": 0, "end": 1, "label": "first"}] * 2)),
    ("spans-overlap", "spans", overlap),
    ("rating-wrong-type", "rating", set_to("high")),
    ("rating-boolean", "rating", set_to(True)),
    ("rating-above-max", "rating", rating_beyond("max")),
    ("rating-below-min", "rating", rating_beyond("min")),
    ("ranking-wrong-type", "ranking", set_to({"0": 1})),
    ("ranking-unranked", "ranking", lambda draw, slot: slot.value.pop()),
    ("ranking-twice", "ranking", lambda draw, slot: slot.value.append(slot.value[0])),
    ("preference-wrong-type", "preference", set_to(["a"])),
    ("preference-bad-choice", "preference", set_to({"choice": "c"})),
    ("preference-unknown-key", "preference", lambda draw, slot: slot.value.update(why="x")),
    ("text-wrong-type", "text", set_to(12)),
    ("text-length", "text", text_length),
]


@pytest.mark.parametrize(
    ("kind", "mutate"), [pytest.param(kind, fn, id=name) for name, kind, fn in VALUE_MUTATIONS]
)
@MUTATION_SETTINGS
@given(data=st.data())
def test_a_broken_value_is_blamed_on_its_field(kind: str, mutate: Mutate, data: Any) -> None:
    case = data.draw(cases(first_kind=kind))
    slot = data.draw(st.sampled_from(f0_slots(case)))
    mutate(data.draw, slot)
    assert_blamed(case, slot.path)


# --- the payload as a whole broken -------------------------------------------------------


def unknown_field(draw: Draw, case: Case) -> str:
    case.payload["zz_unknown"] = 1
    return "zz_unknown"


def missing_required(draw: Draw, case: Case) -> str:
    del case.payload["f0"]
    return "f0"


def missing_turn(draw: Draw, case: Case) -> str:
    key = draw(st.sampled_from(sorted(case.payload["f0"])))
    del case.payload["f0"][key]
    return f"f0.{key}"


def per_turn_not_an_object(draw: Draw, case: Case) -> str:
    case.payload["f0"] = list(case.payload["f0"].values())
    return "f0"


def turn_key(make_key: Callable[[Case], str]) -> Callable[[Draw, Case], str]:
    def mutate(draw: Draw, case: Case) -> str:
        entries = case.payload["f0"]
        key = make_key(case)
        entries[key] = next(iter(entries.values()))
        return f"f0.{key}"

    return mutate


def condition_false_but_given(draw: Draw, case: Case) -> str:
    case.payload["f1"] = value_for(draw, case.models["f1"], case.item)
    return "f1"


PAYLOAD_MUTATIONS: list[tuple[str, dict[str, Any], Callable[[Draw, Case], str]]] = [
    ("unknown-field", {}, unknown_field),
    ("missing-required", {"first_per_turn": False}, missing_required),
    ("missing-turn", {"first_per_turn": True}, missing_turn),
    ("per-turn-not-an-object", {"first_per_turn": True}, per_turn_not_an_object),
    ("turn-key-not-an-index", {"first_per_turn": True}, turn_key(lambda case: "x")),
    ("turn-key-padded", {"first_per_turn": True}, turn_key(lambda case: "01")),
    (
        "turn-beyond-item",
        {"first_per_turn": True},
        turn_key(lambda case: str(len(case.item["turns"]) + 2)),
    ),
    (
        "condition-false-but-given",
        {"first_per_turn": False, "false_condition": True},
        condition_false_but_given,
    ),
]


@pytest.mark.parametrize(
    ("options", "mutate"),
    [pytest.param(options, fn, id=name) for name, options, fn in PAYLOAD_MUTATIONS],
)
@MUTATION_SETTINGS
@given(data=st.data())
def test_a_broken_payload_is_blamed_on_the_broken_field(
    options: dict[str, Any], mutate: Callable[[Draw, Case], str], data: Any
) -> None:
    case = data.draw(cases(**options))
    path = mutate(data.draw, case)
    assert_blamed(case, path)
