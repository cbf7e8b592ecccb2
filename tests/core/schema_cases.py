"""Hypothesis strategies for the schema tests: random schemas with valid payloads.

`cases()` draws an item, a schema (every field kind, taxonomies, per-turn and
conditional fields) and a payload that is valid by construction. The strategies
decide validity on their own (see `condition_holds`), never by asking the
validator under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter

from annotary.core.items import TURN_ROLES
from annotary.core.schema import AnnotationSchema, AnyField

Draw = Callable[[st.SearchStrategy[Any]], Any]
FIELD: TypeAdapter[AnyField] = TypeAdapter(AnyField)

WORDS = ["alpha", "beta", "gamma", "delta", "omega"]
SPAN_LABELS = ["PER", "ORG", "LOC"]
TEXTS = st.text(alphabet="abcde XYZ", min_size=1, max_size=30)
NOT_A_LABEL = "zz-not-a-label"


@dataclass
class Case:
    """A schema definition, an item and an annotation of it."""

    item: dict[str, Any]
    fields: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, AnyField] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)

    def schema(self) -> AnnotationSchema:
        return AnnotationSchema.model_validate({"fields": self.fields})


# --- items -------------------------------------------------------------------------------


@st.composite
def items(draw: Draw, field_kind: str | None = None, needs_turns: bool = False) -> dict[str, Any]:
    """An item that can carry a `field_kind` field (and per-turn fields if `needs_turns`)."""
    kinds = ["text", "prompt_responses", "conversation", "turn"]
    if field_kind in ("ranking", "preference"):
        kinds = ["prompt_responses"]
    elif needs_turns:
        kinds = ["conversation", "turn"]
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        return {"text": draw(TEXTS)}
    if kind == "prompt_responses":
        count = draw(st.just(2) | st.integers(1, 4))  # two responses often: preferences need them
        count = 2 if field_kind == "preference" else count
        return {
            "prompt": draw(TEXTS),
            "responses": draw(st.lists(TEXTS, min_size=count, max_size=count)),
        }
    turn = st.fixed_dictionaries({"role": st.sampled_from(TURN_ROLES), "content": TEXTS})
    turns = draw(st.lists(turn, min_size=1, max_size=4))
    if kind == "conversation":
        return {"turns": turns}
    index = draw(st.integers(0, len(turns) - 1))
    return {"turns": turns[: index + 1], "turn_index": index}


def text_sources(item: dict[str, Any]) -> list[str]:
    if "text" in item:
        return ["text"]
    if "prompt" in item:
        return ["prompt", *(f"responses[{i}]" for i in range(len(item["responses"])))]
    turns = [f"turns[{i}]" for i in range(len(item["turns"]))]
    return ["text", *turns] if "turn_index" in item else turns


def annotated_turns(item: dict[str, Any], roles: list[str] | None) -> list[int]:
    indices = [item["turn_index"]] if "turn_index" in item else range(len(item["turns"]))
    return [i for i in indices if roles is None or item["turns"][i]["role"] in roles]


def scope_text(scope: dict[str, Any], source: str) -> str:
    if source == "text" and "turn_index" in scope:
        return str(scope["turns"][scope["turn_index"]]["content"])
    if source.startswith("responses["):
        return str(scope["responses"][int(source[10:-1])])
    if source.startswith("turns["):
        return str(scope["turns"][int(source[6:-1])]["content"])
    return str(scope[source])


# --- definitions -------------------------------------------------------------------------


def define(draw: Draw, kind: str, item: dict[str, Any], per_turn: bool) -> dict[str, Any]:
    if kind in ("label", "labels"):
        return define_choice(draw, kind)
    if kind == "spans":
        return define_spans(draw, item, per_turn)
    if kind == "rating":
        return define_rating(draw)
    if kind == "text":
        minimum = draw(st.integers(0, 4))
        maximum = draw(st.none() | st.integers(max(minimum, 1), 12))
        return {"kind": "text", "min_length": minimum, "max_length": maximum}
    if kind == "ranking":
        return {"kind": "ranking", "allow_ties": draw(st.booleans())}
    strengths = draw(st.none() | st.just(["slightly", "clearly", "much"]))
    return {
        "kind": "preference",
        "allow_tie": draw(st.booleans()),
        "strengths": strengths,
        "require_strength": strengths is not None and draw(st.booleans()),
    }


def define_choice(draw: Draw, kind: str) -> dict[str, Any]:
    hierarchical = draw(st.booleans())
    if hierarchical:
        path = st.lists(st.sampled_from("abc"), min_size=1, max_size=3).map("/".join)
        labels = draw(st.lists(path, min_size=1, max_size=6, unique=True))
    else:
        labels = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5, unique=True))
    definition: dict[str, Any] = {"kind": kind, "labels": labels, "hierarchical": hierarchical}
    definition["leaf_only"] = hierarchical and draw(st.booleans())
    if kind == "labels":
        choosable = len(FIELD.validate_python({**definition, "name": "probe"}).label_names())
        definition["min_count"] = draw(st.integers(0, min(2, choosable)))
        definition["max_count"] = draw(st.none() | st.integers(max(1, definition["min_count"]), 4))
    return definition


def define_spans(draw: Draw, item: dict[str, Any], per_turn: bool) -> dict[str, Any]:
    relations = [
        {"name": "rel", "kind": "directed", "head_labels": ["PER"]},
        {"name": "pair", "kind": "undirected"},
        {"name": "coref", "kind": "chain"},
    ]
    normalization = draw(
        st.none()
        | st.fixed_dictionaries({"pattern": st.just("Q[0-9]+"), "required": st.booleans()})
    )
    return {
        "kind": "spans",
        "source": "text" if per_turn else draw(st.sampled_from(text_sources(item))),
        "labels": ["PER", *draw(st.lists(st.sampled_from(SPAN_LABELS[1:]), unique=True))],
        "allow_overlap": draw(st.booleans()),
        "normalization": normalization,
        "relations": draw(st.sampled_from([[], relations])),
    }


def define_rating(draw: Draw) -> dict[str, Any]:
    if draw(st.booleans()):
        low = draw(st.integers(-2, 3))
        step = draw(st.none() | st.integers(1, 2))
        return {"kind": "rating", "min": low, "max": low + draw(st.integers(1, 6)), "step": step}
    low = draw(st.sampled_from([0, 0.5, -1]))
    high = low + draw(st.sampled_from([1, 2.5, 10]))
    step = draw(st.sampled_from([None, 0.1, 0.25]))
    return {"kind": "rating", "scale": "interval", "min": low, "max": high, "step": step}


def define_condition(draw: Draw, target: AnyField, target_value: Any) -> dict[str, Any]:
    nodes = target.taxonomy_nodes()
    chosen = chosen_labels(target, target_value)
    if chosen and draw(st.booleans()):
        # Often make the condition hold, so conditional values get generated too.
        nodes = chosen
    test = draw(st.sampled_from(["equals", "in", "present"]))
    if test == "equals":
        return {"field": target.name, "equals": draw(st.sampled_from(nodes))}
    if test == "in":
        return {"field": target.name, "in": draw(st.lists(st.sampled_from(nodes), min_size=1))}
    return {"field": target.name, "present": draw(st.booleans())}


def chosen_labels(target: AnyField, value: Any) -> list[str]:
    """Labels in a label/labels value (every turn's, for a per-turn value)."""
    if value is None:
        return []
    if target.per_turn:
        return [label for entry in value.values() for label in chosen_labels_flat(entry)]
    return chosen_labels_flat(value)


def chosen_labels_flat(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def condition_holds(model: AnyField, target: AnyField | None, target_value: Any) -> bool:
    """The test's own oracle for `when` (independent of the validator)."""
    condition = model.when
    if condition is None:
        return True
    if condition.present is not None:
        return (target_value is not None) == condition.present
    if target_value is None or target is None:
        return False
    chosen = target_value if isinstance(target_value, list) else [target_value]
    implied = set()
    for label in chosen:
        parts = label.split("/")
        levels = range(1, len(parts) + 1) if target.hierarchical else [len(parts)]
        implied.update("/".join(parts[:level]) for level in levels)
    wanted = [condition.equals] if condition.equals is not None else condition.in_
    return any(w in implied for w in wanted or [])


# --- valid values ------------------------------------------------------------------------


def value_for(draw: Draw, model: AnyField, scope: dict[str, Any]) -> Any:
    if model.kind == "label":
        return draw(st.sampled_from(model.label_names()))
    if model.kind == "labels":
        upper = len(model.label_names())
        if model.max_count is not None:
            upper = min(upper, model.max_count)
        size = draw(st.integers(model.min_count, upper))
        names = st.sampled_from(model.label_names())
        return draw(st.lists(names, unique=True, min_size=size, max_size=size))
    if model.kind == "spans":
        return spans_value(draw, model, scope_text(scope, model.source))
    if model.kind == "rating":
        return rating_value(draw, model)
    if model.kind == "ranking":
        return ranking_value(draw, model.allow_ties, len(scope["responses"]))
    if model.kind == "preference":
        choice = draw(st.sampled_from(["a", "b", "tie"] if model.allow_tie else ["a", "b"]))
        value = {"choice": choice}
        if model.strengths and choice != "tie" and (model.require_strength or draw(st.booleans())):
            value["strength"] = draw(st.sampled_from(model.strengths))
        return value
    low = max(model.min_length, 1 if model.required else 0)
    high = model.max_length if model.max_length is not None else low + 20
    text = st.text(alphabet="ab c", min_size=low, max_size=high)
    return draw(text.filter(lambda t: bool(t.strip()) or not model.required))


def rating_value(draw: Draw, model: AnyField) -> float:
    if model.step is None and model.scale == "interval":
        return float(draw(st.floats(model.min, model.max, allow_nan=False)))
    step = model.effective_step()
    points = int((model.max - model.min) / step + 1e-9)
    # A client rounds what it sends; the validator must accept min + k*step as rounded.
    return round(model.min + draw(st.integers(0, points)) * step, 9)


def ranking_value(draw: Draw, allow_ties: bool, count: int) -> list[Any]:
    order = draw(st.permutations(range(count)))
    if not allow_ties:
        return list(order)
    cuts = sorted(draw(st.sets(st.integers(1, count - 1), max_size=count - 1))) if count > 1 else []
    bounds = [0, *cuts, count]
    return [list(order[a:b]) for a, b in itertools.pairwise(bounds)]


def spans_value(draw: Draw, model: AnyField, text: str) -> Any:
    size = len(text)
    if model.allow_overlap:
        offsets = set()
        for _ in range(draw(st.integers(0, 5))):
            start = draw(st.integers(0, size - 1))
            offsets.add((start, draw(st.integers(start + 1, size))))
    else:
        points = sorted(draw(st.sets(st.integers(0, size), max_size=8)))
        offsets = set(zip(points[0::2], points[1::2], strict=False))
    spans = []
    for number, (start, end) in enumerate(sorted(offsets)):
        span: dict[str, Any] = {
            "start": start,
            "end": end,
            "label": draw(st.sampled_from(model.label_names())),
        }
        if draw(st.booleans()):
            span["text"] = text[start:end]
        if model.normalization and (model.normalization.required or draw(st.booleans())):
            span["normalized"] = f"Q{draw(st.integers(0, 999))}"
        span["id"] = f"s{number}"
        spans.append(span)
    spans = draw(st.permutations(spans))
    relations = relations_value(draw, spans) if model.relations and draw(st.booleans()) else []
    if not relations and draw(st.booleans()):
        for span in spans:
            if draw(st.booleans()):
                del span["id"]
    if relations or draw(st.booleans()):
        return {"spans": spans, "relations": relations}
    return spans


def relations_value(draw: Draw, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [s["id"] for s in spans]
    if len(ids) < 2:
        return []
    relations: list[dict[str, Any]] = []
    persons = [s["id"] for s in spans if s["label"] == "PER"]
    pairs = {(h, t) for h in persons for t in ids if h != t}
    for head, tail in draw(st.lists(st.sampled_from(sorted(pairs)), unique=True)) if pairs else []:
        relations.append({"type": "rel", "head": head, "tail": tail})
    unordered = {frozenset(p) for p in draw(st.lists(st.permutations(ids).map(lambda p: p[:2])))}
    relations.extend({"type": "pair", "head": a, "tail": b} for a, b in map(sorted, unordered))
    shuffled = draw(st.permutations(ids))
    chain_size = draw(st.integers(0, len(ids)))
    if chain_size >= 2:
        relations.append({"type": "coref", "members": list(shuffled[:chain_size])})
    return draw(st.permutations(relations))


# --- whole cases -------------------------------------------------------------------------


def kinds_for(item: dict[str, Any], per_turn: bool) -> list[str]:
    kinds = ["label", "labels", "spans", "rating", "text"]
    if not per_turn and "responses" in item:
        kinds.append("ranking")
        if len(item["responses"]) == 2:
            kinds.append("preference")
    return kinds


@st.composite
def cases(
    draw: Draw,
    first_kind: str | None = None,
    first_per_turn: bool | None = None,
    false_condition: bool = False,
) -> Case:
    """A valid case of one to five fields `f0`, `f1`, ...

    With `first_kind` or `first_per_turn`, field f0 is forced to that kind and
    per-turn setting, and is required with a value (at least one turn). With
    `false_condition`, f1 is conditional on f0 having no value, so it has none.
    """
    case = Case(item=draw(items(first_kind, needs_turns=first_per_turn is True)))
    for index in range(draw(st.integers(2 if false_condition else 1, 5))):
        forced = index == 0 and (first_kind is not None or first_per_turn is not None)
        if forced and first_per_turn is not None:
            per_turn = first_per_turn
        elif index == 1 and false_condition:
            per_turn = case.models["f0"].per_turn
        else:
            per_turn = "turns" in case.item and draw(st.booleans())
        kinds = [first_kind] if forced and first_kind else kinds_for(case.item, per_turn)
        definition = {
            "name": f"f{index}",
            **define(draw, draw(st.sampled_from(kinds)), case.item, per_turn),
        }
        definition["required"] = forced or draw(st.booleans())
        if per_turn:
            definition["per_turn"] = True
            roles = draw(st.none() | st.lists(st.sampled_from(TURN_ROLES), min_size=1, unique=True))
            if forced and not annotated_turns(case.item, roles):
                roles = None  # the forced field needs a turn to annotate
            definition["turn_roles"] = roles
        targets = [
            m
            for m in case.models.values()
            if m.kind in ("label", "labels") and m.per_turn == per_turn
        ]
        if index == 1 and false_condition:
            definition["when"] = {"field": "f0", "present": False}
        elif targets and draw(st.booleans()):
            target = draw(st.sampled_from(targets))
            definition["when"] = define_condition(draw, target, case.payload.get(target.name))
        model = FIELD.validate_python(definition)
        case.fields.append(definition)
        case.models[model.name] = model
        add_value(draw, case, model)
    return case


def add_value(draw: Draw, case: Case, model: AnyField) -> None:
    target = case.models.get(model.when.field) if model.when else None
    target_value = case.payload.get(target.name) if target else None
    if not model.per_turn:
        applies = condition_holds(model, target, target_value)
        if applies and (model.required or draw(st.booleans())):
            case.payload[model.name] = value_for(draw, model, case.item)
        elif draw(st.booleans()):
            case.payload[model.name] = None
        return
    entries: dict[str, Any] = {}
    for turn in annotated_turns(case.item, model.turn_roles):
        key = str(turn)
        turn_target = target_value.get(key) if isinstance(target_value, dict) else None
        if condition_holds(model, target, turn_target) and (model.required or draw(st.booleans())):
            entries[key] = value_for(draw, model, {**case.item, "turn_index": turn})
    if entries or model.required or draw(st.booleans()):
        case.payload[model.name] = entries
