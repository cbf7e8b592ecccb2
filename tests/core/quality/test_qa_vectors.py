"""Every QA vector of our metrics (tests/data/qa_vectors, copied from the shared
reference set) reproduced to its tolerance, and to its published figure.

Each checker returns the comparisons it made, so `test_every_case_is_exercised`
fails if a copied case of one of our metrics has no checker or checks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annotary.core.quality import (
    average_ranks,
    bio_agreement,
    brennan_prediger,
    cohen_kappa,
    encode_wide,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    kendall_tau_b,
    kendall_w,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    span_agreement,
    spearman_rho,
)
from annotary.core.quality.agreement import Weights
from annotary.core.quality.spans import BioMode, MatchMode, SpanAgreement

DATA = Path(__file__).resolve().parents[2] / "data" / "qa_vectors"
OUR_METRICS = {
    "percent",
    "cohen",
    "cohen_linear",
    "cohen_quadratic",
    "scott",
    "fleiss",
    "alpha",
    "gwet_ac1",
    "brennan_prediger",
    "kendall_tau_b",
    "kendall_w",
    "spearman",
    "span_f1",
    "bio_f1",
}
Case = dict[str, Any]
Comparison = tuple[str, float, float]  # (what, ours, expected)


def load_cases() -> list[Case]:
    cases = [json.loads(path.read_text()) for path in sorted(DATA.glob("*.json"))]
    return [case for case in cases if case["metric"] in OUR_METRICS]


CASES = load_cases()


def primary(case: Case) -> float:
    """Our value of the case's headline (scalar) metric."""
    return float(next(value for _, value, _ in CHECKERS[case["metric"]](case)))


def with_exact(case: Case, what: str, ours: float) -> list[Comparison]:
    out = [(what, ours, float(case["expected"]))]
    if "expected_exact" in case:
        out.append((f"{what} vs exact fraction", ours, float(Fraction(case["expected_exact"]))))
    return out


def check_percent(case: Case) -> list[Comparison]:
    codes, _ = encode_wide(case["rows"])
    return with_exact(case, "percent_agreement", percent_agreement(codes[:, 0], codes[:, 1]))


WEIGHTS: dict[str, Weights | None] = {
    "cohen": None,
    "cohen_linear": "linear",
    "cohen_quadratic": "quadratic",
}


def check_cohen(case: Case) -> list[Comparison]:
    codes, categories = encode_wide(case["rows"], case.get("categories"))
    weights = WEIGHTS[case["metric"]]
    kappa = cohen_kappa(codes[:, 0], codes[:, 1], weights, n_categories=len(categories))
    return with_exact(case, "cohen_kappa", kappa)


def check_scott(case: Case) -> list[Comparison]:
    codes, _ = encode_wide(case["rows"])
    out = with_exact(case, "scott_pi", scott_pi(codes[:, 0], codes[:, 1]))
    alpha = krippendorff_alpha(codes, "nominal")
    out.append(("nominal alpha", alpha, case["alpha_nominal_expected"]))
    out.append(("nominal alpha exact", alpha, float(Fraction(case["alpha_nominal_exact"]))))
    return out


def check_fleiss(case: Case) -> list[Comparison]:
    codes, _ = encode_wide(case["rows"], case["categories"])
    return [
        ("fleiss_kappa_counts(counts)", fleiss_kappa_counts(case["counts"]), case["expected"]),
        ("fleiss_kappa(codes)", fleiss_kappa(codes, len(case["categories"])), case["expected"]),
    ]


def check_gwet(case: Case) -> list[Comparison]:
    codes, categories = encode_wide(case["rows"], case["categories"])
    statistic = gwet_ac1 if case["metric"] == "gwet_ac1" else brennan_prediger
    return with_exact(case, case["metric"], statistic(codes, len(categories)))


def check_alpha(case: Case) -> list[Comparison]:
    rows, level = case["rows"], case["level"]
    codes, categories = encode_wide(rows)
    if any(isinstance(v, str) for row in rows for v in row):
        return with_exact(case, "alpha on codes", krippendorff_alpha(codes, level))
    values = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    out = with_exact(case, "alpha on values (NaN missing)", krippendorff_alpha(values, level))
    by_codes = krippendorff_alpha(codes, level, values=np.array(categories, dtype=float))
    out.append(("alpha on codes + values", by_codes, case["expected"]))
    out.append(("alpha on rows with None", krippendorff_alpha(rows, level), case["expected"]))
    return out


def check_ranking(case: Case) -> list[Comparison]:
    statistic = kendall_tau_b if case["metric"] == "kendall_tau_b" else spearman_rho
    return with_exact(case, case["metric"], statistic(case["x"], case["y"]))


