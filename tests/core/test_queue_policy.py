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
    after_gold_answer,
    allowed_routes,
    choose_next,
    flag_route,
    match_route,
    sampled_for_review,
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
    assert flag_route(ROUTES, ["unclear_guideline", "sensitive"]) == 2
    assert flag_route(ROUTES, ["needs_expert"]) is None


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
    picked = [i for i in range(1, 20001) if sampled_for_review(i, 0.1)]
    assert 1800 < len(picked) < 2200
    assert picked == [i for i in range(1, 20001) if sampled_for_review(i, 0.1)]
    assert not any(sampled_for_review(i, 0.0) for i in range(100))
    assert all(sampled_for_review(i, 1.0) for i in range(100))
