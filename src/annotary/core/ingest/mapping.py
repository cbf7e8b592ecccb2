"""Turning a source record into an item row (SPEC 3): fields, metadata, pre-labels.

A record is a flat dict from a reader. Besides the item fields (named by the
field mapping), a record may carry these keys:

- `id` (or `ImportOptions.id_key`): the external id, a string or an integer;
- `metadata`: an object (JSON text in a CSV cell), plus `metadata_keys` columns;
  a metadata column named `*_json` is decoded and stored without the suffix;
- `priority`: a number (default 0);
- `prelabels`: a list of `{model, annotation, confidence?}`, or `prelabel`: one
  annotation object whose model is `prelabel_model` (default `import`);
- `gold`: the gold annotation object, with an optional `gold_reason` string.

List- and object-valued keys may be given as JSON text (CSV cells have no other
way); `responses` may also come from several columns (`responses=col_a,col_b`).
Any other key is ignored: exports carry plenty of them.

The mapper runs once per row of imports of millions of rows, so everything that
depends only on the options is worked out once in `RowMapper.__init__`, and the
common case (valid content, nothing to check against the schema) takes the
shortest path; the slower checks run to say what is wrong with a bad row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from annotary.core.ingest.prelabels import (
    AnnotationCheck,
    PrelabelRow,
    Prelabels,
    check_annotations,
    parse_gold,
    parse_prelabels,
)
from annotary.core.ingest.values import (
    decoded,
    decoded_list,
    external_id_value,
    json_problem,
    priority_value,
)
from annotary.core.items import (
    IMPORTABLE_KINDS,
    content_hash,
    content_problems,
    decompose_conversation,
)
from annotary.errors import E_IMPORT_MAPPING, FieldError, Invalid, quote

KIND_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "text": ("text",),
    "prompt_responses": ("prompt", "responses"),
    "conversation": ("turns",),
}
MAPPABLE_FIELDS: Final = ("text", "prompt", "responses", "turns")


@dataclass(frozen=True)
class ImportOptions:
    """How records become items: the kind, which record key feeds each item field, etc.

    `fields` maps an item field to a record key (default: the field's own name;
    for `turns`, `messages` is used when a record has no `turns`). For
    `responses` the key may list several columns: `"col_a,col_b"`.
    """

    kind: str | None = None
    """None: the project's item kind (a `turn` project imports conversations split into turns)."""
    fields: dict[str, str] = field(default_factory=dict)
    metadata_keys: tuple[str, ...] = ()
    id_key: str = "id"
    decompose_turns: bool = False


@dataclass(slots=True)
class ItemRow:
    """A record mapped to an item, ready to store; `children` are per-turn items.

    `content_json` is the content's canonical JSON (sorted keys, as hashed)."""

    kind: str
    content: dict[str, Any]
    content_json: str
    content_hash: str
    metadata: dict[str, Any]
    external_id: str | None
    priority: float
    prelabels: list[PrelabelRow]
    gold: dict[str, Any] | None
    gold_reason: str | None
    children: list[tuple[dict[str, Any], str]]


