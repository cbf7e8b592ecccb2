"""MACE: multi-annotator competence estimation (who is spamming, and what is true)."""

from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse
from scipy.special import digamma

from annotary.core.aggregation._codes import (
    FloatArray,
    IntArray,
    check_long,
    chosen_value,
    top_label,
)


class MACE:
    """MACE (Hovy, Berg-Kirkpatrick, Vaswani & Hovy 2013) fitted by EM or variational Bayes.

    Model: the true label `T_i` is uniform over the labels; worker `j` knows the
    answer with probability `competence_[j]` and then gives `T_i`, otherwise
    spams a label drawn from `strategies_[j]`. So
    `P(A_ij = a | T_i = t) = c_j [a = t] + (1 - c_j) s_j[a]`. Each restart starts
    from random parameters (drawn from `random_state`), runs `n_iter` rounds, and
    the restart with the highest marginal likelihood wins. `method="em"` smooths
    the expected counts by `smoothing` (default 0.01 / number of labels, as
    crowd-kit); `method="vb"` uses variational Bayes with a Beta(`alpha`, `beta`)
    prior on spamming vs knowing and a symmetric Dirichlet(10) prior on the
    strategies (crowd-kit's `MACE` defaults). `labels_` takes the smallest code
    among equal top posteriors; `confidence_` is the chosen label's posterior.

    Reference: D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy, *Learning
    Whom to Trust with MACE*, NAACL-HLT 2013, 1120-1130.
    <https://aclanthology.org/N13-1132>

    >>> m = MACE(n_restarts=2).fit([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2],
    ...                            [1, 1, 0, 0, 0, 1], 2, 3, 2)
    >>> m.labels_.tolist()
    [1, 0]
    """

    method: ClassVar[str] = "mace"

    labels_: IntArray
    """Label code with the highest posterior per item; -1 where the item has no observation."""
    confidence_: FloatArray
    """Posterior of the chosen label; NaN where the item has no observation."""
    probas_: FloatArray
    """Items x labels posteriors (rows of zeros for items without observations)."""
    competence_: FloatArray
    """Per worker, the probability of knowing (not spamming) an answer."""
    strategies_: FloatArray
    """Workers x labels: the label distribution of each worker's spam answers."""
    log_likelihood_: float
    """Marginal log-likelihood of the winning restart."""

    def __init__(
        self,
        n_restarts: int = 10,
        n_iter: int = 50,
        method: Literal["vb", "em"] = "vb",
        smoothing: float | None = None,
        alpha: float = 0.5,
        beta: float = 0.5,
        strategy_prior: float = 10.0,
        random_state: int = 0,
    ) -> None:
        if method not in ("vb", "em"):
            raise ValueError(f"unknown method {method!r}; valid: 'vb', 'em'")
        if n_restarts < 1 or n_iter < 0:
            raise ValueError("need n_restarts >= 1 and n_iter >= 0")
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.fit_method = method
        self.smoothing = smoothing
        self.alpha = alpha
        self.beta = beta
        self.strategy_prior = strategy_prior
        self.random_state = random_state

    def fit(
        self,
        item_codes: npt.ArrayLike,
        worker_codes: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        n_items: int,
        n_workers: int,
        n_labels: int,
    ) -> Self:
        """Run every restart and keep the parameters of the most likely one."""
        items, workers, labels = check_long(
            item_codes, worker_codes, label_codes, n_items, n_workers, n_labels
        )
        by_item = sparse.csr_matrix(
            (np.ones(items.size), (items, np.arange(items.size))), shape=(n_items, items.size)
        )
        observed = np.bincount(items, minlength=n_items) > 0
        data = _Data(items, workers, labels, by_item, observed, n_workers, n_labels)
        rng = np.random.default_rng(self.random_state)
        best: tuple[float, _Params] | None = None
        for _ in range(self.n_restarts):
            start = rng.uniform(1.0, 1.5, size=(n_workers, 2))
            strategies = rng.uniform(1.0, 1.5, size=(n_workers, n_labels))
            params = _Params(
                start[:, 1] / start.sum(axis=1),
                start[:, 0] / start.sum(axis=1),
                strategies / strategies.sum(axis=1, keepdims=True),
            )
            for _ in range(self.n_iter):
                _, _, counts = _e_step(data, params)
                params = self._m_step(counts, n_labels)
            log_likelihood, _, _ = _e_step(data, params)
            if best is None or log_likelihood > best[0]:
                best = (log_likelihood, params)
        if best is None:  # unreachable: __init__ requires n_restarts >= 1
            raise ValueError("MACE needs at least one restart")
        self.log_likelihood_, params = best
        _, posteriors, _ = _e_step(data, params)
        self.competence_ = params.knowing / (params.knowing + params.spamming)
        self.strategies_ = params.strategies / params.strategies.sum(axis=1, keepdims=True)
        self.probas_ = posteriors
        self.labels_, _ = top_label(posteriors, observed)
        self.confidence_ = chosen_value(posteriors, self.labels_)
        return self

    def _m_step(self, counts: tuple[FloatArray, FloatArray, FloatArray], n_labels: int) -> _Params:
        """Parameters from expected counts: smoothed EM, or the mean-field VB update."""
        knowing, spamming, spam_labels = counts
        if self.fit_method == "em":
            smoothing = 0.01 / n_labels if self.smoothing is None else self.smoothing
            total = knowing + spamming + 2 * smoothing
            strategies = (spam_labels + smoothing) / (
                spam_labels.sum(axis=1, keepdims=True) + n_labels * smoothing
            )
            return _Params(
                (knowing + smoothing) / total, (spamming + smoothing) / total, strategies
            )
        # VB: the E-step uses exp(E[log p]) under the Beta/Dirichlet posteriors, which
        # are sub-normalised weights, not probabilities.
        total = digamma(knowing + spamming + self.alpha + self.beta)
        prior = spam_labels + self.strategy_prior
        return _Params(
            np.exp(digamma(knowing + self.beta) - total),
            np.exp(digamma(spamming + self.alpha) - total),
            np.exp(digamma(prior) - digamma(prior.sum(axis=1, keepdims=True))),
        )


