"""Calibration rounds, the managers' side (SPEC 4): make a round, list rounds, see
the results per annotator and per item. The participants' side is
`calibration_work`.

A round is a fixed set of items with expert answers and reasons: copies of
existing gold items (by id or external id) and/or items given with their
answers. Every annotator of the project at the time (or the people named) does
the same set, outside the queue. Calibration answers are stored apart from
annotations, so they never count as gold or regular annotations in QA or
consensus.

A gold item copied into a round is hidden gold no longer for its participants:
the round shows them its expert answer. So the round marks it as seen for
them (the queue then never serves it to them) and gives back any lease they
hold on it. Participants who met it earlier in the queue learn that it was
gold: prefer gold items they have not seen, or a file of items.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from annotary.core.calibration import (
    ExpertItem,
    Tally,
    expert_item_problems,
    round_shape_problems,
)
from annotary.errors import (
    E_CALIBRATION_EXISTS,
    E_CALIBRATION_INVALID,
    E_CALIBRATION_NOT_FOUND,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import (
    ALL_ROLES,
    MANAGER,
    WORKERS,
    Actor,
    project_for,
    require_role,
)
from annotary.services.identity.auth import aware
from annotary.services.projects import get_project, schema_at
from annotary.storage.calibration_store import (
    GoldSource,
    add_round,
    all_answers,
    gold_sources,
    items_of,
    members_in_roles,
    members_named,
    own_progress,
    participants_of,
    round_named,
    rounds_of,
)
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import CalibrationItem, CalibrationRound, Project
from annotary.storage.people_store import mark_items_seen, release_leases

MANAGERS = frozenset({MANAGER})


@dataclass(frozen=True)
class NewCalibrationItem:
    """An item given with its expert answer and the reason for it."""

    content: dict[str, Any]
    answer: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class NewRound:
    """What a manager asks for: gold item references (`12` or an external id) and/or
    items with answers; the participants by name (default: every active member in
    an annotating role); whether each participant gets their own order."""

    name: str
    gold_items: tuple[str, ...] = ()
    items: tuple[NewCalibrationItem, ...] = ()
    participants: tuple[str, ...] = ()
    shuffle: bool = False


@dataclass(frozen=True)
class RoundInfo:
    """A round as listed. `answers` (all participants) is shown to managers only;
    `your_answers` is the caller's own progress when they take part."""

    name: str
    shuffle: bool
    items: int
    participants: int
    answers: int | None
    your_answers: int | None
    schema_version: int
    guideline_version: int
    created_at: datetime


def managed_project(session: Session, project_name: str, actor: Actor | None) -> Project:
    """The project, if the actor manages it (admins too; None: the local CLI)."""
    if actor is None:
        found = session.get(Project, get_project(session, project_name).id)
        assert found is not None  # just looked up by name
        return found
    project = project_for(session, actor, project_name)
    require_role(session, actor, project, MANAGERS)
    return project


def round_of(session: Session, project: Project, name: str) -> CalibrationRound:
    """The project's round called `name` (NotFound E820)."""
    found = round_named(session, project.id, name)
    if found is None:
        raise NotFound(
            E_CALIBRATION_NOT_FOUND, f"no calibration round {name!r} in {project.name!r}"
        )
    return found


def create_round(
    db: Database, project_name: str, new: NewRound, actor: Actor | None = None
) -> RoundInfo:
    """Make a calibration round (managers and admins; None: the local CLI). Every item
    and answer is checked against the project's current schema; nothing is stored
    unless all of it is valid."""
    problems = round_shape_problems(new.name, new.gold_items, len(new.items))
    if problems:
        raise Invalid(E_CALIBRATION_INVALID, f"cannot make round {new.name!r}", problems)
    with write_transaction(db.sessions) as session:
        project = managed_project(session, project_name, actor)
        if round_named(session, project.id, new.name) is not None:
            raise Conflict(
                E_CALIBRATION_EXISTS,
                f"{project.name!r} already has a calibration round {new.name!r}",
            )
        schema = schema_at(session.connection(), project.id, project.schema_version)
        sources, problems = _gold_items(session, project.id, new.gold_items)
        items = [_copy(source) for source in sources]
        items += [
            CalibrationItem(
                kind=project.item_kind, content=i.content, answer=i.answer, reason=i.reason
            )
            for i in new.items
        ]
        problems += expert_item_problems(
            schema,
            [ExpertItem(i.kind, i.content, i.answer, i.reason) for i in items],
            len(sources),
        )
        people, missing = _participants(session, project.id, new.participants)
        problems += missing
        if problems:
            raise Invalid(E_CALIBRATION_INVALID, f"cannot make round {new.name!r}", problems)
        round_ = CalibrationRound(
            project_id=project.id,
            name=new.name,
            shuffle=new.shuffle,
            seed=secrets.randbelow(2**31),
            schema_version=project.schema_version,
            guideline_version=project.guideline_version,
            created_by=actor.user_id if actor else None,
        )
        add_round(session, round_, items, people)
        gold_ids = [source.item_id for source in sources]
        mark_items_seen(session, people, gold_ids, f"shown in calibration round {new.name}")
        released = release_leases(session, people, item_ids=gold_ids)
        record_event(
            session,
            "calibration.create",
            actor_id=actor.user_id if actor else None,
            project_id=project.id,
            target=f"calibration:{new.name}",
            details={
                "items": len(items),
                "from_gold": len(gold_ids),
                "participants": len(people),
                "shuffle": new.shuffle,
                "leases_released": released,
            },
            source=actor.source if actor else "cli",
        )
        return RoundInfo(
            new.name,
            new.shuffle,
            len(items),
            len(people),
            0,
            None,
            round_.schema_version,
            round_.guideline_version,
            aware(round_.created_at),
        )


