from __future__ import annotations

import itertools

import pytest

from annotary.core.queue import (
    AnnotatorState,
    QueueRules,
    Refuse,
    Route,
    RouteFilter,
    ServeGold,
    ServeQualification,
    ServeRegular,
    ServeRework,
    after_gold_answer,
    allowed_routes,
    choose_next,
    flag_route,
    item_reference,
    match_route,
    sampled_for_review,
    senior_routes,
)

ROUTES = (
    Route({"domain": "medical"}, None, "expert", frozenset()),
    Route({"domain": "legal"}, None, None, frozenset({"law"})),
    Route({}, "sensitive", "expert", frozenset()),
)


@pytest.mark.parametrize(
    ("role", "terms", "paused", "qualified", "failed", "draw"),
    list(
        itertools.product(
            ["annotator", "reviewer", "expert", "manager"],
            [False, True],
            [False, True],
            [False, True],
            [False, True],
            [0.01, 0.5],
        )
    ),
)
def test_decision_table(role, terms, paused, qualified, failed, draw) -> None:
    rules = QueueRules(gold_rate=0.1, terms_required=True, qualification_items=5)
    state = AnnotatorState(role, frozenset(), terms, paused, None, qualified, failed)
    decision = choose_next(state, rules, draw)
    if role == "manager":
        assert isinstance(decision, Refuse) and decision.code == "E702"
    elif not terms:
        assert decision == Refuse("E805", "accept the project's confidentiality terms first")
    elif paused:
        assert isinstance(decision, Refuse) and decision.code == "E804"
    elif not qualified and failed:
        assert isinstance(decision, Refuse) and decision.code == "E806"
    elif not qualified:
        assert decision == ServeQualification()
    elif draw < 0.1:
        assert isinstance(decision, ServeGold)
    else:
        assert isinstance(decision, ServeRegular)


def test_no_gates_when_not_configured() -> None:
    state = AnnotatorState("annotator")
    assert choose_next(state, QueueRules(), 0.0) == ServeRegular(RouteFilter(True, frozenset()))


def test_routes_by_tier_and_skill() -> None:
    plain = allowed_routes(AnnotatorState("annotator"), ROUTES)
    lawyer = allowed_routes(AnnotatorState("annotator", frozenset({"law"})), ROUTES)
    expert = allowed_routes(AnnotatorState("expert"), ROUTES)
    assert plain.rules == frozenset()
    assert lawyer.rules == {1}
    assert expert.rules == {0, 2}


def test_match_route_by_metadata_and_flag() -> None:
    assert match_route(ROUTES, {"domain": "medical", "lang": "en"}) == 0
    assert match_route(ROUTES, {"domain": "legal"}) == 1
    assert match_route(ROUTES, {"domain": "retail"}) is None
    assert match_route(ROUTES, {}) is None
    assert flag_route(ROUTES, ["unclear_guideline", "sensitive"], {}) == 2
    assert flag_route(ROUTES, ["needs_expert"], {"domain": "medical"}) is None


def test_a_rule_on_metadata_and_flag_routes_flagged_matching_items_only() -> None:
    routes = (
        Route({"domain": "medical"}, "sensitive", "expert", frozenset({"medical"})),
        Route({}, "sensitive", "reviewer", frozenset()),
    )
    assert match_route(routes, {"domain": "medical"}) is None  # not flagged: anyone
    assert flag_route(routes, ["sensitive"], {"domain": "medical"}) == 0
    assert flag_route(routes, ["sensitive"], {"domain": "retail"}) == 1


def test_gold_outcomes() -> None:
    rules = QueueRules(
        min_gold_accuracy=0.7,
        min_gold_count=5,
        qualification_items=4,
        qualification_pass_mark=0.75,
    )
    assert after_gold_answer(rules, True, 3, 3).qualified is False
    assert after_gold_answer(rules, True, 4, 3).qualified is True
    assert after_gold_answer(rules, True, 4, 2).qualification_failed is True
    assert after_gold_answer(rules, False, 4, 0).pause_reason is None  # too few yet
    assert after_gold_answer(rules, False, 5, 4).pause_reason is None
    reason = after_gold_answer(rules, False, 10, 6).pause_reason
    assert reason is not None and "60%" in reason and "70%" in reason


