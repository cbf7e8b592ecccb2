"""Self-reported attributes (SPEC 4): optional, set, seen and cleared by the user
alone; managers see only the pool of a project in aggregate.

Audit events name the attribute keys a user set, never the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from annotary.core.people import ATTRIBUTE_KEYS, attribute_problems, clean_attributes
from annotary.core.quality.pool import PoolAttribute, pool_by_attribute
from annotary.errors import E_ATTRIBUTES_INVALID, Invalid
from annotary.services.audit import record_event
from annotary.services.identity.access import WORKERS, Actor, project_for, require_role
from annotary.services.identity.members import MANAGERS
from annotary.services.projects import get_project
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import User
from annotary.storage.people_store import worker_attributes

POOL_K = 5
"""Values given by fewer people than this are withheld from the pool summary (API)."""


def own_attributes(db: Database, actor: Actor) -> dict[str, str]:
    """The actor's own self-reported attributes."""
    with read_session(db.sessions) as session:
        user = session.get(User, actor.user_id)
        stored = user.attributes if user is not None else {}
    return {key: str(value) for key, value in (stored or {}).items()}


def set_own_attributes(db: Database, actor: Actor, attributes: Mapping[str, Any]) -> dict[str, str]:
    """Replace the actor's attributes with `attributes` (keys from `ATTRIBUTE_KEYS`;
    an empty mapping clears them all)."""
    problems = attribute_problems(attributes)
    if problems:
        raise Invalid(E_ATTRIBUTES_INVALID, "cannot store these attributes", problems)
    cleaned = clean_attributes(attributes)
    with write_transaction(db.sessions) as session:
        user = session.get(User, actor.user_id, with_for_update={"key_share": True})
        assert user is not None  # the actor was authenticated from this row
        user.attributes = cleaned
        record_event(
            session,
            "user.attributes_set" if cleaned else "user.attributes_clear",
            actor_id=actor.user_id,
            target=f"user:{actor.username}",
            details={"keys": sorted(cleaned)},
            source=actor.source,
        )
    return cleaned


def clear_own_attributes(db: Database, actor: Actor) -> None:
    """Delete every attribute the actor gave."""
    set_own_attributes(db, actor, {})


@dataclass(frozen=True)
class PoolSummary:
    """A project's annotator pool by attribute; small groups withheld."""

    project: str
    k_anonymity: int
    members: int
    """Active members in a working role (annotator, reviewer, expert): the pool."""
    attributes: list[PoolAttribute] = field(default_factory=list)
    note: str = ""


def pool_summary(
    db: Database, project_name: str, actor: Actor | None = None, k: int = POOL_K
) -> PoolSummary:
    """How the project's annotators split on each self-reported attribute (managers and
    admins; None: the local CLI, which may choose k). Values given by fewer than k
    people are withheld, with the next smallest when needed."""
    with read_session(db.sessions) as session:
        if actor is None:
            ref = get_project(session, project_name)
            name, project_id = ref.name, ref.id
        else:
            project = project_for(session, actor, project_name)
            require_role(session, actor, project, MANAGERS)
            name, project_id = project.name, project.id
        attributes = worker_attributes(session, project_id, WORKERS)
    pool = [a if isinstance(a, dict) else {} for a in attributes]
    return PoolSummary(
        name,
        k,
        len(pool),
        pool_by_attribute(pool, ATTRIBUTE_KEYS, k),
        note=f"values given by fewer than {k} people are withheld (with the next smallest "
        "when needed, so withheld people number at least k); who gave what is never shown",
    )
