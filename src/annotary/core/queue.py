"""Queue policy (SPEC 5) as pure functions: what to serve, what a submit means.

The database performs the atomic claim that these functions decide on; all
the rules live here so they can be tested exhaustively without a database.

Serving order for `next task`:
1. a live lease the annotator already holds (idempotent re-serve);
2. refusal when the annotator must accept the confidentiality terms, is paused,
   or failed the qualification;
3. qualification gold items until the qualification is decided;
4. a rework task of the annotator's own (an item sent back for them to redo
   some fields of their annotation under a newer version; SPEC 8), if any;
5. at the gold rate (a uniform draw below `gold_rate`), a gold item the
   annotator has not seen;
6. otherwise the highest-priority item that needs annotations, that the
   annotator has not annotated or skipped, and that routing allows.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from annotary.core.consensus.settings import FieldSetting
from annotary.errors import E_FORBIDDEN, E_PAUSED, E_QUALIFICATION_FAILED, E_TERMS_REQUIRED

TIER_RANK: Final = {"annotator": 0, "reviewer": 1, "expert": 2}
FLAGS: Final = ("sensitive", "unclear_guideline", "needs_expert")
SENIOR_QUEUES: Final = ("adjudication", "escalated", "review")
ESCALATION_TIER: Final = "expert"
"""Who handles a flagged item when no routing rule on its flag says otherwise."""


@dataclass(frozen=True)
class Route:
    """A routing rule: items whose metadata match go to `tier` (or above) and/or `skills`."""

    metadata: Mapping[str, Any]
    flag: str | None
    tier: str | None
    skills: frozenset[str]


@dataclass(frozen=True)
class QueueRules:
    """The workflow settings the queue needs."""

    overlap: int = 1
    gold_rate: float = 0.0
    min_gold_accuracy: float = 0.0
    min_gold_count: int = 10
    qualification_items: int | None = None
    qualification_pass_mark: float = 0.8
    terms_required: bool = False
    routes: tuple[Route, ...] = ()
    agreement_threshold: float = 0.66
    review_sampling_rate: float = 0.0
    aggregation: str = "majority"
    consensus: Mapping[str, FieldSetting] = field(default_factory=dict)
    """Per-field consensus settings (`workflow.consensus`)."""
    secret: bytes = field(default=b"", repr=False)
    """The project's secret key: keys the review sample and the item references
    annotators see (never shown, never logged)."""


@dataclass(frozen=True)
class AnnotatorState:
    """What the queue knows about one member of the project."""

    role: str
    skills: frozenset[str] = frozenset()
    terms_accepted: bool = False
    paused: bool = False
    pause_reason: str | None = None
    qualified: bool = False
    qualification_failed: bool = False
    rework_waiting: bool = False
    """One of the annotator's annotations waits for them to redo some fields."""


@dataclass(frozen=True)
class RouteFilter:
    """Which items an annotator may get: unrouted ones (`base`) and these rule indices."""

    base: bool
    rules: frozenset[int]

    def allows(self, route_rule: int | None) -> bool:
        """Whether an item routed by `route_rule` (None: unrouted) passes."""
        return self.base if route_rule is None else route_rule in self.rules


@dataclass(frozen=True)
class Refuse:
    """No task: `code` is a stable error code, `reason` says why and what to do."""

    code: str
    reason: str


@dataclass(frozen=True)
class ServeQualification:
    """Serve a gold item the annotator has not seen, as part of the qualification."""


@dataclass(frozen=True)
class ServeGold:
    """Serve a gold item the annotator has not seen; fall back to `regular`."""

    regular: RouteFilter


@dataclass(frozen=True)
class ServeRegular:
    """Serve the best item that needs annotations and that `routes` allows."""

    routes: RouteFilter


@dataclass(frozen=True)
class ServeRework:
    """Serve the annotator's rework task if `routes` still allow its item; else `then`."""

    routes: RouteFilter
    then: ServeGold | ServeRegular


Decision = Refuse | ServeQualification | ServeRework | ServeGold | ServeRegular


def choose_next(state: AnnotatorState, rules: QueueRules, draw: float) -> Decision:
    """Decide what kind of task to serve; `draw` is uniform in [0, 1).

    >>> choose_next(AnnotatorState("annotator"), QueueRules(gold_rate=0.1), 0.05)
    ServeGold(regular=RouteFilter(base=True, rules=frozenset()))
    """
    if state.role not in TIER_RANK:
        return Refuse(E_FORBIDDEN, f"the role {state.role!r} is not served annotation tasks")
    if rules.terms_required and not state.terms_accepted:
        return Refuse(E_TERMS_REQUIRED, "accept the project's confidentiality terms first")
    if state.paused:
        why = f": {state.pause_reason}" if state.pause_reason else ""
        return Refuse(E_PAUSED, f"you are paused in this project{why}; ask a manager to resume you")
    if rules.qualification_items is not None and not state.qualified:
        if state.qualification_failed:
            return Refuse(
                E_QUALIFICATION_FAILED,
                "you did not pass the qualification; ask a manager for another attempt",
            )
        return ServeQualification()
    routes = allowed_routes(state, rules.routes)
    then = ServeGold(routes) if draw < rules.gold_rate else ServeRegular(routes)
    if state.rework_waiting:
        return ServeRework(routes, then)
    return then


def allowed_routes(state: AnnotatorState, routes: Sequence[Route]) -> RouteFilter:
    """Rules whose tier the annotator reaches and whose skills they have (any of)."""
    rank = TIER_RANK.get(state.role, -1)
    allowed = set()
    for index, route in enumerate(routes):
        if route.tier is not None and rank < TIER_RANK.get(route.tier, 99):
            continue
        if route.skills and not route.skills & state.skills:
            continue
        allowed.add(index)
    return RouteFilter(base=True, rules=frozenset(allowed))