class _Params(NamedTuple):
    """Per worker weights of knowing and of spamming, and the spam label distribution."""

    knowing: FloatArray
    spamming: FloatArray
    strategies: FloatArray


class _Data:
    """The observations of one fit, in the shapes the E-step needs."""

    def __init__(
        self,
        items: IntArray,
        workers: IntArray,
        labels: IntArray,
        by_item: sparse.csr_matrix,
        observed: npt.NDArray[np.bool_],
        n_workers: int,
        n_labels: int,
    ) -> None:
        self.items, self.workers, self.labels = items, workers, labels
        self.by_item, self.observed = by_item, observed
        self.n_workers, self.n_labels = n_workers, n_labels


def _e_step(
    data: _Data, params: _Params
) -> tuple[float, FloatArray, tuple[FloatArray, FloatArray, FloatArray]]:
    """Posteriors of the true labels, the marginal log-likelihood and expected counts."""
    rows = np.arange(data.items.size)
    knows = params.knowing[data.workers]
    spam = params.spamming[data.workers] * params.strategies[data.workers, data.labels]
    # likelihood[o, t] = P(answer of observation o | true label t)
    likelihood = np.repeat(spam[:, None], data.n_labels, axis=1)
    likelihood[rows, data.labels] += knows
    log_joint = np.asarray(data.by_item @ np.log(likelihood)) - np.log(data.n_labels)
    top = log_joint.max(axis=1, keepdims=True)
    scaled = np.exp(log_joint - top)
    norm = scaled.sum(axis=1, keepdims=True)
    posteriors = scaled / norm
    posteriors[~data.observed] = 0.0
    log_likelihood = float((np.log(norm) + top)[data.observed].sum())
    # P(worker knew | answer, data) = P(T = answer) * c / (c + (1 - c) s[answer])
    knew = posteriors[data.items, data.labels] * knows / (knows + spam)
    spammed = 1.0 - knew
    knowing = np.bincount(data.workers, weights=knew, minlength=data.n_workers).astype(np.float64)
    spamming = np.bincount(data.workers, weights=spammed, minlength=data.n_workers).astype(
        np.float64
    )
    spam_labels = (
        np.bincount(
            data.workers * data.n_labels + data.labels,
            weights=spammed,
            minlength=data.n_workers * data.n_labels,
        )
        .reshape(data.n_workers, data.n_labels)
        .astype(np.float64)
    )
    return log_likelihood, posteriors, (knowing, spamming, spam_labels)
