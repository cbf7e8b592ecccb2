"""Loading a project's annotations for the QA report: a few bulk queries into arrays.

One query reads every annotation of the project as plain columns: item id,
user id, versions, time spent, creation time in epoch seconds and, per compared
field, the field's value as JSON text extracted by the database. No ORM object
is built, and rows are fetched in chunks, so memory holds arrays, not Python
rows. Field values become long-format observations (`core.quality.report.values`).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import ColumnElement, Float, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from annotary.core.consensus import comparable_fields
from annotary.core.project import ProjectRef
from annotary.core.quality.report.tables import (
    AnnotationTable,
    FinalLabelStats,
    FloatArray,
    IntArray,
    ItemTable,
    QaData,
)
from annotary.core.quality.report.values import FieldReader
from annotary.services.projects import schema_from_definition
from annotary.storage.models import Annotation, FinalLabel, GoldAnswer, Item, User
from annotary.storage.project_store import schema_definitions

CHUNK: Final = 100_000
"""Rows fetched per round trip (and decoded per NumPy pass)."""
_USERS_PER_QUERY: Final = 10_000
_UNIX_EPOCH_JULIAN_DAY: Final = 2440587.5


def load_qa_data(session: Session, project: ProjectRef) -> QaData:
    """Read a project's annotations, items, annotators, gold answers and final labels."""
    readers = [FieldReader(spec) for spec in comparable_fields(project.schema)]
    table = _load_annotations(session, project.id, readers)
    # Read after the annotations, so every annotated item is among them (a
    # PostgreSQL statement sees rows committed since the previous one).
    items = _load_items(session, project.id)
    annotator_ids, annotator = np.unique(table.pop("user"), return_inverse=True)
    annotations = AnnotationTable(
        item=np.searchsorted(items.ids, table["item"]).astype(np.int64),
        annotator=annotator.reshape(-1).astype(np.int64),
        schema_version=table["schema_version"].astype(np.int64),
        guideline_version=table["guideline_version"].astype(np.int64),
        seconds=table["ms"] / 1000.0,
        created=_known_times(table["created"]),
    )
    names, attributes = _load_users(session, annotator_ids)
    data = QaData(
        project=project,
        total_items=session.scalar(
            select(func.count()).select_from(Item).where(Item.project_id == project.id)
        )
        or 0,
        annotations=annotations,
        items=items,
        annotator_ids=annotator_ids.astype(np.int64),
        annotator_names=names,
        annotator_attributes=attributes,
        fields=[reader.finish(annotations.item, items.ids) for reader in readers],
    )
    _load_gold(session, data)
    data.final_labels = _load_final_labels(session, project.id)
    data.schemas = {
        version: schema_from_definition(definition)
        for version, definition in schema_definitions(session, project.id).items()
    }
    return data


def _known_times(created: FloatArray) -> FloatArray:
    """Creation times with any the database could not parse set to the earliest known
    (the time-based checks need a finite time on every row)."""
    unknown = np.isnan(created)
    if unknown.any():
        created = np.where(unknown, np.nanmin(created) if (~unknown).any() else 0.0, created)
    return created


