"""Project status: how many items are where."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from annotary.services.identity.access import (
    EXPERT,
    MANAGER,
    REVIEWER,
    Actor,
    project_for,
    require_role,
)
from annotary.services.projects import get_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, GoldAnswer, ImportBatch, Item, Prelabel


@dataclass
class ProjectStatus:
    """Counts for one project; `by_status_kind[(status, kind)] = n`."""

    project: str
    item_kind: str
    schema_version: int
    guideline_version: int
    by_status_kind: dict[tuple[str, str], int] = field(default_factory=dict)
    gold_items: int = 0
    prelabels: int = 0
    annotations: int = 0
    imports: int = 0

    @property
    def total_items(self) -> int:
        return sum(self.by_status_kind.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "item_kind": self.item_kind,
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "total_items": self.total_items,
            "items": [
                {"status": status, "kind": kind, "count": count}
                for (status, kind), count in sorted(self.by_status_kind.items())
            ],
            "gold_items": self.gold_items,
            "prelabels": self.prelabels,
            "annotations": self.annotations,
            "imports": self.imports,
        }


STATUS_ROLES = frozenset({MANAGER, REVIEWER, EXPERT})
"""Who may see a project's counts: not annotators (they would learn the gold share)."""


def project_status(db: Database, name: str, actor: Actor | None = None) -> ProjectStatus:
    """Items by status and kind, plus gold, pre-label, annotation and import counts.

    With an `actor` (the API) the caller must be a manager, reviewer or expert
    of the project, or an admin; without one the caller is the trusted local CLI.
    """
    with read_session(db.sessions) as session:
        if actor is not None:
            require_role(session, actor, project_for(session, actor, name), STATUS_ROLES)
        project = get_project(session, name)
        status = ProjectStatus(
            project.name, project.item_kind, project.schema.version, project.guideline_version
        )
        rows = session.execute(
            select(Item.status, Item.kind, func.count())
            .where(Item.project_id == project.id)
            .group_by(Item.status, Item.kind)
        )
        status.by_status_kind = {(s, k): n for s, k, n in rows}
        in_project = Item.project_id == project.id
        status.gold_items = (
            session.scalar(
                select(func.count()).select_from(GoldAnswer).join(Item).where(in_project)
            )
            or 0
        )
        status.prelabels = (
            session.scalar(select(func.count()).select_from(Prelabel).join(Item).where(in_project))
            or 0
        )
        status.annotations = (
            session.scalar(select(func.count()).where(Annotation.project_id == project.id)) or 0
        )
        status.imports = (
            session.scalar(select(func.count()).where(ImportBatch.project_id == project.id)) or 0
        )
        return status
