"""An annotator's own statistics in a project (SPEC 4, 6): gold accuracy, agreement
with final labels, throughput. Only the caller's own numbers, never anyone
else's, and nothing that tells which items were gold.

Gold figures count the gold answers given before 00:00 UTC today: a submit
never changes them, so watching them after each task does not reveal which
task was gold. (A day with a single annotation still shows, the next day,
whether that one was gold; gold counts move only once a day.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from annotary.core.quality.annotator_stats import (
    FieldAgreement,
    GoldFigures,
    Throughput,
    agreement_with_final,
    gold_figures,
    throughput,
)
from annotary.core.schema.fields import AnnotationSchema
from annotary.services.identity.access import ALL_ROLES, Actor, project_for, require_role
from annotary.services.projects import schema_at
from annotary.storage.db import Database, read_session
from annotary.storage.models import utcnow
from annotary.storage.stats_store import (
    annotation_times,
    answers_with_final_labels,
    gold_outcomes,
)


@dataclass(frozen=True)
class OwnStats:
    """The figures an annotator sees about their own work in one project."""

    project: str
    username: str
    gold: GoldFigures
    gold_counted_until: datetime
    items_with_final_label: int
    agreement: list[FieldAgreement]
    throughput: Throughput

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "username": self.username,
            "gold": {**asdict(self.gold), "counted_until": self.gold_counted_until},
            "agreement": {
                "items": self.items_with_final_label,
                "fields": [
                    {
                        "field": f.field,
                        "compared": f.compared,
                        "matching": f.matching,
                        "share": f.share,
                    }
                    for f in self.agreement
                ],
            },
            "throughput": asdict(self.throughput),
        }


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def own_stats(
    db: Database, actor: Actor, project_name: str, now: datetime | None = None
) -> OwnStats:
    """The actor's gold accuracy (Wilson 95% interval), agreement with the final
    labels of the items they annotated (per field) and throughput (members only)."""
    moment = _as_utc(now or utcnow())
    cutoff = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    with read_session(db.sessions) as session:
        project = project_for(session, actor, project_name)
        require_role(session, actor, project, ALL_ROLES, admin_passes=False)
        outcomes = gold_outcomes(session, project.id, actor.user_id, cutoff)
        compared = answers_with_final_labels(session, project.id, actor.user_id)
        times = annotation_times(session, project.id, actor.user_id)
        conn = session.connection()

        def schema_of(version: int) -> AnnotationSchema:
            return schema_at(conn, project.id, version)

        agreement = agreement_with_final(compared, schema_of)
        name = project.name
    return OwnStats(
        project=name,
        username=actor.username,
        gold=gold_figures(outcomes),
        gold_counted_until=cutoff,
        items_with_final_label=len(compared),
        agreement=agreement,
        throughput=throughput([_as_utc(at) for at, _ in times], [ms for _, ms in times]),
    )