def check_concordance(case: Case) -> list[Comparison]:
    rows = case["rows"]
    ours = kendall_w(rows)
    out = with_exact(case, "kendall_w", ours)
    if "rank_sums" in case:
        sums = np.vstack([average_ranks(row) for row in rows]).sum(axis=0)
        pairs = enumerate(zip(sums, case["rank_sums"], strict=True))
        out += [(f"rank sum {j}", float(s), w) for j, (s, w) in pairs]
    if "mean_spearman_expected" in case:
        pairs = [(a, b) for a in range(len(rows)) for b in range(a + 1, len(rows))]
        rho = float(np.mean([spearman_rho(rows[a], rows[b]) for a, b in pairs]))
        out.append(("mean pairwise spearman", rho, case["mean_spearman_expected"]))
        m = len(rows)
        out.append(("(mW - 1)/(m - 1)", (m * ours - 1) / (m - 1), case["mean_spearman_expected"]))
    if "chi_square_expected" in case:
        chi_square = len(rows) * (len(rows[0]) - 1) * ours
        out.append(("chi-square m(n-1)W", chi_square, case["chi_square_expected"]))
    return out


def compare_agreement(prefix: str, got: SpanAgreement, want: dict[str, Any]) -> list[Comparison]:
    out: list[Comparison] = []
    scored = [("micro", got.micro, want["micro"])]
    scored += [(label, got.per_label[label], w) for label, w in want["per_label"].items()]
    assert set(got.per_label) == set(want["per_label"]), prefix
    for name, score, expected in scored:
        for field in ("precision", "recall", "f1"):
            out.append((f"{prefix} {name} {field}", getattr(score, field), expected[field]))
            if "exact" in expected:
                exact = float(Fraction(expected["exact"][field]))
                out.append((f"{prefix} {name} {field} exact", getattr(score, field), exact))
        counts = ("n_gold", "n_pred", "matched_gold", "matched_pred")
        for field in (f for f in counts if f in expected):
            out.append((f"{prefix} {name} {field}", getattr(score, field), expected[field]))
        if "support" in expected:
            out.append((f"{prefix} {name} support", score.n_gold, expected["support"]))
    return out


def check_span(case: Case) -> list[Comparison]:
    out: list[Comparison] = []
    modes: tuple[MatchMode, ...] = ("exact", "overlap")
    for mode in modes:
        got = span_agreement(case["gold"], case["pred"], mode=mode)
        out += compare_agreement(mode, got, case["expected"][mode])
    return out


def check_bio(case: Case) -> list[Comparison]:
    out: list[Comparison] = []
    modes: tuple[tuple[str, BioMode], ...] = (("strict_iob2", "strict"), ("conlleval", "conlleval"))
    for key, mode in modes:
        got = bio_agreement(case["gold_tags"], case["pred_tags"], mode=mode)
        out += compare_agreement(key, got, case["expected"][key])
    return out


CHECKERS: dict[str, Callable[[Case], list[Comparison]]] = {
    "percent": check_percent,
    "cohen": check_cohen,
    "cohen_linear": check_cohen,
    "cohen_quadratic": check_cohen,
    "scott": check_scott,
    "fleiss": check_fleiss,
    "alpha": check_alpha,
    "gwet_ac1": check_gwet,
    "brennan_prediger": check_gwet,
    "kendall_tau_b": check_ranking,
    "kendall_w": check_concordance,
    "spearman": check_ranking,
    "span_f1": check_span,
    "bio_f1": check_bio,
}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_reproduces_expected(case: Case) -> None:
    tolerance = case["tolerance"]
    comparisons = CHECKERS[case["metric"]](case)
    wrong = [
        f"{what}: got {ours!r}, expected {want!r}"
        for what, ours, want in comparisons
        if not abs(ours - want) <= tolerance + 1e-15
    ]
    assert not wrong, "\n".join(wrong)


PUBLISHED = [c for c in CASES if c.get("published") is not None and c.get("decimals") is not None]


@pytest.mark.parametrize("case", PUBLISHED, ids=[c["name"] for c in PUBLISHED])
def test_case_matches_published_figure(case: Case) -> None:
    ours = primary(case)
    assert abs(ours - case["published"]) <= 0.5 * 10 ** -case["decimals"] + 1e-12, (
        f"{ours!r} does not round to the published {case['published']} "
        f"at {case['decimals']} decimals"
    )


def test_every_case_is_exercised() -> None:
    copied = [json.loads(path.read_text()) for path in sorted(DATA.glob("*.json"))]
    for path, case in zip(sorted(DATA.glob("*.json")), copied, strict=True):
        assert path.stem == case["name"], f"{path.name}: name field is {case['name']!r}"
    ours = [c for c in copied if c["metric"] in OUR_METRICS]
    assert {c["metric"] for c in ours} == OUR_METRICS, "a metric has no copied vector"
    assert [c["name"] for c in ours] == [c["name"] for c in CASES]
    for case in ours:
        assert case["metric"] in CHECKERS, f"{case['name']}: no checker"
        assert CHECKERS[case["metric"]](case), f"{case['name']}: checker compared nothing"
    published = [c["name"] for c in ours if c.get("published") is not None]
    assert published == [c["name"] for c in PUBLISHED], "a published figure lacks decimals"
