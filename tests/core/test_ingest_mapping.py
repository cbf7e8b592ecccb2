"""Mapping records to item rows: fields, metadata, pre-labels, gold, decomposition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from annotary.core.ingest import (
    ImportOptions,
    PrelabelRow,
    RowError,
    RowMapper,
    parse_field_mapping,
    read_records,
)
from annotary.core.items import content_hash
from annotary.errors import FieldError, Invalid


def reasons_of(mapper: RowMapper, data: dict[str, Any]) -> list[str]:
    with pytest.raises(RowError) as caught:
        mapper.map(data)
    return caught.value.reasons


def sentiment_check(annotation: dict[str, Any], content: dict[str, Any]) -> list[FieldError]:
    """A stand-in for the project schema: only 'pos' and 'neg' are labels."""
    assert "text" in content
    label = annotation.get("sentiment")
    if label in ("pos", "neg"):
        return []
    return [FieldError("sentiment", f"label {label!r} is not in the label set; valid: pos, neg")]


# -- text items ----------------------------------------------------------------------


def test_text_row_with_id_metadata_and_priority() -> None:
    mapper = RowMapper(ImportOptions(kind="text", metadata_keys=("lang",)))
    row = mapper.map(
        {
            "id": 17,
            "text": "Hello there",
            "lang": "en",
            "metadata": {"source": "crawl", "tags": ["a"]},
            "priority": "2.5",
            "unrelated": "ignored",
        }
    )
    assert row.kind == "text"
    assert row.content == {"text": "Hello there"}
    assert row.content_hash == content_hash("text", {"text": "Hello there"})
    assert row.external_id == "17"
    assert row.metadata == {"source": "crawl", "tags": ["a"], "lang": "en"}
    assert row.priority == 2.5
    assert row.prelabels == []
    assert row.gold is None
    assert row.children == []


def test_plain_row_defaults() -> None:
    row = RowMapper(ImportOptions(kind="text")).map({"text": "x"})
    assert (row.external_id, row.metadata, row.priority) == (None, {}, 0.0)


def test_field_mapping_renames_the_text_column() -> None:
    mapper = RowMapper(ImportOptions(kind="text", fields={"text": "body"}))
    assert mapper.map({"body": "mapped", "text": "not this"}).content == {"text": "mapped"}


def test_content_hash_ignores_metadata_and_id() -> None:
    mapper = RowMapper(ImportOptions(kind="text"))
    first = mapper.map({"id": "a", "text": "same", "metadata": {"source": "x"}})
    second = mapper.map({"id": "b", "text": "same", "metadata": {"source": "y"}, "priority": 3})
    other = mapper.map({"text": "same!"})
    assert first.content_hash == second.content_hash
    assert first.content_hash != other.content_hash


def test_conversation_hash_does_not_depend_on_key_order() -> None:
    mapper = RowMapper(ImportOptions(kind="conversation"))
    a = mapper.map({"turns": [{"role": "user", "content": "hi"}]})
    b = mapper.map({"turns": [{"content": "hi", "role": "user"}]})
    assert a.content_hash == b.content_hash


def test_every_problem_of_a_row_is_reported() -> None:
    mapper = RowMapper(ImportOptions(kind="text"))
    reasons = reasons_of(
        mapper,
        {"body": "x", "id": [1], "metadata": "not json", "priority": "high", "gold": 3},
    )
    assert len(reasons) == 5
    assert reasons[0].startswith("missing column 'text'")
    assert "body" in reasons[0]  # names what the record does have
    assert any(r.startswith("id must be") for r in reasons)
    assert any(r.startswith("metadata is not valid JSON") for r in reasons)
    assert "priority must be a number, got 'high'" in reasons
    assert "gold must be an annotation object" in reasons


@pytest.mark.parametrize(
    ("text", "reason"),
    [("   ", "text must not be empty"), (12, "text must be a string")],
)
def test_text_content_is_validated(text: object, reason: str) -> None:
    assert reasons_of(RowMapper(ImportOptions(kind="text")), {"text": text}) == [reason]


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({"when": float("nan")}, "metadata.when must be a finite number"),
        ({"blob": b"raw"}, "metadata.blob must be a JSON value"),
        ([1, 2], "metadata must be an object"),
    ],
)
def test_metadata_must_be_json(metadata: object, fragment: str) -> None:
    reasons = reasons_of(RowMapper(ImportOptions(kind="text")), {"text": "t", "metadata": metadata})
    assert len(reasons) == 1
    assert reasons[0].startswith(fragment)


def test_bad_priority_values() -> None:
    mapper = RowMapper(ImportOptions(kind="text"))
    assert reasons_of(mapper, {"text": "t", "priority": True}) == [
        "priority must be a number, got True"
    ]
    assert reasons_of(mapper, {"text": "t", "priority": "inf"}) == [
        "priority must be a number, got 'inf'"
    ]


# -- CSV-shaped records --------------------------------------------------------------


def test_csv_cells_holding_json(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "prompt,responses,metadata,extra_json\n"
        '"Q?","[""a"", ""b""]","{""source"": ""s""}","{""k"": [1]}"\n'
    )
    options = ImportOptions(kind="prompt_responses", metadata_keys=("extra_json",))
    mapper = RowMapper(options)
    [record] = list(read_records(path))
    assert record.data is not None
    row = mapper.map(record.data)
    assert row.content == {"prompt": "Q?", "responses": ["a", "b"]}
    assert row.metadata == {"source": "s", "extra": {"k": [1]}}


def test_responses_from_several_columns() -> None:
    fields = parse_field_mapping(["responses=resp_a, resp_b", "prompt=question"])
    mapper = RowMapper(ImportOptions(kind="prompt_responses", fields=fields))
    row = mapper.map({"question": "Q", "resp_a": "first", "resp_b": "second"})
    assert row.content == {"prompt": "Q", "responses": ["first", "second"]}
    reasons = reasons_of(mapper, {"question": "Q", "resp_a": "first"})
    assert len(reasons) == 1
    assert reasons[0].startswith("missing column 'resp_b'")


@pytest.mark.parametrize("responses", [[], "just text", [1, "b"]])
def test_responses_must_be_a_list_of_strings(responses: object) -> None:
    mapper = RowMapper(ImportOptions(kind="prompt_responses"))
    reasons = reasons_of(mapper, {"prompt": "Q", "responses": responses})
    assert reasons in (
        ["responses must be a non-empty list of strings"],
        ["responses[0] must be a string"],
    )


# -- conversations -------------------------------------------------------------------


TURNS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
]


def test_conversation_from_messages_key_and_decomposed() -> None:
    mapper = RowMapper(ImportOptions(kind="conversation", decompose_turns=True))
    row = mapper.map({"messages": TURNS})
    assert row.content == {"turns": TURNS}
    assert len(row.children) == 3
    for index, (child, child_hash) in enumerate(row.children):
        assert child == {"turns": TURNS[: index + 1], "turn_index": index}
        assert child_hash == content_hash("turn", {"parent": row.content_hash, "turn_index": index})
    assert len({h for _, h in row.children} | {row.content_hash}) == 4
    other = mapper.map({"turns": [*TURNS[:2], {"role": "assistant", "content": "Hey."}]})
    assert other.children[0][0] == row.children[0][0]  # same opening turn...
    assert other.children[0][1] != row.children[0][1]  # ...but a task of its own


def test_conversation_without_decomposition_has_no_children() -> None:
    row = RowMapper(ImportOptions(kind="conversation")).map({"turns": TURNS})
    assert row.children == []


def test_conversation_turn_problems() -> None:
    mapper = RowMapper(ImportOptions(kind="conversation"))
    reasons = reasons_of(mapper, {"turns": '[{"role": "bot", "content": 1}]'})
    assert reasons == [
        "turns[0].role must be one of system, user, assistant, tool",
        "turns[0].content must be a string",
    ]
    assert reasons_of(mapper, {"text": "no turns"}) == [
        "missing column 'turns' or 'messages' (absent or empty); the record has: text"
    ]


# -- pre-labels and gold -------------------------------------------------------------


def test_prelabels_and_gold_are_checked_against_the_schema() -> None:
    mapper = RowMapper(ImportOptions(kind="text"), check_annotation=sentiment_check)
    reasons = reasons_of(
        mapper,
        {
            "text": "t",
            "prelabels": [
                {"model": "m1", "annotation": {"sentiment": "pos"}, "confidence": 0.9},
                {"model": "m2", "annotation": {"sentiment": "x"}},
            ],
            "gold": {"sentiment": "meh"},
        },
    )
    assert reasons == [
        "prelabels[1].annotation.sentiment: label 'x' is not in the label set; valid: pos, neg",
        "gold.sentiment: label 'meh' is not in the label set; valid: pos, neg",
    ]


def test_valid_prelabels_and_gold() -> None:
    mapper = RowMapper(ImportOptions(kind="text"), check_annotation=sentiment_check)
    row = mapper.map(
        {
            "text": "t",
            "prelabels": '[{"model": "m1", "annotation": {"sentiment": "pos"}, "confidence": 1}]',
            "prelabel": {"sentiment": "neg"},
            "prelabel_model": "rules",
            "gold": {"sentiment": "neg"},
            "gold_reason": "obvious",
        }
    )
    assert row.prelabels == [
        PrelabelRow("m1", {"sentiment": "pos"}, 1.0),
        PrelabelRow("rules", {"sentiment": "neg"}, None),
    ]
    assert row.gold == {"sentiment": "neg"}
    assert row.gold_reason == "obvious"


def test_prelabel_paths_keep_their_source_index() -> None:
    mapper = RowMapper(ImportOptions(kind="text"), check_annotation=sentiment_check)
    reasons = reasons_of(
        mapper,
        {
            "text": "t",
            "prelabels": [{"model": "m0"}, {"model": "m1", "annotation": {"sentiment": "x"}}],
            "prelabel": {"sentiment": "y"},
        },
    )
    assert reasons == [
        "prelabels[0].annotation must be an object",
        "prelabels[1].annotation.sentiment: label 'x' is not in the label set; valid: pos, neg",
        "prelabel.sentiment: label 'y' is not in the label set; valid: pos, neg",
    ]


def test_single_prelabel_defaults_its_model_and_is_checked() -> None:
    mapper = RowMapper(ImportOptions(kind="text"), check_annotation=sentiment_check)
    row = mapper.map({"text": "t", "prelabel": '{"sentiment": "pos"}'})
    assert row.prelabels == [PrelabelRow("import", {"sentiment": "pos"}, None)]
    assert reasons_of(mapper, {"text": "t", "prelabel": {"sentiment": "?"}}) == [
        "prelabel.sentiment: label '?' is not in the label set; valid: pos, neg"
    ]


def test_malformed_prelabels() -> None:
    mapper = RowMapper(ImportOptions(kind="text"))
    reasons = reasons_of(
        mapper,
        {
            "text": "t",
            "prelabels": [
                "nope",
                {"annotation": {}, "confidence": 2},
                {"model": "m", "annotation": []},
            ],
        },
    )
    assert reasons == [
        "prelabels[0] must be an object with 'model' and 'annotation'",
        "prelabels[1].model must be a non-empty string",
        "prelabels[1].confidence must be a number between 0 and 1",
        "prelabels[2].annotation must be an object",
    ]


def test_annotations_are_not_checked_against_invalid_content() -> None:
    calls: list[dict[str, Any]] = []

    def check(annotation: dict[str, Any], content: dict[str, Any]) -> list[FieldError]:
        calls.append(content)
        return []

    mapper = RowMapper(ImportOptions(kind="text"), check_annotation=check)
    assert reasons_of(mapper, {"text": "", "gold": {"sentiment": "pos"}}) == [
        "text must not be empty"
    ]
    assert calls == []
    mapper.map({"text": "ok", "gold": {"sentiment": "pos"}})
    assert calls == [{"text": "ok"}]


# -- options and the --map syntax ----------------------------------------------------


def test_parse_field_mapping() -> None:
    assert parse_field_mapping([" text = body ", "responses=a,b"]) == {
        "text": "body",
        "responses": "a,b",
    }
    assert parse_field_mapping([]) == {}


def test_parse_field_mapping_reports_every_bad_spec() -> None:
    with pytest.raises(Invalid) as caught:
        parse_field_mapping(["text", "label=x", "text=a", "text=b", "prompt=a,b", "turns="])
    error = caught.value
    assert error.code == "E303"
    assert [d.path for d in error.details] == ["text", "label=x", "text=b", "prompt=a,b", "turns="]
    assert "valid: text, prompt, responses, turns" in error.details[1].reason


@pytest.mark.parametrize(
    "options",
    [
        ImportOptions(kind="image"),
        ImportOptions(kind="text", fields={"prompt": "q"}),
        ImportOptions(kind="text", decompose_turns=True),
    ],
)
def test_invalid_options_are_rejected_up_front(options: ImportOptions) -> None:
    with pytest.raises(Invalid) as caught:
        RowMapper(options)
    assert caught.value.code == "E303"
