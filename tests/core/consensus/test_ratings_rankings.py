"""rating (median within a tolerance, per turn) and ranking (Borda / Bradley-Terry, W)."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotary.core.consensus import FieldSetting
from annotary.core.quality import kendall_w
from tests.core.consensus.build import consensus, schema_of

LIKERT = schema_of({"name": "r", "kind": "rating", "min": 1, "max": 5})


def test_ratings_3_4_4_agree_within_one_step() -> None:
    """The issue's example: whole-value comparison gave 2/3 and never more."""
    result = consensus(LIKERT, [{"r": 3}, {"r": 4}, {"r": 4}], threshold=0.9)
    assert result.payload == {"r": 4}
    outcome = result.fields["r"]
    assert (outcome.method, outcome.measure, outcome.agreement) == (
        "median",
        "share_within_tolerance",
        1.0,
    )
    assert result.agreed
    far = consensus(LIKERT, [{"r": 2}, {"r": 4}, {"r": 4}])
    assert far.fields["r"].agreement == pytest.approx(2 / 3)
    spread = consensus(LIKERT, [{"r": 1}, {"r": 3}, {"r": 5}])
    assert spread.payload == {"r": 3} and not spread.agreed  # only 3 is within 1 of 3


def test_tolerance_zero_asks_for_the_exact_median() -> None:
    exact = {"r": FieldSetting(tolerance=0)}
    result = consensus(LIKERT, [{"r": 3}, {"r": 4}, {"r": 4}], settings=exact)
    assert result.fields["r"].agreement == pytest.approx(2 / 3)


def test_even_counts_take_the_lower_median_a_rating_someone_gave() -> None:
    result = consensus(LIKERT, [{"r": 5}, {"r": 2}, {"r": 4}, {"r": 1}])
    assert result.payload == {"r": 2}


def test_steps_count_in_the_scale_step_and_from_its_min() -> None:
    half_stars = schema_of(
        {"name": "r", "kind": "rating", "scale": "interval", "min": 0.5, "max": 5, "step": 0.5}
    )
    result = consensus(half_stars, [{"r": 3.5}, {"r": 4.5}, {"r": 4.0}])
    assert result.payload == {"r": 4.0}
    assert result.fields["r"].agreement == pytest.approx(1.0)  # 3.5 and 4.5 are one step off
    two_steps = consensus(half_stars, [{"r": 3.0}, {"r": 4.0}, {"r": 4.0}])
    assert two_steps.fields["r"].agreement == pytest.approx(2 / 3)
    slider = schema_of({"name": "r", "kind": "rating", "scale": "interval", "min": 0, "max": 100})
    tenths = consensus(slider, [{"r": 50}, {"r": 59.5}, {"r": 61}])  # a step is 10 here
    assert tenths.payload == {"r": 59.5}
    assert tenths.fields["r"].agreement == 1.0


def test_per_turn_ratings_are_aggregated_per_turn_agreement_the_worst_turn() -> None:
    schema = schema_of(
        {"name": "coherence", "kind": "rating", "min": 1, "max": 5, "per_turn": True}
    )
    result = consensus(
        schema,
        [
            {"coherence": {"1": 4, "3": 2}},
            {"coherence": {"1": 5, "3": 5}},
            {"coherence": {"1": 4, "3": 4}},
        ],
    )
    assert result.payload == {"coherence": {"1": 4, "3": 4}}
    assert result.fields["coherence"].agreement == pytest.approx(2 / 3)  # turn 3: 2 is 2 off


@given(st.lists(st.integers(1, 5), min_size=1, max_size=9), st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_median_and_tolerance_share(ratings: list[int], tolerance: int) -> None:
    result = consensus(
        LIKERT, [{"r": r} for r in ratings], settings={"r": FieldSetting(tolerance=tolerance)}
    )
    median = statistics.median_low(ratings)
    assert result.payload == {"r": median}
    within = sum(abs(r - median) <= tolerance for r in ratings) / len(ratings)
    assert result.fields["r"].agreement == pytest.approx(within)


RANKING = schema_of({"name": "k", "kind": "ranking"})
TIED = schema_of({"name": "k", "kind": "ranking", "allow_ties": True})


@pytest.mark.parametrize("method", ["borda", "bradley_terry"])
def test_rankings_aggregate_with_kendall_w(method: str) -> None:
    choice = {"k": FieldSetting(method=method)}
    result = consensus(
        RANKING, [{"k": [0, 1, 2]}, {"k": [0, 1, 2]}, {"k": [1, 0, 2]}], settings=choice
    )
    assert result.payload == {"k": [0, 1, 2]}
    outcome = result.fields["k"]
    assert (outcome.method, outcome.measure) == (method, "kendall_w")
    assert outcome.agreement == pytest.approx(kendall_w([[1, 2, 3], [1, 2, 3], [2, 1, 3]]))
    assert outcome.agreement == pytest.approx(7 / 9)
    assert result.agreed
    reversed_one = consensus(
        RANKING, [{"k": [0, 1, 2]}, {"k": [0, 1, 2]}, {"k": [2, 1, 0]}], settings=choice
    )
    assert reversed_one.payload == {"k": [0, 1, 2]}
    assert reversed_one.fields["k"].agreement == pytest.approx(1 / 9)
    assert not reversed_one.agreed


def test_identical_rankings_agree_fully_even_all_tied() -> None:
    assert consensus(RANKING, [{"k": [2, 0, 1]}] * 3).fields["k"].agreement == 1.0
    all_tied = consensus(TIED, [{"k": [[0, 1, 2]]}] * 2)
    assert all_tied.payload == {"k": [[0, 1, 2]]}
    assert all_tied.fields["k"].agreement == 1.0


def test_tied_rankings_group_equal_scores() -> None:
    result = consensus(TIED, [{"k": [[0, 1], [2]]}, {"k": [[1], [0], [2]]}, {"k": [[0], [1], [2]]}])
    assert result.payload == {"k": [[0, 1], [2]]}  # 0 and 1 get equal Borda points
    w = kendall_w([[1.5, 1.5, 3], [2, 1, 3], [1, 2, 3]])
    assert result.fields["k"].agreement == pytest.approx(w)


def test_bradley_terry_breaks_equal_strengths_by_borda() -> None:
    """Unanimous rankings have no finite Bradley-Terry MLE; the order still holds."""
    choice = {"k": FieldSetting(method="bradley_terry")}
    result = consensus(RANKING, [{"k": [3, 1, 0, 2]}] * 3, settings=choice)
    assert result.payload == {"k": [3, 1, 0, 2]}


@given(st.lists(st.permutations([0, 1, 2, 3]), min_size=2, max_size=6))
@settings(max_examples=200, deadline=None)
def test_borda_order_sorts_by_mean_place(rankings: list[list[int]]) -> None:
    result = consensus(RANKING, [{"k": r} for r in rankings])
    order = result.payload["k"]
    mean_place = {c: sum(r.index(c) for r in rankings) / len(rankings) for c in range(4)}
    assert [mean_place[c] for c in order] == sorted(mean_place.values())
    agreement = result.fields["k"].agreement
    assert agreement is not None and 0.0 <= agreement <= 1.0 + 1e-12
