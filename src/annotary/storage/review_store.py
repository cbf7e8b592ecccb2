"""Reads behind the senior queues (adjudication, escalations, review)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.queue import RouteFilter
from annotary.storage.models import Item, User
from annotary.storage.queue_store import route_condition


def head_of_senior_queue(
    session: Session, project_id: int, status: str, routes: RouteFilter
) -> Item | None:
    """The highest-priority (then oldest) item in `status` that `routes` allows."""
    return session.scalar(
        select(Item)
        .where(Item.project_id == project_id, Item.status == status, route_condition(routes))
        .order_by(Item.priority.desc(), Item.id)
        .limit(1)
    )


def skills_of(session: Session, user_id: int) -> frozenset[str]:
    """The user's skills."""
    skills = session.scalar(select(User.skills).where(User.id == user_id))
    return frozenset(skills or ())
