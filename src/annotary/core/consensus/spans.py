"""Consensus of span fields: a token vote for the spans, exact span F1 for agreement.

The aggregate spans come from `core.aggregation.TokenVote` over character
positions, with every annotator of the item in the denominator: a position
keeps a label when more than half of the item's annotators put that label
there, so a span only a minority marked does not pass, and boundaries that
differ by a character still give the majority's span. A run of one label is
cut where more than half of the annotators end a span and start the next (two
abutting entities stay two). Where every annotator gave the same spans, those
are the consensus as given. Each aggregate span
takes its `normalized` value and the relations between spans from the
annotators whose span matches it exactly (same start, end and label): a value
or relation is kept when more than half of those annotators give it. A
coreference chain is voted link by link, and the kept links are joined back
into chains.

Agreement is the mean over annotator pairs of the F1 of their span sets under
exact matching, 2 |A & B| / (|A| + |B|) (Hripcsak & Rothschild 2005,
*Agreement, the F-measure, and reliability in information retrieval*, JAMIA
12(3):296-298); two annotators who both marked nothing agree fully.
Confidence is the aggregate's mean vote share over the positions it covers
(TokenVote's `confidence_`), or the share of annotators who marked nothing
when no span passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any

from annotary.core.aggregation import TokenVote
from annotary.core.consensus.outcome import UnitResult
from annotary.core.schema.fields import SpansField

SpanKey = tuple[int, int, str]


@dataclass(frozen=True)
class _Marked:
    """One annotator's spans (by key, with normalized value and id) and relations."""

    spans: dict[SpanKey, tuple[Any, str | None]]
    relations: list[dict[str, Any]]


def spans_consensus(spec: SpansField, units: Sequence[Sequence[Any]]) -> list[UnitResult]:
    """The consensus of each unit's span values (one unit per item, or per turn).

    >>> from annotary.core.schema.fields import SpansField
    >>> f = SpansField(name="e", kind="spans", labels=["PER"])
    >>> marks = [[{"start": 0, "end": 5, "label": "PER"}],
    ...          [{"start": 0, "end": 6, "label": "PER"}],
    ...          [{"start": 0, "end": 5, "label": "PER"}]]
    >>> r = spans_consensus(f, [marks])[0]
    >>> r.value, round(r.agreement, 3)
    ([{'start': 0, 'end': 5, 'label': 'PER'}], 0.333)
    """
    labels = spec.label_names()
    code = {label: k for k, label in enumerate(labels)}
    marked = [[_parse(value, code) for value in unit] for unit in units]
    # Where every annotator gave the same spans, those are the consensus (no vote needed).
    same = [all(m.spans.keys() == unit[0].spans.keys() for m in unit) for unit in marked]
    rows = [
        (index, annotator, start, end, code[label])
        for index, unit_marks in enumerate(marked)
        if not same[index]
        for annotator, marks in enumerate(unit_marks)
        for (start, end, label) in marks.spans
    ]
    voted: list[list[SpanKey]] = [sorted(unit[0].spans) if unit else [] for unit in marked]
    confidence = [1.0] * len(units)
    if rows:
        vote = TokenVote().fit(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            [r[4] for r in rows],
            len(units),
            len(labels),
            annotators_per_item=[len(unit) for unit in units],
        )
        for index, spans in enumerate(vote.labels_):
            if not same[index]:
                keys = [(s.start, s.end, labels[s.label]) for s in spans]
                voted[index] = _split(keys, marked[index])
                confidence[index] = float(vote.confidence_[index])
    results = []
    for unit, unit_marks, keys, share in zip(units, marked, voted, confidence, strict=True):
        value = _value(spec, keys, unit_marks)
        agreement = mean_pairwise_f1([set(m.spans) for m in unit_marks])
        if not keys:
            share = sum(not m.spans for m in unit_marks) / len(unit_marks)
        present = sum(v is not None for v in unit)
        if not keys and 2 * present <= len(unit):
            value = None  # most annotators left the field out
        results.append(UnitResult(value, agreement, share))
    return results


def _split(keys: list[SpanKey], marks: list[_Marked]) -> list[SpanKey]:
    """Cut aggregate spans where more than half of the annotators end one span of the
    label and start the next (a per-position vote cannot see that boundary)."""
    joints: dict[str, dict[int, int]] = {}  # label -> position -> annotators joining there
    for mark in marks:
        for label in {k[2] for k in mark.spans}:
            ends = {k[1] for k in mark.spans if k[2] == label}
            starts = {k[0] for k in mark.spans if k[2] == label}
            counts = joints.setdefault(label, {})
            for position in ends & starts:
                counts[position] = counts.get(position, 0) + 1
    out: list[SpanKey] = []
    for start, end, label in keys:
        cuts = sorted(
            p
            for p, count in joints.get(label, {}).items()
            if start < p < end and 2 * count > len(marks)
        )
        bounds = [start, *cuts, end]
        out.extend((a, b, label) for a, b in pairwise(bounds))
    return out


def mean_pairwise_f1(span_sets: Sequence[set[SpanKey]]) -> float:
    """Mean exact-match F1 over every pair of annotators (1 for fewer than two).

    >>> mean_pairwise_f1([{(0, 5, "PER")}, {(0, 6, "PER")}, set(), set()])
    0.16666666666666666
    """
    pairs = list(combinations(span_sets, 2))
    if not pairs:
        return 1.0
    total = 0.0
    for first, second in pairs:
        size = len(first) + len(second)
        total += 1.0 if size == 0 else 2 * len(first & second) / size
    return total / len(pairs)


