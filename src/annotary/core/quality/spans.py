"""Span agreement: precision, recall and F1 between two lists of labelled spans.

A span is ``(start, end, label)`` with ``end`` exclusive (token or character
offsets alike). For two annotators, F1 is symmetric (swapping them swaps
precision and recall), which makes it the usual agreement measure for span
annotation where chance agreement is ill-defined (Hripcsak & Rothschild 2005,
JAMIA 12:296-298). There is no conventional threshold; compare against the
agreement of experienced annotators on the same guideline.

Matching (as in the QA vectors `span_f1_ner_small`):

- exact: a span is matched if the other list holds a span with the same start,
  end and label;
- overlap: a span is matched if the other list holds a span of the same label
  sharing at least one position. Not one-to-one: one long span may match two
  short ones, and each side counts its own matched spans.

precision = matched candidate spans / candidate spans, recall = matched
reference spans / reference spans, F1 = 2PR / (P + R); each is 0 when its
denominator is 0 (seqeval's ``zero_division=0``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from annotary.core.quality.coding import agreement_undefined

Span = tuple[int, int, str]
MatchMode = Literal["exact", "overlap"]
BioMode = Literal["strict", "conlleval"]
MODES: Final = ("exact", "overlap")


@dataclass(frozen=True, slots=True)
class SpanScore:
    """Counts and precision / recall / F1 of one label (or all labels pooled)."""

    n_gold: int
    n_pred: int
    matched_gold: int
    matched_pred: int

    @property
    def precision(self) -> float:
        """Matched predicted (candidate) spans over predicted spans; 0 if none."""
        return self.matched_pred / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        """Matched gold (reference) spans over gold spans; 0 if none."""
        return self.matched_gold / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall; 0 when both are 0."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: SpanScore) -> SpanScore:
        return SpanScore(
            self.n_gold + other.n_gold,
            self.n_pred + other.n_pred,
            self.matched_gold + other.matched_gold,
            self.matched_pred + other.matched_pred,
        )


@dataclass(frozen=True, slots=True)
class SpanAgreement:
    """Micro (pooled counts), macro (unweighted mean over labels) and per-label scores."""

    micro: SpanScore
    per_label: dict[str, SpanScore]

    @property
    def macro_precision(self) -> float:
        """Mean of the per-label precisions."""
        return float(np.mean([s.precision for s in self.per_label.values()]))

    @property
    def macro_recall(self) -> float:
        """Mean of the per-label recalls."""
        return float(np.mean([s.recall for s in self.per_label.values()]))

    @property
    def macro_f1(self) -> float:
        """Mean of the per-label F1 scores (as sklearn's average='macro'), not F1 of means."""
        return float(np.mean([s.f1 for s in self.per_label.values()]))


def _checked(spans: Iterable[Sequence[object]], side: str) -> list[Span]:
    checked: list[Span] = []
    for i, span in enumerate(spans):
        if not isinstance(span, Sequence) or isinstance(span, str) or len(span) != 3:
            raise agreement_undefined(f"{side}[{i}] must be (start, end, label)", side)
        start, end, label = span
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            raise agreement_undefined(
                f"{side}[{i}] = {tuple(span)!r}: need integers 0 <= start < end (end exclusive)",
                side,
            )
        checked.append((start, end, str(label)))
    return checked


def _matched(spans: list[Span], others: list[Span], mode: MatchMode) -> int:
    """How many of `spans` have a partner in `others` (same label in both lists)."""
    if not spans or not others:
        return 0
    if mode == "exact":
        targets = set(others)
        return sum(span in targets for span in spans)
    starts = np.array([s[0] for s in spans])
    ends = np.array([s[1] for s in spans])
    other_starts = np.array([s[0] for s in others])
    other_ends = np.array([s[1] for s in others])
    overlaps = (starts[:, None] < other_ends[None, :]) & (other_starts[None, :] < ends[:, None])
    return int(np.count_nonzero(overlaps.any(axis=1)))


def _scores(gold: list[Span], pred: list[Span], mode: MatchMode) -> dict[str, SpanScore]:
    if mode not in MODES:
        raise agreement_undefined(f"mode {mode!r} is not valid; valid: exact, overlap", "mode")
    scores: dict[str, SpanScore] = {}
    for label in sorted({s[2] for s in gold} | {s[2] for s in pred}):
        g = [s for s in gold if s[2] == label]
        p = [s for s in pred if s[2] == label]
        scores[label] = SpanScore(len(g), len(p), _matched(g, p, mode), _matched(p, g, mode))
    return scores


def span_agreement_documents(
    documents: Iterable[tuple[Sequence[Sequence[object]], Sequence[Sequence[object]]]],
    *,
    mode: MatchMode = "exact",
) -> SpanAgreement:
    """Span P/R/F1 pooled over documents: one ``(gold_spans, pred_spans)`` pair each.

    Spans only match within their own document; counts are summed over documents
    before dividing (micro), per label and overall. E601 if no document has a span.

    >>> documents = [([(0, 2, "PER")], [(0, 2, "PER")]), ([], [(1, 3, "LOC")])]
    >>> result = span_agreement_documents(documents)
    >>> result.micro.precision, result.micro.recall
    (0.5, 1.0)
    """
    per_label: dict[str, SpanScore] = {}
    for gold, pred in documents:
        scores = _scores(_checked(gold, "gold"), _checked(pred, "pred"), mode)
        for label, score in scores.items():
            per_label[label] = per_label[label] + score if label in per_label else score
    if not per_label:
        raise agreement_undefined("neither annotator marked any span, so F1 is 0/0")
    micro = SpanScore(0, 0, 0, 0)
    for score in per_label.values():
        micro = micro + score
    return SpanAgreement(micro, dict(sorted(per_label.items())))


def span_agreement(
    gold: Sequence[Sequence[object]],
    pred: Sequence[Sequence[object]],
    *,
    mode: MatchMode = "exact",
) -> SpanAgreement:
    """Exact- or overlap-match precision / recall / F1 between two span lists.

    Micro, macro and per label; see the module docstring for the matching rules.
    For two annotators either may be `gold`: F1 is symmetric (Hripcsak &
    Rothschild 2005). E601 if neither list has a span.

    >>> result = span_agreement([(0, 2, "PER"), (5, 6, "LOC")], [(0, 3, "PER")], mode="overlap")
    >>> result.micro.precision, result.micro.recall, result.per_label["PER"].f1
    (1.0, 0.5, 1.0)
    """
    return span_agreement_documents([(gold, pred)], mode=mode)


def bio_spans(tags: Sequence[str], *, mode: BioMode = "strict") -> list[Span]:
    """Entity spans ``(start, end, type)`` from one sentence of IOB2 tags.

    strict (seqeval ``mode='strict', scheme=IOB2``): an entity starts with B-X
    and continues with I-X; an I-X that does not continue an X entity is not an
    entity. conlleval (seqeval default, conlleval.pl): such an I-X starts a new
    entity. Tags other than O, B-*, I-* are an E601 error.

    >>> bio_spans(["I-PER", "I-PER", "O", "B-LOC"], mode="conlleval")
    [(0, 2, 'PER'), (3, 4, 'LOC')]
    >>> bio_spans(["I-PER", "I-PER", "O", "B-LOC"])
    [(3, 4, 'LOC')]
    """
    if mode not in ("strict", "conlleval"):
        raise agreement_undefined(f"mode {mode!r} is not valid; valid: strict, conlleval", "mode")
    spans: list[Span] = []
    current: tuple[str, int] | None = None  # (type, start) of the open entity
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-") if isinstance(tag, str) else ("", "", "")
        if tag != "O" and (prefix not in ("B", "I") or not kind):
            raise agreement_undefined(
                f"tag {tag!r} at position {i} is not IOB2; valid: O, B-<type>, I-<type>", "tags"
            )
        continues = prefix == "I" and current is not None and kind == current[0]
        if current is not None and not continues:
            spans.append((current[1], i, current[0]))
            current = None
        if prefix == "B" or (prefix == "I" and current is None and mode == "conlleval"):
            current = (kind, i)
    return spans


def bio_agreement(
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    *,
    mode: BioMode = "strict",
) -> SpanAgreement:
    """Entity-level exact-match P/R/F1 between two IOB2-tagged corpora (seqeval).

    Sentences are chunked with `bio_spans` and matched exactly within each
    sentence; counts are pooled (micro) and per entity type, as
    ``seqeval.metrics.classification_report`` with ``zero_division=0``.

    >>> bio_agreement([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]]).micro.f1
    0.0
    """
    if len(gold_tags) != len(pred_tags):
        raise agreement_undefined(
            f"{len(gold_tags)} gold and {len(pred_tags)} predicted sentences; need pairs"
        )
    documents = []
    for i, (gold, pred) in enumerate(zip(gold_tags, pred_tags, strict=True)):
        if not (isinstance(gold, Sequence) and isinstance(pred, Sequence)):
            raise agreement_undefined(f"sentence {i} must be a list of tags", "tags")
        if len(gold) != len(pred):
            raise agreement_undefined(f"sentence {i}: {len(gold)} vs {len(pred)} tags", "tags")
        documents.append((bio_spans(gold, mode=mode), bio_spans(pred, mode=mode)))
    return span_agreement_documents(documents, mode="exact")
