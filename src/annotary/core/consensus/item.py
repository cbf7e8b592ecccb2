"""An item's consensus: every field through its kind's aggregator, then one verdict.

A per-turn field (conversations) is aggregated turn by turn; its agreement and
confidence are the smallest over its turns. The item may be finalized when
every compared field reaches its threshold, no free-text answer waits for a
reviewer, and the combined answer is itself a valid annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from annotary.core.consensus.aggregator import AggregatorSpec
from annotary.core.consensus.outcome import FieldOutcome, ItemConsensus, UnitResult, Voters
from annotary.core.consensus.settings import FieldRule, aggregators_of
from annotary.core.schema.fields import AnnotationSchema, AnyField
from annotary.core.schema.validation import validate_annotation
from annotary.errors import E_COMPONENT_UNKNOWN, E_PLUGIN_RESULT, Unavailable

if TYPE_CHECKING:
    from annotary.core.plugins.registry import Components, Plugins


def item_consensus(
    schema: AnnotationSchema,
    rules: Mapping[str, FieldRule],
    payloads: Sequence[dict[str, Any]],
    voters: Voters,
    item: dict[str, Any] | None = None,
    plugins: Plugins | None = None,
) -> ItemConsensus:
    """The consensus of one item's annotations (`payloads`, in submission order).

    Each field goes to the registered method its rule names (`plugins`; None:
    the default plugins); a method that fails, or returns anything but one
    `UnitResult` per unit, is an error naming its plugin (E906).

    The combined answer is checked against the schema, with the item's content
    when given (`item`); without it, the checks that need the item (which turns
    a per-turn field must cover) are skipped.

    >>> from annotary.core.consensus.settings import field_rules
    >>> s = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "r", "kind": "rating", "min": 1, "max": 5},
    ...     {"name": "why", "kind": "text", "required": False}]})
    >>> rules = field_rules(s, "majority", 0.66, {})
    >>> c = item_consensus(s, rules, [{"r": 3}, {"r": 4}, {"r": 4, "why": "ok"}], Voters((1, 2, 3)))
    >>> c.payload, c.agreed, c.fields["why"].candidates
    ({'r': 4, 'why': 'ok'}, False, ('ok',))
    """
    if not payloads:
        raise ValueError("consensus needs at least one annotation")
    aggregators = aggregators_of(plugins)
    units = {
        spec.name: _split_turns(spec, [p.get(spec.name) for p in payloads])
        for spec in schema.fields
    }
    results = _combined(
        schema, rules, {name: u for name, (_, u) in units.items()}, voters, aggregators
    )
    outcomes: dict[str, FieldOutcome] = {}
    payload: dict[str, Any] = {}
    for spec in schema.fields:
        outcome = _outcome(
            spec, rules[spec.name], units[spec.name][0], results[spec.name], aggregators
        )
        outcomes[spec.name] = outcome
        if outcome.value is not None:
            payload[spec.name] = outcome.value
    omitted = [name for name, rule in rules.items() if rule.method == "omit"]
    problems = tuple(
        f"{p.path}: {p.reason}"
        for p in validate_annotation(schema, payload, item)
        if not any(_under(p.path, name) for name in omitted)
        and (item is not None or not _needs_turns(schema, p.path, p.reason))
    )
    return ItemConsensus(payload, outcomes, problems)


def _needs_turns(schema: AnnotationSchema, path: str, reason: str) -> bool:
    """Whether a problem is about which turns a per-turn field covers: without the
    item, its turns and their roles are unknown (the annotations were checked with it)."""
    spec = next((f for f in schema.fields if _under(path, f.name)), None)
    return spec is not None and spec.per_turn and reason.startswith("is required")


def _under(path: str, name: str) -> bool:
    """Whether an error path points into the field `name`."""
    return path == name or path.startswith((f"{name}.", f"{name}["))


def _split_turns(spec: AnyField, values: list[Any]) -> tuple[list[str], list[list[Any]]]:
    """The units of a field: one of all its values, or one per turn of a per-turn field."""
    if not spec.per_turn:
        return [], [values]
    turns = sorted(
        {str(k) for v in values if isinstance(v, dict) for k in v},
        key=lambda k: (len(k), k),  # turn indices: '2' before '10'
    )
    return turns, [[v.get(turn) if isinstance(v, dict) else None for v in values] for turn in turns]


def _outcome(
    spec: AnyField,
    rule: FieldRule,
    turns: list[str],
    results: Sequence[UnitResult],
    aggregators: Components[AggregatorSpec],
) -> FieldOutcome:
    """A field's outcome from its units' results (the smallest agreement over turns)."""
    if spec.per_turn:
        by_turn = {t: r.value for t, r in zip(turns, results, strict=True) if r.value is not None}
        value: Any = by_turn or None
    else:
        value = results[0].value
    agreements = [r.agreement for r in results if r.agreement is not None]
    confidences = [r.confidence for r in results if r.confidence is not None]
    compared = aggregators[rule.method].measure is not None
    method = next((r.method for r in results if r.method is not None), rule.method)
    return FieldOutcome(
        value=value,
        method=method,
        measure=aggregators[method].measure,
        agreement=(min(agreements) if agreements else 1.0) if compared else None,
        confidence=(min(confidences) if confidences else None) if compared else None,
        threshold=rule.threshold if compared else None,
        needs_review=any(r.needs_review for r in results),
        candidates=tuple(c for r in results for c in r.candidates),
    )


def _combined(
    schema: AnnotationSchema,
    rules: Mapping[str, FieldRule],
    units: Mapping[str, list[list[Any]]],
    voters: Voters,
    aggregators: Components[AggregatorSpec],
) -> dict[str, Sequence[UnitResult]]:
    """Each field's unit results from its method: fields without units (a per-turn
    field nobody answered) have none; a method with `combine_many` takes all its
    fields of the item in one call (one fit), the others one field at a time."""
    results: dict[str, Sequence[UnitResult]] = {}
    batches: dict[str, list[AnyField]] = {}
    for spec in schema.fields:
        method = _registered(rules[spec.name].method, spec, aggregators)
        if not units[spec.name]:
            results[spec.name] = []
        elif method.combine_many is not None:
            batches.setdefault(method.name, []).append(spec)
        else:
            rule, field_units = rules[spec.name], units[spec.name]
            try:
                given = method.combine(spec, rule, field_units, voters)
            except Exception as exc:
                raise _failed(method, [spec], aggregators, exc) from exc
            results[spec.name] = _checked(method, spec, given, len(field_units), aggregators)
    for name, specs in batches.items():
        method = aggregators[name]
        assert method.combine_many is not None  # batched for having one
        fields = [(spec, rules[spec.name], units[spec.name]) for spec in specs]
        try:
            given_many = list(method.combine_many(fields, voters))
        except Exception as exc:
            raise _failed(method, specs, aggregators, exc) from exc
        if len(given_many) != len(specs):
            raise _failed(
                method, specs, aggregators, f"{len(given_many)} results for {len(specs)} fields"
            )
        for spec, given in zip(specs, given_many, strict=True):
            results[spec.name] = _checked(method, spec, given, len(units[spec.name]), aggregators)
    return results


def _registered(
    name: str, spec: AnyField, aggregators: Components[AggregatorSpec]
) -> AggregatorSpec:
    """The method `name`; rules resolved under other plugins may name one not here."""
    if name not in aggregators:
        raise Unavailable(
            E_COMPONENT_UNKNOWN,
            f"field {spec.name!r} uses the consensus method {name!r}, which no installed "
            "plugin registers (`annotary plugins` lists them)",
        )
    return aggregators[name]


def _checked(
    method: AggregatorSpec,
    spec: AnyField,
    given: Any,
    count: int,
    aggregators: Components[AggregatorSpec],
) -> Sequence[UnitResult]:
    """A method's results for one field, if they are one `UnitResult` per unit with
    agreement and confidence from 0 to 1 (or None) and a registered `method`."""
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Sequence):
        raise _failed(method, [spec], aggregators, f"returned {type(given).__name__}, not a list")
    if len(given) != count:
        raise _failed(method, [spec], aggregators, f"{len(given)} results for {count} units")
    for result in given:
        problem = _result_problem(result, aggregators)
        if problem:
            raise _failed(method, [spec], aggregators, problem)
    return given


def _result_problem(result: Any, aggregators: Components[AggregatorSpec]) -> str | None:
    if not isinstance(result, UnitResult):
        return f"returned {type(result).__name__} where a UnitResult belongs"
    for name in ("agreement", "confidence"):
        value = getattr(result, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
        ):
            return f"{name} {value!r} is not from 0 to 1"
    if result.method is not None and result.method not in aggregators:
        return f"method {result.method!r} is not a registered consensus method"
    return None


def _failed(
    method: AggregatorSpec,
    specs: Sequence[AnyField],
    aggregators: Components[AggregatorSpec],
    cause: Exception | str,
) -> Unavailable:
    """The error for a method that raised, or returned what a consensus cannot use."""
    why = f"{type(cause).__name__}: {cause}" if isinstance(cause, Exception) else cause
    fields = ", ".join(repr(spec.name) for spec in specs)
    return Unavailable(
        E_PLUGIN_RESULT,
        f"consensus method {method.name!r} of plugin {aggregators.plugin_of(method.name)!r} "
        f"failed on field {fields}: {why}"[:500],
    )