def test_review_sample_is_deterministic_and_near_the_rate() -> None:
    secret = bytes(range(32))
    picked = [i for i in range(1, 20001) if sampled_for_review(secret, i, 0.1)]
    assert 1800 < len(picked) < 2200
    assert picked == [i for i in range(1, 20001) if sampled_for_review(secret, i, 0.1)]
    assert not any(sampled_for_review(secret, i, 0.0) for i in range(100))
    assert all(sampled_for_review(secret, i, 1.0) for i in range(100))


def test_review_sample_follows_the_secret_not_the_ids() -> None:
    """Same ids under another project's secret: another sample, at the same rate."""
    ids = range(1, 20001)
    samples = [
        {i for i in ids if sampled_for_review(secret, i, 0.1)}
        for secret in (b"a" * 32, b"b" * 32, bytes(32))
    ]
    for sample in samples:
        assert 1800 < len(sample) < 2200
    for one, other in itertools.combinations(samples, 2):
        # Independent samples of 10% share about 1% of the ids, not 10%.
        assert len(one & other) < 400
    with pytest.raises(ValueError, match="secret is missing"):
        sampled_for_review(b"", 1, 0.1)


def test_item_references_are_opaque_and_stable() -> None:
    secret = b"k" * 32
    refs = [item_reference(secret, i) for i in range(1, 1001)]
    assert refs == [item_reference(secret, i) for i in range(1, 1001)]
    assert len(set(refs)) == 1000
    assert refs != sorted(refs)  # no order of ids to read off
    assert item_reference(b"j" * 32, 1) != refs[0]
    assert all(len(ref) == 24 for ref in refs)


SENIOR_RULES = (
    Route({"domain": "legal"}, None, "expert", frozenset({"law"})),
    Route({"domain": "finance"}, None, None, frozenset({"finance"})),
    Route({}, "sensitive", "expert", frozenset({"trust_and_safety"})),
    Route({}, "unclear_guideline", "reviewer", frozenset()),
)


@pytest.mark.parametrize(
    ("role", "skills", "queue", "base", "rules"),
    [
        # Managers take anything.
        ("manager", (), "escalated", True, {0, 1, 2, 3}),
        # Escalations: experts by default; a flag rule names its own tier and skills.
        ("expert", (), "escalated", True, {3}),
        ("expert", ("trust_and_safety",), "escalated", True, {2, 3}),
        ("expert", ("law", "finance"), "escalated", True, {0, 1, 3}),
        ("reviewer", ("trust_and_safety", "finance"), "escalated", False, {3}),
        ("annotator", ("trust_and_safety",), "escalated", False, set()),
        # Adjudication (tier reviewer here) and review keep the metadata routing.
        ("reviewer", (), "adjudication", True, {3}),
        ("reviewer", ("finance",), "adjudication", True, {1, 3}),
        ("reviewer", ("law",), "adjudication", True, {3}),  # the rule wants an expert
        ("expert", ("law",), "adjudication", True, {0, 3}),
        ("expert", ("law",), "review", True, {0, 3}),
        ("reviewer", ("finance",), "review", True, {1, 3}),
        ("annotator", ("finance", "law"), "review", False, set()),
    ],
)
def test_senior_routes(role, skills, queue, base, rules) -> None:
    state = AnnotatorState(role, frozenset(skills))
    allowed = senior_routes(state, SENIOR_RULES, queue, "reviewer")
    assert allowed == RouteFilter(base, frozenset(rules))
    assert allowed.allows(None) is base


def test_adjudication_tier_raises_the_bar_for_every_item() -> None:
    reviewer = AnnotatorState("reviewer", frozenset({"finance"}))
    assert senior_routes(reviewer, SENIOR_RULES, "adjudication", "expert") == RouteFilter(
        False, frozenset()
    )


@pytest.mark.parametrize(
    ("terms", "paused", "qualified", "draw"),
    list(itertools.product([False, True], [False, True], [False, True], [0.01, 0.5])),
)
def test_rework_comes_after_the_gates_and_before_gold(terms, paused, qualified, draw) -> None:
    """A rework task waiting for the annotator (SPEC 8) is served once every gate
    passes, before gold and new items; the gold draw still decides what follows."""
    rules = QueueRules(gold_rate=0.1, terms_required=True, qualification_items=5)
    state = AnnotatorState("annotator", frozenset(), terms, paused, None, qualified, False, True)
    decision = choose_next(state, rules, draw)
    if not terms or paused:
        assert isinstance(decision, Refuse)
    elif not qualified:
        assert decision == ServeQualification()
    else:
        routes = RouteFilter(True, frozenset())
        then = ServeGold(routes) if draw < 0.1 else ServeRegular(routes)
        assert decision == ServeRework(routes, then)
