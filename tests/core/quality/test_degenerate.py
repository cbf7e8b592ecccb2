"""Degenerate inputs: the mathematically correct number, or E601 saying why.

Never a crash, a warning or an unexplained NaN: `-W error` semantics are forced
around every call here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotary.core.quality import (
    LEVELS,
    alpha_from_distances,
    alpha_masi,
    bio_agreement,
    bootstrap_alpha,
    brennan_prediger,
    cohen_kappa,
    contingency_table,
    encode_long,
    encode_observations,
    encode_wide,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    kendall_tau_b,
    krippendorff_alpha,
    pairwise_preference_agreement,
    percent_agreement,
    scott_pi,
    span_agreement,
    spearman_rho,
)
from annotary.errors import E_AGREEMENT_UNDEFINED, Invalid


def undefined(call: Callable[[], object], why: str) -> None:
    """`call` raises E601 and its message contains `why`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Invalid) as caught:
            call()
    assert caught.value.code == E_AGREEMENT_UNDEFINED
    assert caught.value.message.startswith("agreement undefined: ")
    assert why in caught.value.message, caught.value.message


def value(call: Callable[[], float]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = call()
    assert math.isfinite(result)
    return result


ONE_CATEGORY = [[0, 0, 0], [0, 0, -1], [0, 0, 0]]


# ---------------------------------------------------------------- one category only


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_with_one_category_is_undefined(level: Any) -> None:
    undefined(lambda: krippendorff_alpha(ONE_CATEGORY, level, values=[1.0]), "identical")


def test_alpha_with_identical_pairable_values_but_other_unpaired_values_is_undefined() -> None:
    undefined(lambda: krippendorff_alpha([[0, 0], [1, -1]]), "D_e = 0")


def test_kappa_family_with_one_category() -> None:
    undefined(lambda: cohen_kappa([0, 0, 0], [0, 0, 0]), "chance agreement is 1")
    undefined(lambda: cohen_kappa([1, 1], [1, 1], "quadratic"), "chance agreement is 1")
    undefined(lambda: scott_pi([2, 2], [2, 2]), "chance agreement is 1")
    undefined(lambda: fleiss_kappa(ONE_CATEGORY), "one category")
    undefined(lambda: fleiss_kappa_counts([[3, 0], [2, 0]]), "one category")
    undefined(lambda: gwet_ac1(ONE_CATEGORY), "at least two")
    undefined(lambda: brennan_prediger(ONE_CATEGORY), "at least two")
    assert percent_agreement([0, 0], [0, 0]) == 1.0


def test_one_category_used_of_several_offered_is_defined() -> None:
    # AC1 and BP only need q >= 2 categories offered: perfect agreement is 1.
    assert value(lambda: gwet_ac1(ONE_CATEGORY, n_categories=2)) == 1.0
    assert value(lambda: brennan_prediger(ONE_CATEGORY, n_categories=3)) == 1.0


def test_kappa_without_overlapping_categories_is_zero_not_undefined() -> None:
    # p_o = 0 and p_e = 0: kappa = 0 exactly (chance-level agreement).
    assert value(lambda: cohen_kappa([0, 0], [1, 1])) == 0.0


# ---------------------------------------------------------------- one coder, all missing


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_with_one_coder_is_undefined(level: Any) -> None:
    undefined(
        lambda: krippendorff_alpha([[0], [1], [2]], level, values=[1, 2, 3]), "nothing is pairable"
    )


def test_multi_rater_with_one_coder_is_undefined() -> None:
    for statistic in (fleiss_kappa, gwet_ac1, brennan_prediger):
        undefined(lambda s=statistic: s([[0], [1]], 2), "two or more ratings")  # type: ignore[misc]


def test_all_missing() -> None:
    missing = [[-1, -1], [-1, -1]]
    undefined(lambda: krippendorff_alpha(missing), "nothing is pairable")
    undefined(lambda: krippendorff_alpha([[None, None]], "interval"), "nothing is pairable")
    undefined(lambda: krippendorff_alpha(np.full((3, 2), np.nan), "ratio"), "nothing is pairable")
    undefined(lambda: fleiss_kappa(missing, 2), "two or more ratings")
    undefined(lambda: percent_agreement([-1, 0], [1, -1]), "no unit was labelled by both")
    undefined(lambda: cohen_kappa([-1], [-1]), "no unit was labelled by both")
    undefined(lambda: scott_pi([], []), "no unit was labelled by both")
    undefined(lambda: pairwise_preference_agreement(missing), "two or more judgements")
    undefined(lambda: alpha_masi([[None, None]]), "nothing is pairable")
    undefined(lambda: alpha_masi([]), "nothing is pairable")


# ---------------------------------------------------------------- single-value units


def test_units_with_a_single_value_are_dropped() -> None:
    data = [[0, 1, 1], [1, 1, 1], [2, 2, 1], [0, 0, 0]]
    with_singles = [*data, [2, -1, -1], [-1, -1, 0]]
    for level in ("nominal", "ordinal"):
        assert krippendorff_alpha(with_singles, level) == krippendorff_alpha(data, level)
    assert fleiss_kappa(with_singles, 3) == fleiss_kappa(data, 3)
    assert gwet_ac1(with_singles, 3) == gwet_ac1(data, 3)
    assert pairwise_preference_agreement(with_singles) == pairwise_preference_agreement(data)


def test_bootstrap_when_every_resample_is_undefined() -> None:
    undefined(lambda: bootstrap_alpha([[0, 0], [0, 0]], n_boot=10), "identical")
    undefined(lambda: bootstrap_alpha([[0, 0], [1, 1]], n_boot=0), "n_boot")


# ---------------------------------------------------------------- rankings and spans


def test_rank_correlations_with_constant_or_too_short_input() -> None:
    undefined(lambda: kendall_tau_b([1, 1, 1], [1, 2, 3]), "tied")
    undefined(lambda: spearman_rho([1, 2, 3], [4, 4, 4]), "tied")
    undefined(lambda: kendall_tau_b([1], [1]), "at least two")
    undefined(lambda: spearman_rho([1, 2], [1]), "equal length")
    undefined(lambda: spearman_rho([1, float("nan")], [1, 2]), "finite")
    assert kendall_tau_b([1, 2], [2, 1]) == -1.0


def test_span_agreement_with_no_spans_at_all() -> None:
    undefined(lambda: span_agreement([], []), "neither annotator marked any span")
    undefined(lambda: bio_agreement([["O", "O"]], [["O", "O"]]), "neither annotator")
    result = span_agreement([], [(0, 1, "X")])
    assert (result.micro.precision, result.micro.recall, result.micro.f1) == (0.0, 0.0, 0.0)


def test_malformed_spans_and_tags() -> None:
    undefined(lambda: span_agreement([(3, 3, "X")], []), "start < end")
    undefined(lambda: span_agreement([(0, 1)], []), "(start, end, label)")
    undefined(lambda: bio_agreement([["B-X", "E-X"]], [["O", "O"]]), "not IOB2")
    undefined(lambda: bio_agreement([["O"]], [["O", "O"]]), "1 vs 2 tags")
    undefined(lambda: span_agreement([(0, 1, "X")], [], mode="fuzzy"), "mode")  # type: ignore[arg-type]


# ---------------------------------------------------------------- malformed codes and arguments


def test_malformed_inputs_are_explained() -> None:
    undefined(lambda: cohen_kappa([0, 1], [0]), "need one per unit")
    undefined(lambda: cohen_kappa([0, 1], [0, 1], "cubic"), "valid: None")  # type: ignore[arg-type]
    undefined(lambda: cohen_kappa([0, 3], [0, 1], n_categories=2), "out of range")
    undefined(lambda: contingency_table([0, -2], [0, 0]), ">= 0, or -1")
    undefined(lambda: fleiss_kappa([[0.5, 1.0]]), "whole numbers")
    undefined(lambda: fleiss_kappa_counts([[1, -1]]), "non-negative")
    undefined(lambda: fleiss_kappa_counts([[1, np.nan]]), "non-negative")
    undefined(lambda: fleiss_kappa([[0, 1], [1]]), "rows of equal length")
    undefined(lambda: gwet_ac1(np.array([[0, 2**40]])), "too large")
    undefined(lambda: cohen_kappa([0, 10**6], [0, 1]), "contingency table supports")
    undefined(lambda: krippendorff_alpha([[1e300, -1e300]], "interval"), "rescale")
    undefined(lambda: bio_agreement([[None]], [["O"]]), "not IOB2")  # type: ignore[list-item]
    undefined(lambda: encode_wide(["ab", "cd"]), "list of labels")
    undefined(lambda: krippendorff_alpha([[0, 1]], "cardinal"), "valid: nominal")  # type: ignore[arg-type]
    undefined(lambda: krippendorff_alpha([[0, 1]], "interval"), "needs values=")
    undefined(lambda: krippendorff_alpha([[0, 1]], "ratio", values=[-1.0, 2.0]), "values >= 0")
    undefined(lambda: krippendorff_alpha([[0, 2]], values=[1.0, 2.0]), "out of range")
    undefined(lambda: krippendorff_alpha([[0, 1]], "ordinal", values=["lo", "hi"]), "numbers")
    undefined(lambda: krippendorff_alpha([["a", "b"]]), "encode_wide")
    undefined(lambda: krippendorff_alpha([[1.0, np.inf]], "interval"), "finite")
    undefined(lambda: alpha_from_distances([[0, 1]], [[0, 1], [2, 0]]), "symmetric")
    undefined(lambda: alpha_masi([[{"a"}, "a"]]), "not a set of labels")  # type: ignore[list-item]


def test_encoding_errors() -> None:
    undefined(lambda: encode_wide([["a", "b"], ["a"]]), "different numbers of coders")
    undefined(lambda: encode_wide([["a", "z"]], ["a", "b"]), "valid: 'a', 'b'")
    undefined(lambda: encode_wide([["a"]], ["a", "a"]), "duplicates")
    undefined(lambda: encode_wide([[["a"]]]), "not hashable")
    undefined(lambda: encode_long([(1, "x", "a"), (1, "x", "b")]), "more than once")
    undefined(
        lambda: encode_long([(1, "x", "a"), (2, "y", "a"), (2, "y", "b")]),
        "annotator 'y' labelled item 2 more than once",
    )
    repeated = encode_observations([(1, "x", "a"), (1, "x", "b")])
    assert repeated.label.tolist() == [0, 1]
    undefined(repeated.to_matrix, "more than once")
    undefined(lambda: encode_observations([(1, "x", "a"), (1, "x", "a")], allow_repeats=False), "x")


# ---------------------------------------------------------------- anything goes: E601 or a number

Codes = npt.NDArray[np.int64]
matrices = st.integers(0, 6).flatmap(
    lambda units: st.integers(0, 4).flatmap(
        lambda coders: st.lists(
            st.integers(-1, 2), min_size=units * coders, max_size=units * coders
        ).map(lambda flat: np.array(flat, dtype=np.int64).reshape(units, coders))
    )
)


@settings(max_examples=100, deadline=None)
@given(matrices)
def test_every_statistic_returns_a_number_or_raises_e601(codes: Codes) -> None:
    two = codes[:, :2] if codes.shape[1] >= 2 else np.full((codes.shape[0], 2), -1)
    calls: list[Callable[[], float]] = [
        lambda: percent_agreement(two[:, 0], two[:, 1]),
        lambda: cohen_kappa(two[:, 0], two[:, 1], "linear"),
        lambda: scott_pi(two[:, 0], two[:, 1]),
        lambda: fleiss_kappa(codes),
        lambda: gwet_ac1(codes),
        lambda: brennan_prediger(codes),
        lambda: pairwise_preference_agreement(codes),
        *[
            lambda level=level: krippendorff_alpha(codes, level, values=[0, 1, 2])
            for level in LEVELS
        ],
        lambda: krippendorff_alpha(codes.astype(float), "interval"),
    ]
    for call in calls:
        try:
            result: float | Invalid = value(call)
        except Invalid as error:
            result = error
        if isinstance(result, Invalid):
            assert result.code == E_AGREEMENT_UNDEFINED
        else:  # every coefficient here is at most 1 (perfect agreement)
            assert result <= 1.0 + 1e-12