class RowError(Exception):
    """A record that cannot become an item; `reasons` lists every problem of the row."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def parse_field_mapping(specs: list[str]) -> dict[str, str]:
    """Item field -> record key from `item_field=column` strings (CLI `--map`)."""
    fields: dict[str, str] = {}
    problems: list[FieldError] = []
    for spec in specs:
        name, sep, column = spec.partition("=")
        name = name.strip()
        columns = [c.strip() for c in column.split(",")]
        if not sep or not name or not all(columns):
            problems.append(FieldError(spec, "expected item_field=column, e.g. text=body"))
        elif name not in MAPPABLE_FIELDS:
            valid = ", ".join(MAPPABLE_FIELDS)
            problems.append(FieldError(spec, f"{quote(name)} is not an item field; valid: {valid}"))
        elif len(columns) > 1 and name != "responses":
            problems.append(FieldError(spec, "only responses can come from several columns"))
        elif name in fields:
            problems.append(FieldError(spec, f"{quote(name)} is mapped more than once"))
        else:
            fields[name] = ",".join(columns)
    if problems:
        raise Invalid(E_IMPORT_MAPPING, "invalid field mapping", problems)
    return fields


class RowMapper:
    """Maps records to `ItemRow`s under fixed options; `map` raises `RowError`."""

    def __init__(
        self,
        options: ImportOptions,
        check_annotation: AnnotationCheck | None = None,
        *,
        json_values: bool = False,
    ):
        """`json_values`: every value of a record is already a JSON value (JSONL
        parsed by orjson, CSV text), so metadata needs no check of its types."""
        kind = options.kind
        if kind is None or kind not in KIND_FIELDS:
            raise Invalid(
                E_IMPORT_MAPPING,
                f"unknown item kind {quote(kind)}; valid: {', '.join(IMPORTABLE_KINDS)}",
            )
        problems = [
            FieldError(
                f"fields.{name}",
                f"is not a field of {kind} items; valid: {', '.join(KIND_FIELDS[kind])}",
            )
            for name in options.fields
            if name not in KIND_FIELDS[kind]
        ]
        if options.decompose_turns and kind != "conversation":
            problems.append(FieldError("decompose_turns", "applies to conversation items only"))
        if problems:
            raise Invalid(E_IMPORT_MAPPING, "invalid import options", problems)
        self.options = options
        self._kind = kind
        self._check = check_annotation
        self._id_key = options.id_key
        self._metadata_keys = options.metadata_keys
        self._decompose = options.decompose_turns
        self._json_values = json_values
        self._hash_prefix = kind.encode() + b"\x00"  # as core.items.content_hash
        mapped = options.fields
        self._text_key = mapped.get("text", "text")
        self._prompt_key = mapped.get("prompt", "prompt")
        self._response_keys = tuple(mapped.get("responses", "responses").split(","))
        self._turn_keys = (mapped["turns"],) if "turns" in mapped else ("turns", "messages")
        self._content: Callable[[dict[str, Any], list[str]], dict[str, Any] | None] = {
            "text": self._text_content,
            "prompt_responses": self._prompt_responses_content,
            "conversation": self._conversation_content,
        }[kind]

    def map(self, record_data: dict[str, Any]) -> ItemRow:
        """The item row for one record; RowError lists every problem of the record."""
        data = record_data
        reasons: list[str] = []
        content = self._content(data, reasons)
        valid_content = False
        if content is not None:
            if self._kind == "text" and _plain_text(content["text"]):
                valid_content = True
            else:
                problems = content_problems(self._kind, content)
                reasons.extend(f"{path} {reason}" if path else reason for path, reason in problems)
                valid_content = not problems

        external_id = None
        raw_id = data.get(self._id_key)
        if raw_id is not None:
            if type(raw_id) is str and raw_id and not raw_id.isspace():
                external_id = raw_id
            else:
                external_id = external_id_value(raw_id, self._id_key, reasons)
        metadata: dict[str, Any] = {}
        if self._metadata_keys or "metadata" in data:
            given = data.get("metadata")
            if type(given) is dict and self._json_values and not self._metadata_keys:
                metadata = given  # nothing to decode, merge or check
            else:
                metadata = self._metadata(data, reasons)
        priority = 0.0
        if "priority" in data:
            priority = priority_value(data["priority"], reasons)
        prelabels: Prelabels = []
        if "prelabels" in data or "prelabel" in data:
            prelabels = parse_prelabels(data, reasons)
        gold: dict[str, Any] | None = None
        gold_reason: str | None = None
        if "gold" in data:
            gold, gold_reason = parse_gold(data, reasons)

        if (prelabels or gold is not None) and valid_content and self._check is not None:
            assert content is not None  # valid_content
            annotations = [(path, prelabel.annotation) for path, prelabel in prelabels]
            if gold is not None:
                annotations.append(("gold", gold))
            check_annotations(self._check, content, annotations, reasons)
        if reasons or content is None:
            raise RowError(reasons)
        canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.blake2b(self._hash_prefix + canonical, digest_size=16).hexdigest()
        children: list[tuple[dict[str, Any], str]] = []
        if self._decompose:
            # A turn is identified by its conversation and position: two
            # conversations sharing an opening turn still get a child each.
            children = [
                (child, content_hash("turn", {"parent": digest, "turn_index": index}))
                for index, child in enumerate(decompose_conversation(content))
            ]
        return ItemRow(
            self._kind,
            content,
            canonical.decode(),
            digest,
            metadata,
            external_id,
            priority,
            [prelabel for _, prelabel in prelabels] if prelabels else [],
            gold,
            gold_reason,
            children,
        )

    # -- content per kind -------------------------------------------------------------

    def _text_content(self, data: dict[str, Any], reasons: list[str]) -> dict[str, Any] | None:
        text = data.get(self._text_key)
        if text is None:
            reasons.append(_missing(self._text_key, data=data))
            return None
        return {"text": text}

    def _prompt_responses_content(
        self, data: dict[str, Any], reasons: list[str]
    ) -> dict[str, Any] | None:
        prompt = data.get(self._prompt_key)
        if prompt is None:
            reasons.append(_missing(self._prompt_key, data=data))
        keys = self._response_keys
        responses: Any
        if len(keys) == 1:
            responses = decoded_list(data.get(keys[0]))
            if responses is None:
                reasons.append(_missing(keys[0], data=data))
        else:
            responses = [data.get(key) for key in keys]
            missing = [key for key, value in zip(keys, responses, strict=True) if value is None]
            reasons.extend(_missing(key, data=data) for key in missing)
            if missing:
                responses = None
        if prompt is None or responses is None:
            return None
        return {"prompt": prompt, "responses": responses}

    def _conversation_content(
        self, data: dict[str, Any], reasons: list[str]
    ) -> dict[str, Any] | None:
        for key in self._turn_keys:
            turns = data.get(key)
            if turns is not None:
                return {"turns": decoded_list(turns)}
        reasons.append(_missing(*self._turn_keys, data=data))
        return None

    # -- the rest of the record -----------------------------------------------------

    def _metadata(self, data: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        given = data.get("metadata")
        if given is not None:
            given = decoded(given, "metadata", reasons)
            if isinstance(given, dict):
                metadata.update(given)
            elif given is not None:
                reasons.append("metadata must be an object")
        for key in self._metadata_keys:
            value = data.get(key)
            if value is None:
                continue
            if key.endswith("_json") and isinstance(value, str):
                name = key.removesuffix("_json")
                metadata[name] = decoded(value, key, reasons)
            else:
                metadata[key] = value
        if not self._json_values:
            for key, value in metadata.items():
                problem = json_problem(value)
                if problem is not None:
                    reasons.append(f"metadata.{key} {problem}")
        return metadata


def _plain_text(text: Any) -> bool:
    """A valid text (what `content_problems` accepts), checked the fast way."""
    return type(text) is str and bool(text) and not text.isspace()


def _missing(*keys: str, data: dict[str, Any]) -> str:
    """Which column is missing, and what the record does have (the usual cause)."""
    wanted = " or ".join(f"'{key}'" for key in keys)
    present = [k for k in data if data[k] is not None]
    shown = ", ".join(present[:12]) + (", ..." if len(present) > 12 else "")
    return f"missing column {wanted} (absent or empty); the record has: {shown or 'nothing'}"