def match_route(routes: Sequence[Route], metadata: Mapping[str, Any]) -> int | None:
    """Index of the first metadata rule the item matches (None: no rule, anyone).

    Rules with a `flag` route flagged items only (see `flag_route`).
    """
    for index, route in enumerate(routes):
        if route.flag is None and route.metadata and _matches(route, metadata):
            return index
    return None


def flag_route(
    routes: Sequence[Route], flags: Sequence[str], metadata: Mapping[str, Any]
) -> int | None:
    """Index of the first flag rule matching one of `flags` and, if the rule names
    metadata too, the item's `metadata` (None: the default, experts)."""
    for index, route in enumerate(routes):
        if route.flag is not None and route.flag in flags and _matches(route, metadata):
            return index
    return None


def _matches(route: Route, metadata: Mapping[str, Any]) -> bool:
    return all(metadata.get(k) == v for k, v in route.metadata.items())


def senior_routes(
    state: AnnotatorState, routes: Sequence[Route], queue: str, adjudication_tier: str
) -> RouteFilter:
    """Which items of a senior queue (`SENIOR_QUEUES`) a member may take and decide.

    Managers take any. Others need the queue's tier (adjudication: the
    project's `adjudication_tier`; escalations: experts; review: reviewers)
    and, for an item under a routing rule, the rule's tier and one of its
    skills too: routing holds beyond the annotation queue. On the escalation
    queue a rule on the item's flag names its own tier instead of the
    experts' (but never below reviewer: annotators have no senior queue).

    >>> rule = Route({}, "sensitive", "expert", frozenset({"trust_and_safety"}))
    >>> senior_routes(AnnotatorState("expert"), [rule], "escalated", "reviewer")
    RouteFilter(base=True, rules=frozenset())
    """
    if state.role == "manager":
        return RouteFilter(base=True, rules=frozenset(range(len(routes))))
    rank = TIER_RANK.get(state.role, -1)
    base_tier = {"adjudication": adjudication_tier, "escalated": ESCALATION_TIER}.get(
        queue, "reviewer"
    )
    base_rank = max(TIER_RANK[base_tier], TIER_RANK["reviewer"])
    allowed = set()
    for index, route in enumerate(routes):
        needed = max(base_rank, TIER_RANK.get(route.tier or "annotator", 99))
        if queue == "escalated" and route.flag is not None:
            tier = route.tier or ESCALATION_TIER
            needed = max(TIER_RANK.get(tier, 99), TIER_RANK["reviewer"])
        if rank < needed or (route.skills and not route.skills & state.skills):
            continue
        allowed.add(index)
    return RouteFilter(base=rank >= base_rank, rules=frozenset(allowed))


@dataclass(frozen=True)
class GoldOutcome:
    """What a scored gold answer does to the annotator's standing."""

    qualified: bool = False
    qualification_failed: bool = False
    pause_reason: str | None = None


def after_gold_answer(
    rules: QueueRules,
    qualifying: bool,
    answered: int,
    correct: int,
) -> GoldOutcome:
    """Decide qualification or pausing from the updated counts.

    `answered`/`correct` are the qualification counts while `qualifying`, else
    the counts of ordinary gold checks.

    >>> after_gold_answer(QueueRules(min_gold_accuracy=0.7, min_gold_count=5), False, 5, 3)
    GoldOutcome(qualified=False, qualification_failed=False, pause_reason='gold accuracy 60% (3 of 5) is below the minimum 70%')
    """  # noqa: E501
    if qualifying:
        needed = rules.qualification_items or 0
        if answered < needed:
            return GoldOutcome()
        if correct / answered >= rules.qualification_pass_mark:
            return GoldOutcome(qualified=True)
        return GoldOutcome(qualification_failed=True)
    if answered >= rules.min_gold_count and correct / answered < rules.min_gold_accuracy:
        return GoldOutcome(
            pause_reason=(
                f"gold accuracy {correct / answered:.0%} ({correct} of {answered}) is below "
                f"the minimum {rules.min_gold_accuracy:.0%}"
            )
        )
    return GoldOutcome()


def _keyed(secret: bytes, purpose: bytes, item_id: int) -> bytes:
    """HMAC-SHA256 of an item id under the project's secret, one `purpose` apart
    from another so that one use reveals nothing about the other."""
    if not secret:
        raise ValueError("the project's secret is missing")
    return hmac.new(secret, purpose + b":" + str(item_id).encode(), hashlib.sha256).digest()


def sampled_for_review(secret: bytes, item_id: int, rate: float) -> bool:
    """Whether a finalized item goes to review: a keyed hash (HMAC) of its id
    under the project's secret, below `rate`.

    Deterministic for a project, so the sample is reproducible and spread over
    the whole project rather than bunched in time; without the secret, the
    item ids annotators might learn say nothing about which items are sampled.
    """
    if rate <= 0:
        return False
    bucket = int.from_bytes(_keyed(secret, b"review", item_id)[:8], "big")
    return bucket / 2**64 < rate


def item_reference(secret: bytes, item_id: int) -> str:
    """The opaque, stable name of an item that annotators see instead of its id.

    Ids are sequential, and gold items imported from a file of their own get
    a block of them; a keyed hash gives nothing away (SPEC 5: gold items are
    indistinguishable from others).

    >>> item_reference(b"k", 1) == item_reference(b"k", 1) != item_reference(b"k", 2)
    True
    """
    return _keyed(secret, b"item", item_id)[:12].hex()
