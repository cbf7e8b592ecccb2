"""What the queue hands an annotator (SPEC 5): a task, the answer to a submit,
and the one refusal every lease operation shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from annotary.errors import E_LEASE_NOT_FOUND, NotFound
from annotary.storage.queue_store import LeasedItem


@dataclass(frozen=True)
class Task:
    """What an annotator is served: the leased item, its schema version and pre-labels,
    and for a rework task the fields to redo with the annotator's earlier values.

    The annotator sees the item under an opaque reference (`item_ref`), never its
    id: ids are sequential and would give gold items away (SPEC 5).
    """

    leased: LeasedItem
    item_ref: str
    schema_version: int
    guideline_version: int
    prelabels: list[dict[str, Any]]
    rework: dict[str, Any] | None = None
    """`{"fields": [...], "previous": {field: value}}` for a rework task (SPEC 8)."""

    @property
    def lease_id(self) -> int:
        return self.leased.lease_id

    @property
    def item_id(self) -> int:
        return self.leased.item_id

    @property
    def content(self) -> dict[str, Any]:
        return self.leased.content

    def to_dict(self) -> dict[str, Any]:
        leased = self.leased
        return {
            "lease_id": leased.lease_id,
            "expires_at": as_utc(leased.expires_at).isoformat(),
            "item": {
                "ref": self.item_ref,
                "kind": leased.kind,
                "content": leased.content,
                "metadata": leased.metadata,
            },
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "prelabels": self.prelabels,
            "rework": self.rework,
        }


@dataclass(frozen=True)
class SubmitResult:
    """What a submit tells the annotator: the stored annotation's id (None for
    flags alone). Never the item's status: it would tell gold and review-sampled
    items from others (SPEC 5)."""

    annotation_id: int | None


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def lease_not_found(lease_id: int) -> NotFound:
    """The refusal for a lease that is not (or no longer) the caller's."""
    return NotFound(
        E_LEASE_NOT_FOUND,
        f"task {lease_id} is not leased to you (it may have expired and gone to someone "
        "else); ask for the next task",
    )
