"""MACE: the synthetic-spammer QA vector and crowd-kit's competence estimates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from annotary.core.aggregation import MACE
from tests.core.aggregation.vectors import encode, load_vector

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from crowdkit import aggregation as crowdkit_aggregation

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def _fit(method: str) -> tuple[MACE, list[str], list[str], list[str]]:
    case = load_vector("mace_synthetic_spammer")
    params = case["mace_params"]
    data = encode(case["annotations"])
    mace = MACE(
        n_restarts=params["n_restarts"],
        n_iter=params["n_iter"],
        method=method,  # type: ignore[arg-type]
        alpha=params["alpha"],
        beta=params["beta"],
        random_state=params["random_state"],
    ).fit(data.item_codes, data.worker_codes, data.label_codes, *data.shape)
    return mace, data.items, data.workers, data.labels


@pytest.mark.parametrize("method", ["vb", "em"])
def test_reproduces_the_spammer_vector_and_finds_the_spammer(method: str) -> None:
    case = load_vector("mace_synthetic_spammer")
    mace, items, workers, labels = _fit(method)
    got = {item: labels[code] for item, code in zip(items, mace.labels_, strict=True)}
    assert got == case["expected"]["labels"]
    competence = dict(zip(workers, mace.competence_, strict=True))
    assert competence["spam"] < 0.05
    assert min(competence["good1"], competence["good2"], competence["good3"]) > 0.85
    assert competence["good1"] > competence["good2"] > competence["good3"]
    np.testing.assert_allclose(mace.probas_.sum(axis=1), 1.0)
    assert mace.method == "mace"


def test_competence_close_to_crowdkit_vb() -> None:
    case = load_vector("mace_synthetic_spammer")
    params = {k: case["mace_params"][k] for k in ("n_restarts", "n_iter", "random_state", "method")}
    frame = pd.DataFrame(case["annotations"], columns=["task", "worker", "label"])
    reference = crowdkit_aggregation.MACE(**params).fit(frame)
    # crowd-kit's spamming_ rows follow sorted worker names: [P(spam), P(know)], unnormalised
    knows = reference.spamming_[:, 1] / reference.spamming_.sum(axis=1)
    mace, *_ = _fit("vb")
    np.testing.assert_allclose(mace.competence_, knows, atol=0.01)


def test_restarts_are_reproducible_from_the_seed() -> None:
    first, *_ = _fit("vb")
    second, *_ = _fit("vb")
    assert first.log_likelihood_ == second.log_likelihood_
    assert (first.labels_ == second.labels_).all()
