"""Pure pieces of SPEC 4: attribute checks, calibration orders and files, throughput."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from annotary.core.calibration import next_position, parse_expert_items, participant_order
from annotary.core.people import ATTRIBUTE_KEYS, attribute_problems, clean_attributes
from annotary.core.quality.annotator_stats import gold_figures, throughput


def test_attributes_keys_values_and_cleaning() -> None:
    assert attribute_problems(dict.fromkeys(ATTRIBUTE_KEYS, "x")) == []
    problems = attribute_problems({"religion": "none", "gender": "\x00", "country": 3})
    assert [p.path for p in problems] == [
        "attributes.religion",
        "attributes.gender",
        "attributes.country",
    ]
    assert clean_attributes({"region": " north ", "age_band": "20-29"}) == {
        "age_band": "20-29",
        "region": "north",
    }


def test_orders_are_stable_per_participant_and_differ_between_them() -> None:
    positions = list(range(10))
    first = participant_order(positions, 42, 1, shuffle=True)
    assert participant_order(positions, 42, 1, shuffle=True) == first
    orders = {tuple(participant_order(positions, 42, user, shuffle=True)) for user in range(1, 8)}
    assert len(orders) == 7  # every participant meets the items in an order of their own
    assert all(sorted(order) == positions for order in orders)
    assert participant_order(positions, 42, 1, shuffle=False) == positions
    assert next_position(first, first[:3]) == first[3]
    assert next_position(first, positions) is None


def test_calibration_file_problems_name_their_line() -> None:
    lines = [
        '{"content": {"text": "a"}, "answer": {"s": "x"}, "reason": "r"}',
        "",
        "not json",
        "[1, 2]",
        '{"content": "a", "answer": {}, "reason": "r", "extra": 1}',
    ]
    items, problems = parse_expert_items(lines, "cal.jsonl")
    assert items == [{"content": {"text": "a"}, "answer": {"s": "x"}, "reason": "r"}]
    assert [p.location for p in problems] == [
        "cal.jsonl:3",
        "cal.jsonl:4",
        "cal.jsonl:5",
        "cal.jsonl:5",
    ]
    assert [p.path for p in problems][2:] == ["content", "extra"]


def test_throughput_splits_sessions_at_long_pauses() -> None:
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    # Two tasks of 10 s, then after a 2-hour pause (next day, UTC) two more.
    times = [
        start,
        start + timedelta(seconds=50),
        start + timedelta(hours=2),
        start + timedelta(hours=2, seconds=20),
    ]
    result = throughput(times, [10_000, 10_000, None, 5_000])
    assert result.active_days == 2 and result.per_active_day == 2.0
    # Session 1: 10 s lead + 50 s; session 2: no known lead + 20 s.
    assert result.active_hours * 3600 == pytest.approx(80.0)
    assert result.per_active_hour == pytest.approx(4 / (80 / 3600))
    assert result.median_seconds == 10.0
    empty = throughput([], [])
    assert (empty.annotations, empty.per_active_hour, empty.median_seconds) == (0, None, None)


def test_gold_figures_without_answers() -> None:
    figures = gold_figures([])
    assert (figures.answered, figures.accuracy, figures.ci_low) == (0, None, None)