def _epoch_seconds(session: Session, column: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        # SQLite stores UTC timestamps as text; julianday() parses them in C.
        return (func.julianday(column) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0
    return cast(func.extract("epoch", column), Float)


def _load_items(session: Session, project_id: int) -> ItemTable:
    annotated = select(Annotation.id).where(Annotation.item_id == Item.id).correlate(Item).exists()
    text_chars = func.coalesce(
        func.length(Item.content["text"].as_string()), func.length(cast(Item.content, Text))
    )
    rows = (
        session.connection()
        .execute(
            select(
                Item.id, Item.external_id, Item.is_gold, text_chars, cast(Item.meta, Text)
            ).where(Item.project_id == project_id, annotated)
        )
        .all()
    )
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    ids = np.array(columns[0], dtype=np.int64)
    order = np.argsort(ids)  # sorted here: an ORDER BY would cost SQLite a temporary b-tree
    texts: dict[str | None, int] = {}
    metadata_code = np.fromiter(
        (texts.setdefault(text, len(texts)) for text in columns[4]), np.int64, len(rows)
    )
    return ItemTable(
        ids=ids[order],
        external_ids=[columns[1][i] for i in order],
        is_gold=np.array(columns[2], dtype=np.bool_)[order],
        text_chars=np.array(columns[3], dtype=np.float64)[order],
        metadata_code=metadata_code[order],
        metadata=[_object(_json(text)) for text in texts],
    )


def _load_annotations(
    session: Session, project_id: int, readers: list[FieldReader]
) -> dict[str, Any]:
    columns = [
        Annotation.item_id,
        Annotation.user_id,
        Annotation.schema_version,
        Annotation.guideline_version,
        Annotation.time_spent_ms,
        _epoch_seconds(session, Annotation.created_at),
        *(cast(Annotation.payload[r.spec.name], Text) for r in readers),
    ]
    query = select(*columns).where(Annotation.project_id == project_id).order_by(Annotation.id)
    parts: dict[str, list[npt.NDArray[Any]]] = {
        key: [] for key in ("item", "user", "schema_version", "guideline_version", "ms", "created")
    }
    first_row = 0
    # Core rows through the session's connection: the ORM result layer would
    # triple the cost of a million rows.
    result = session.connection().execute(query.execution_options(yield_per=CHUNK))
    for chunk in result.partitions():
        columns_of_chunk = list(zip(*chunk, strict=True))
        item_ids = np.array(columns_of_chunk[0], dtype=np.int64)
        parts["item"].append(item_ids)
        parts["user"].append(np.array(columns_of_chunk[1], dtype=np.int64))
        parts["schema_version"].append(np.array(columns_of_chunk[2], dtype=np.int64))
        parts["guideline_version"].append(np.array(columns_of_chunk[3], dtype=np.int64))
        parts["ms"].append(np.array(columns_of_chunk[4], dtype=np.float64))
        parts["created"].append(np.array(columns_of_chunk[5], dtype=np.float64))
        for reader, texts in zip(readers, columns_of_chunk[6:], strict=True):
            reader.read(texts, first_row, item_ids)
        first_row += len(chunk)
    empty = {"ms": np.float64, "created": np.float64}
    return {
        key: np.concatenate(arrays) if arrays else np.zeros(0, dtype=empty.get(key, np.int64))
        for key, arrays in parts.items()
    }


def _load_users(session: Session, user_ids: IntArray) -> tuple[list[str], list[dict[str, Any]]]:
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    query = select(User.id, User.username, cast(User.attributes, Text)).where(
        User.id.in_(bindparam("ids", expanding=True))
    )
    ids = [int(i) for i in user_ids]
    for start in range(0, len(ids), _USERS_PER_QUERY):
        for user_id, username, attributes in session.execute(
            query, {"ids": ids[start : start + _USERS_PER_QUERY]}
        ):
            decoded = orjson.loads(attributes) if attributes else {}
            found[user_id] = (username, decoded if isinstance(decoded, dict) else {})
    names = [found.get(i, (f"user:{i}", {}))[0] for i in ids]
    return names, [found.get(i, ("", {}))[1] for i in ids]


def _position(sorted_ids: IntArray, wanted: int) -> int | None:
    """Index of `wanted` in `sorted_ids`, None if absent."""
    position = int(np.searchsorted(sorted_ids, wanted))
    found = position < sorted_ids.size and int(sorted_ids[position]) == wanted
    return position if found else None


def _load_gold(session: Session, data: QaData) -> None:
    def item_code(item_id: int) -> int | None:
        return _position(data.items.ids, item_id)

    answers = session.execute(
        select(GoldAnswer.item_id, cast(GoldAnswer.answer, Text))
        .join(Item, Item.id == GoldAnswer.item_id)
        .where(Item.project_id == data.project.id)
    )
    for item_id, answer in answers:
        code = item_code(item_id)
        if code is not None:  # gold items nobody answered yet carry no information
            data.gold_answers[code] = orjson.loads(answer)
    rows = session.execute(
        select(Annotation.item_id, Annotation.user_id, cast(Annotation.payload, Text))
        .join(GoldAnswer, GoldAnswer.item_id == Annotation.item_id)
        .where(Annotation.project_id == data.project.id)
        .order_by(Annotation.id)
    )
    for item_id, user_id, payload in rows:
        code = item_code(item_id)
        annotator = _position(data.annotator_ids, user_id)
        if code is not None and annotator is not None:  # else: submitted since the first query
            data.gold_annotations.append((code, annotator, orjson.loads(payload)))


def _load_final_labels(session: Session, project_id: int) -> list[FinalLabelStats]:
    rows = session.execute(
        select(
            FinalLabel.method,
            func.count(),
            func.avg(FinalLabel.confidence),
            func.count(FinalLabel.confidence),
            func.avg(FinalLabel.agreement),
        )
        .join(Item, Item.id == FinalLabel.item_id)
        .where(Item.project_id == project_id)
        .group_by(FinalLabel.method)
        .order_by(FinalLabel.method)
    )
    return [
        FinalLabelStats(
            method,
            int(count),
            None if confidence is None else float(confidence),
            int(with_confidence),
            None if agreement is None else float(agreement),
        )
        for method, count, confidence, with_confidence, agreement in rows
    ]


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