def _parse(value: Any, code: dict[str, int]) -> _Marked:
    """An annotator's value as spans keyed by (start, end, label); malformed parts skipped."""
    spans_value = value.get("spans") if isinstance(value, dict) else value
    relations = value.get("relations") if isinstance(value, dict) else None
    spans: dict[SpanKey, tuple[Any, str | None]] = {}
    for span in spans_value if isinstance(spans_value, list) else []:
        if not isinstance(span, dict):
            continue
        key = _key(span, code)
        if key is not None:
            span_id = span.get("id")
            spans[key] = (
                span.get("normalized"),
                span_id if isinstance(span_id, str) else None,
            )
    kept = [r for r in relations if isinstance(r, dict)] if isinstance(relations, list) else []
    return _Marked(spans, kept)


def _key(span: dict[str, Any], code: dict[str, int]) -> SpanKey | None:
    """(start, end, label) of a well-formed span, else None."""
    start, end, label = span.get("start"), span.get("end"), span.get("label")
    offsets = [v for v in (start, end) if isinstance(v, int) and not isinstance(v, bool)]
    if len(offsets) != 2 or not isinstance(label, str) or label not in code:
        return None
    first, last = offsets
    return (first, last, label) if 0 <= first < last else None


def _value(spec: SpansField, keys: list[SpanKey], marks: list[_Marked]) -> Any:
    """The aggregate spans with their majority `normalized` values, and relations."""
    out: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        span: dict[str, Any] = {"start": key[0], "end": key[1], "label": key[2]}
        if spec.normalization is not None:
            normalized = _majority([m.spans[key][0] for m in marks if key in m.spans])
            if normalized is not None:
                span["normalized"] = normalized
        if spec.relations:
            span["id"] = f"s{index + 1}"
        out.append(span)
    if not spec.relations:
        return out
    return {"spans": out, "relations": _relations(spec, keys, marks)}


def _majority(values: list[Any]) -> Any:
    """The value more than half of `values` share, else None."""
    for value in values:
        if value is not None and 2 * values.count(value) > len(values):
            return value
    return None


def _relations(spec: SpansField, keys: list[SpanKey], marks: list[_Marked]) -> list[dict[str, Any]]:
    """Relations between aggregate spans that most annotators who marked both ends gave."""
    position = {key: index for index, key in enumerate(keys)}
    kinds: dict[str, str] = {r.name: r.kind for r in spec.relations}
    votes: dict[tuple[str, int, int], int] = {}
    for mark in marks:
        ids = {
            span_id: position[key]
            for key, (_, span_id) in mark.spans.items()
            if key in position and span_id is not None
        }
        for link in _links(mark.relations, ids, kinds):
            votes[link] = votes.get(link, 0) + 1
    kept: list[tuple[str, int, int]] = []
    for link, count in votes.items():
        ends = (keys[link[1]], keys[link[2]])
        voters = sum(all(end in m.spans for end in ends) for m in marks)
        if 2 * count > voters:
            kept.append(link)
    return _relation_values(sorted(kept), kinds)


def _links(
    relations: list[dict[str, Any]], ids: dict[str, int], kinds: dict[str, str]
) -> set[tuple[str, int, int]]:
    """One annotator's relations as links between aggregate spans (chains as pairs)."""
    links: set[tuple[str, int, int]] = set()
    for relation in relations:
        kind = kinds.get(str(relation.get("type")))
        if kind == "chain":
            members = relation.get("members")
            mapped = sorted(
                {ids[m] for m in members if isinstance(m, str) and m in ids}
                if isinstance(members, list)
                else set()
            )
            links.update((str(relation["type"]), a, b) for a, b in combinations(mapped, 2))
        elif kind is not None:
            head, tail = relation.get("head"), relation.get("tail")
            if isinstance(head, str) and isinstance(tail, str) and head in ids and tail in ids:
                a, b = ids[head], ids[tail]
                if kind == "undirected":
                    a, b = min(a, b), max(a, b)
                if a != b:
                    links.add((str(relation["type"]), a, b))
    return links


def _relation_values(
    links: list[tuple[str, int, int]], kinds: dict[str, str]
) -> list[dict[str, Any]]:
    """Links as relation objects; chain links joined into chains (connected components)."""
    out: list[dict[str, Any]] = []
    chains: dict[str, dict[int, int]] = {}
    for name, a, b in links:
        if kinds[name] != "chain":
            out.append({"type": name, "head": f"s{a + 1}", "tail": f"s{b + 1}"})
            continue
        parent = chains.setdefault(name, {})
        root_a, root_b = _root(parent, a), _root(parent, b)
        parent[max(root_a, root_b)] = min(root_a, root_b)
    for name, parent in sorted(chains.items()):
        groups: dict[int, list[int]] = {}
        for node in sorted(parent):
            groups.setdefault(_root(parent, node), []).append(node)
        for members in groups.values():
            out.append({"type": name, "members": [f"s{m + 1}" for m in members]})
    return out


def _root(parent: dict[int, int], node: int) -> int:
    parent.setdefault(node, node)
    while parent[node] != node:
        node = parent[node]
    return node
