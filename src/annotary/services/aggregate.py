"""Re-aggregate a project's machine-made final labels with Dawid-Skene.

Dawid-Skene estimates every annotator's confusion matrix from all of their
annotations at once, so it cannot be fitted item by item as items complete.
This use case refits the whole project and stores the fitted parameters; until
the next refit the queue labels completing items with them (the E-step for one
item), and by majority vote before the first fit.
Human decisions (adjudication, expert, review) are never overwritten, and
items still waiting for a human are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.aggregation import DawidSkene
from annotary.core.schema.fields import LabelField
from annotary.services.access import MANAGER, Actor, project_for, require_role
from annotary.services.audit import record_event
from annotary.services.projects import current_schema, get_project
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Annotation, AnnotatorModel, FinalLabel, Item, utcnow

MACHINE_METHODS = ("majority", "weighted", "dawid_skene")


@dataclass(frozen=True)
class AggregateReport:
    """What a re-aggregation did."""

    fields: list[str]
    items_relabelled: int
    labels_changed: int
    converged: bool


def aggregate_project(
    db: Database, project_name: str, actor: Actor | None = None
) -> AggregateReport:
    """Refit Dawid-Skene on every single-choice field and rewrite machine-made
    final labels (method `dawid_skene`, confidence = the smallest posterior of
    the chosen labels). `actor` None means the trusted local CLI."""
    with write_transaction(db.sessions) as session:
        if actor is None:
            ref = get_project(session, project_name)
            project_id, schema = ref.id, ref.schema
        else:
            project = project_for(session, actor, project_name)
            require_role(session, actor, project, frozenset({MANAGER}))
            project_id, schema = project.id, current_schema(session, project)
        fields = [f for f in schema.fields if isinstance(f, LabelField) and not f.per_turn]
        rows = session.execute(
            select(Annotation.item_id, Annotation.user_id, Annotation.payload)
            .join(Item, Item.id == Annotation.item_id)
            .where(Item.project_id == project_id, Item.is_gold.is_(False))
        ).all()
        finals = {
            final.item_id: final
            for final in session.scalars(
                select(FinalLabel)
                .join(Item, Item.id == FinalLabel.item_id)
                .where(Item.project_id == project_id, FinalLabel.method.in_(MACHINE_METHODS))
            )
        }
        if not rows or not fields or not finals:
            return AggregateReport([f.name for f in fields], 0, 0, True)
        item_index = {item: i for i, item in enumerate(sorted({r[0] for r in rows}))}
        user_index = {user: u for u, user in enumerate(sorted({r[1] for r in rows}))}
        chosen: dict[int, dict[str, tuple[str, float]]] = {}
        converged = True
        for spec in fields:
            labels = spec.label_names()
            code = {label: k for k, label in enumerate(labels)}
            observed = [(r[0], r[1], r[2].get(spec.name)) for r in rows]
            observed = [(i, u, v) for i, u, v in observed if v in code]
            if not observed:
                continue
            model = DawidSkene().fit(
                np.array([item_index[i] for i, _, _ in observed]),
                np.array([user_index[u] for _, u, _ in observed]),
                np.array([code[v] for _, _, v in observed]),
                len(item_index),
                len(user_index),
                len(labels),
            )
            converged = converged and bool(model.converged_)
            _store_model(session, project_id, spec.name, labels, model, user_index)
            for item_id, position in item_index.items():
                label = int(model.labels_[position])
                if item_id in finals and label >= 0:
                    posterior = float(model.probas_[position, label])
                    chosen.setdefault(item_id, {})[spec.name] = (labels[label], posterior)
        changed = 0
        for item_id, per_field in chosen.items():
            final = finals[item_id]
            payload = dict(final.payload)
            for name, (value, _) in per_field.items():
                changed += payload.get(name) != value
                payload[name] = value
            final.payload = payload
            final.method = "dawid_skene"
            final.confidence = min(p for _, p in per_field.values())
        record_event(
            session,
            "items.aggregate",
            actor_id=actor.user_id if actor else None,
            project_id=project_id,
            target=f"project:{project_name}",
            details={"method": "dawid_skene", "items": len(chosen), "changed": changed},
            source=actor.source if actor else "cli",
        )
        return AggregateReport([f.name for f in fields], len(chosen), changed, converged)


def _store_model(
    session: Session,
    project_id: int,
    field: str,
    labels: list[str],
    model: DawidSkene,
    user_index: dict[int, int],
) -> None:
    """Keep the fitted priors and confusion matrices: the queue labels items that
    complete before the next refit with them (`finalize.dawid_skene_consensus`)."""
    params = {
        "labels": labels,
        "priors": [float(p) for p in model.priors_],
        "errors": {str(user): model.errors_[code].tolist() for user, code in user_index.items()},
    }
    stored = session.scalar(
        select(AnnotatorModel).where(
            AnnotatorModel.project_id == project_id,
            AnnotatorModel.field == field,
            AnnotatorModel.method == "dawid_skene",
        )
    )
    if stored is None:
        session.add(
            AnnotatorModel(project_id=project_id, field=field, method="dawid_skene", params=params)
        )
    else:
        stored.params = params
        stored.fitted_at = utcnow()