def _gold_items(
    session: Session, project_id: int, references: Sequence[str]
) -> tuple[list[GoldSource], list[FieldError]]:
    """The gold items the references name: an external id first, else an item id."""
    numbers = {int(r) for r in references if r.isdigit() and len(r) < 19}
    found = gold_sources(session, project_id, numbers, set(references))
    sources: list[GoldSource] = []
    problems = []
    for i, reference in enumerate(references):
        by_external = [s for s in found if s.external_id == reference]
        by_id = [s for s in found if reference.isdigit() and str(s.item_id) == reference]
        matches = by_external or by_id
        if len(matches) != 1:
            reason = "no gold item of the project has this id or external id"
            if len(matches) > 1:
                reason = "several gold items have this external id; use the item id"
            problems.append(FieldError(f"gold_items[{i}]", f"{reference[:40]!r}: {reason}"))
        elif matches[0] in sources:
            problems.append(FieldError(f"gold_items[{i}]", "names an item already in the round"))
        else:
            sources.append(matches[0])
    return sources, problems


def _copy(source: GoldSource) -> CalibrationItem:
    return CalibrationItem(
        source_item_id=source.item_id,
        kind=source.kind,
        content=source.content,
        answer=source.answer,
        reason=(source.reason or "").strip(),
    )


def _participants(
    session: Session, project_id: int, usernames: Sequence[str]
) -> tuple[list[int], list[FieldError]]:
    if not usernames:
        people = members_in_roles(session, project_id, WORKERS)
        if not people:
            return [], [FieldError("participants", "the project has no annotators yet")]
        return people, []
    known = members_named(session, project_id, usernames)
    problems = [
        FieldError(f"participants[{i}]", f"{name[:64]!r} is not a member of the project")
        for i, name in enumerate(usernames)
        if name not in known
    ]
    return sorted({known[name] for name in usernames if name in known}), problems


def list_rounds(db: Database, project_name: str, actor: Actor | None = None) -> list[RoundInfo]:
    """The project's rounds, newest first: all of them for managers and admins (None:
    the local CLI), the ones they take part in for other members."""
    with read_session(db.sessions) as session:
        if actor is None:
            project_id, manager, user_id = get_project(session, project_name).id, True, None
        else:
            project = project_for(session, actor, project_name)
            membership = require_role(session, actor, project, ALL_ROLES)
            manager = membership is None or membership.role == MANAGER
            project_id, user_id = project.id, actor.user_id
        rows = rounds_of(session, project_id, None if manager else user_id)
        mine = own_progress(session, user_id, [r.round.id for r in rows]) if user_id else {}
        return [
            RoundInfo(
                row.round.name,
                row.round.shuffle,
                row.items,
                row.participants,
                row.answers if manager else None,
                mine.get(row.round.id),
                row.round.schema_version,
                row.round.guideline_version,
                aware(row.round.created_at),
            )
            for row in rows
        ]


@dataclass
class ParticipantResult:
    """One participant's answers in a round against the expert answers."""

    username: str
    answered: int
    correct: int
    accuracy: float | None
    fields: dict[str, float] = field(default_factory=dict)
    """Per field: share of answers that matched the expert answer."""


@dataclass
class ItemResult:
    """One item of a round: how many answered it, how many matched the expert."""

    item_id: int
    position: int
    gold_item_id: int | None
    answered: int
    correct: int
    accuracy: float | None
    fields: dict[str, float] = field(default_factory=dict)


@dataclass
class RoundResults:
    """A round's results per participant and per item (managers and admins)."""

    round: str
    items: int
    participants: list[ParticipantResult]
    per_item: list[ItemResult]


def round_results(
    db: Database, project_name: str, round_name: str, actor: Actor | None = None
) -> RoundResults:
    """How each participant and each item of the round did against the expert answers."""
    with read_session(db.sessions) as session:
        project = managed_project(session, project_name, actor)
        round_ = round_of(session, project, round_name)
        items = items_of(session, round_.id)
        people = participants_of(session, round_.id)
        answers = all_answers(session, round_.id)
    by_user = {user_id: Tally() for user_id, _ in people}
    by_item = {item.id: Tally() for item in items}
    for user_id, item_id, matches, correct in answers:
        by_user.setdefault(user_id, Tally()).add(matches, correct)
        by_item[item_id].add(matches, correct)
    names = dict(people)
    return RoundResults(
        round_.name,
        len(items),
        [
            ParticipantResult(
                names.get(user_id, f"user:{user_id}"),
                tally.answered,
                tally.correct,
                tally.accuracy,
                tally.field_shares(),
            )
            for user_id, tally in sorted(by_user.items(), key=lambda kv: names.get(kv[0], ""))
        ],
        [
            ItemResult(
                item.id,
                item.position,
                item.source_item_id,
                by_item[item.id].answered,
                by_item[item.id].correct,
                by_item[item.id].accuracy,
                by_item[item.id].field_shares(),
            )
            for item in items
        ],
    )
