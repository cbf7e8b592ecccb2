"""Properties of the consensus over random schemas of every field kind
(`tests.core.schema_cases`): unanimous annotations are their own consensus,
and no set of annotations breaks it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from annotary.core.consensus import field_rules, value_key
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import Voters
from annotary.core.schema import validate_annotation
from tests.core.schema_cases import Case, cases

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def has_text(value: object) -> bool:
    if isinstance(value, dict):
        return any(has_text(v) for v in value.values())
    return isinstance(value, str) and bool(value.strip())


def places(ranking: object) -> object:
    if not isinstance(ranking, list):
        return ranking
    return [sorted(g) if isinstance(g, list) else g for g in ranking]


@SETTINGS
@given(cases())
def test_unanimous_annotations_are_their_own_valid_consensus(case: Case) -> None:
    schema = case.schema()
    rules = field_rules(schema, "majority", 0.66, {})
    result = item_consensus(schema, rules, [case.payload] * 3, Voters((1, 2, 3)), case.item)
    assert validate_annotation(schema, result.payload, case.item) == []
    blind = item_consensus(schema, rules, [case.payload] * 3, Voters((1, 2, 3)))
    assert (blind.payload, blind.agreed) == (result.payload, result.agreed)
    waits = any(
        spec.kind == "text" and has_text(case.payload.get(spec.name)) for spec in schema.fields
    )
    assert result.agreed is not waits, result.problems
    for name, outcome in result.fields.items():
        assert outcome.agreement in (None, 1.0), name
        spec = schema.field(name)
        if spec.kind != "text" and not spec.per_turn:
            given, got = case.payload.get(name), result.payload.get(name)
            if spec.kind == "ranking":  # the order within a tied group means nothing
                given, got = places(given), places(got)
            assert value_key(spec, got) == value_key(spec, given), name


@SETTINGS
@given(cases(), cases())
def test_any_annotations_give_agreements_between_0_and_1(first: Case, second: Case) -> None:
    schema = first.schema()
    rules = field_rules(schema, "weighted", 0.66, {})
    payloads = [first.payload, second.payload, {}, first.payload]
    result = item_consensus(schema, rules, payloads, Voters((1, 2, 3, 4), (1.0, 0.5, 0.0, 2.0)))
    for outcome in result.fields.values():
        if outcome.agreement is not None:
            assert 0.0 <= outcome.agreement <= 1.0 + 1e-12
        if outcome.confidence is not None:
            assert 0.0 <= outcome.confidence <= 1.0 + 1e-12
