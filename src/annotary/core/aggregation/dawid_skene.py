"""Dawid-Skene: per-worker confusion matrices and item posteriors fitted by EM."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sparse

from annotary.core.aggregation._codes import (
    FloatArray,
    IntArray,
    check_long,
    chosen_value,
    top_label,
)

# Floor for error rates and priors before taking logs, as in crowd-kit, so that a
# confusion cell estimated at 0 can recover and log(0) never appears.
_EPS = 1e-10


class DawidSkene:
    """Dawid & Skene (1979) EM estimate of true labels and worker error rates.

    Model: the true label of item `i` is `k` with prior `priors_[k]`; given it,
    worker `w` answers `l` with probability `errors_[w, k, l]`, independently of
    other answers. EM as in the paper: initial item-class estimates are the
    vote shares `T[i, k]` = share of the item's observations equal to `k`
    (eq. 3.1; every repeat counts), then the M-step (error rates and priors
    from `T`) and the E-step (posteriors from them) alternate.
    The E-step runs in log space; both steps are sparse matrix products over a
    items x (worker, label) count matrix, so each iteration is linear in the
    number of observations.

    Details that follow crowd-kit's `DawidSkene` so results agree with it: error
    rates a worker could have produced (labels the worker used) are floored at
    1e-10 before normalising, priors are floored at 1e-10 in the E-step, and
    `labels_` takes the smallest label code among equal top posteriors. Iteration
    stops after `n_iter` E/M rounds or as soon as no posterior moved by more than
    `tol` (crowd-kit stops on the change of its evidence lower bound instead,
    which can end long before convergence: compare with `tol=-inf` there).

    Reference: A. P. Dawid and A. M. Skene, *Maximum likelihood estimation of
    observer error-rates using the EM algorithm*, Applied Statistics 28(1):20-28,
    1979. <https://doi.org/10.2307/2346806>

    >>> ds = DawidSkene().fit([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2],
    ...                       [1, 1, 0, 0, 0, 0], 2, 3, 2)
    >>> ds.labels_.tolist()
    [1, 0]
    """

    method: ClassVar[str] = "dawid_skene"

    labels_: IntArray
    """Label code with the highest posterior per item; -1 where the item has no observation."""
    confidence_: FloatArray
    """Posterior of the chosen label per item; NaN where the item has no observation."""
    probas_: FloatArray
    """Items x labels posteriors (rows of zeros for items without observations)."""
    priors_: FloatArray
    """Estimated class priors (mean posterior over the observed items)."""
    errors_: FloatArray
    """Workers x true label x observed label error rates; each [w, k] row sums to 1
    (all zeros for a worker without observations)."""
    log_likelihood_: list[float]
    """Observed-data log-likelihood per observation, at each E-step."""
    n_iter_: int
    """E/M rounds run."""
    converged_: bool
    """Whether the last round moved no posterior by more than `tol`."""

    def __init__(self, n_iter: int = 100, tol: float = 1e-7) -> None:
        if n_iter < 0:
            raise ValueError(f"n_iter must be >= 0, not {n_iter}")
        self.n_iter = n_iter
        self.tol = tol

    def fit(
        self,
        item_codes: npt.ArrayLike,
        worker_codes: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        n_items: int,
        n_workers: int,
        n_labels: int,
    ) -> Self:
        """Run EM from the vote-share initialisation until convergence or `n_iter`."""
        items, workers, labels = check_long(
            item_codes, worker_codes, label_codes, n_items, n_workers, n_labels
        )
        n_obs = items.size
        # counts[i, w * L + l]: how often worker w gave label l on item i
        counts = sparse.csr_matrix(
            (np.ones(n_obs), (items, workers * n_labels + labels)),
            shape=(n_items, n_workers * n_labels),
        )
        counts.sum_duplicates()
        counts_t = counts.T.tocsr()
        used = np.asarray(counts.sum(axis=0)).ravel() > 0
        observed = np.asarray(counts.sum(axis=1)).ravel() > 0

        label_counts = np.bincount(items * n_labels + labels, minlength=n_items * n_labels).reshape(
            n_items, n_labels
        )
        totals = label_counts.sum(axis=1, keepdims=True)
        posteriors = np.divide(
            label_counts, totals, out=np.zeros((n_items, n_labels)), where=totals > 0
        )
        priors, errors = self._m_step(posteriors, observed, counts_t, used, n_workers, n_labels)

        history: list[float] = []
        converged = False
        rounds = 0
        while rounds < self.n_iter and not converged:
            rounds += 1
            new, log_likelihood = self._e_step(counts, observed, priors, errors)
            history.append(log_likelihood / max(n_obs, 1))
            converged = bool(np.max(np.abs(new - posteriors), initial=0.0) <= self.tol)
            posteriors = new
            priors, errors = self._m_step(posteriors, observed, counts_t, used, n_workers, n_labels)

        self.probas_ = posteriors
        self.priors_ = priors
        self.errors_ = errors
        self.log_likelihood_ = history
        self.n_iter_ = rounds
        self.converged_ = converged
        self.labels_, _ = top_label(posteriors, observed)
        self.confidence_ = chosen_value(posteriors, self.labels_)
        return self

    @staticmethod
    def _m_step(
        posteriors: FloatArray,
        observed: npt.NDArray[np.bool_],
        counts_t: sparse.csr_matrix,
        used: npt.NDArray[np.bool_],
        n_workers: int,
        n_labels: int,
    ) -> tuple[FloatArray, FloatArray]:
        """Priors and error rates from item posteriors (the M-step)."""
        # unobserved items have all-zero rows, so the sum over all rows is the observed sum
        priors = posteriors.sum(axis=0) / max(int(observed.sum()), 1)
        # expected[w * L + l, k]: expected count of "true k, worker w said l"
        expected = np.asarray(counts_t @ posteriors)
        expected = np.where(used[:, None], np.maximum(expected, _EPS), 0.0)
        by_worker = expected.reshape(n_workers, n_labels, n_labels).transpose(0, 2, 1)
        sums = by_worker.sum(axis=2, keepdims=True)
        errors = np.divide(by_worker, sums, out=np.zeros_like(by_worker), where=sums > 0)
        return priors, errors

    @staticmethod
    def _e_step(
        counts: sparse.csr_matrix,
        observed: npt.NDArray[np.bool_],
        priors: FloatArray,
        errors: FloatArray,
    ) -> tuple[FloatArray, float]:
        """Item posteriors from priors and error rates (the E-step), and the log-likelihood."""
        n_workers, n_labels, _ = errors.shape
        # log_errors[w * L + l, k] = log errors[w, k, l]; cells never observed stay 0
        flat = errors.transpose(0, 2, 1).reshape(n_workers * n_labels, n_labels)
        log_errors = np.zeros_like(flat)
        np.log(flat, out=log_errors, where=flat > 0)
        # Fortran order: the per-item reductions over a few labels run column-wise,
        # about ten times faster than row-wise on a C-ordered items x labels array
        posteriors = np.asfortranarray(counts @ log_errors)
        posteriors += np.log(np.maximum(priors, _EPS))
        top = posteriors.max(axis=1)
        posteriors -= top[:, None]
        np.exp(posteriors, out=posteriors)
        norm = posteriors.sum(axis=1)
        posteriors /= norm[:, None]
        posteriors[~observed] = 0.0
        log_likelihood = float((np.log(norm[observed]) + top[observed]).sum())
        return posteriors, log_likelihood


def item_posterior(
    priors: npt.ArrayLike, confusions: npt.ArrayLike, observed: npt.ArrayLike
) -> FloatArray:
    """Posterior over the true label of one item, given fitted parameters.

    The E-step of Dawid & Skene (1979, eq. 2.5) for a single item: with class
    priors `p_k` and annotator confusion matrices `pi[j, k, l]` (true `k`,
    observed `l`), `P(k | obs) ∝ p_k * prod_j pi[j, k, obs_j]`. `confusions`
    holds one matrix per observation (annotator), in the order of `observed`.
    Computed in log space; zero probabilities are floored at 1e-12 so that a
    single unseen confusion cannot veto a label outright.

    >>> priors = [0.5, 0.5]
    >>> good = [[0.9, 0.1], [0.1, 0.9]]
    >>> poor = [[0.6, 0.4], [0.4, 0.6]]
    >>> item_posterior(priors, [good, poor, poor], [0, 1, 1]).round(3).tolist()
    [0.8, 0.2]
    """
    prior = np.asarray(priors, dtype=np.float64)
    matrices = np.asarray(confusions, dtype=np.float64)
    labels = np.asarray(observed, dtype=np.int64)
    if matrices.ndim != 3 or matrices.shape[0] != labels.size:
        raise ValueError("confusions must hold one (labels x labels) matrix per observation")
    log_post = np.log(np.maximum(prior, 1e-12))
    log_post = log_post + np.log(
        np.maximum(matrices[np.arange(labels.size), :, labels], 1e-12)
    ).sum(axis=0)
    log_post -= log_post.max()
    post = np.exp(log_post)
    result: FloatArray = post / post.sum()
    return result
