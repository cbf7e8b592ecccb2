"""Pre-labelers, export formats and PII recognizers from a plugin: found, built, used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotary.core.anonymize import PiiFinding, Recognizer, RecognizerSpec, finding_problems
from annotary.core.export import ExporterSpec, ExportRecord, ExportSetup
from annotary.core.ingest.prelabels import PrelabelRow
from annotary.core.plugins.manager import load_plugins
from annotary.core.prelabel import Prelabeler, PrelabelerSpec, PrelabelSetup
from annotary.core.schema.fields import AnnotationSchema
from annotary.errors import Unavailable
from annotary.hookspecs import hookimpl
from tests.core.plugins.sample import Components, write_labels

PLUGINS = load_plugins(Components(), entry_points=False)
SCHEMA = AnnotationSchema.model_validate(
    {"fields": [{"name": "sentiment", "kind": "label", "labels": ["positive", "negative"]}]}
)


def test_a_prelabeler_is_built_for_a_project_and_suggests_with_confidence() -> None:
    spec = PLUGINS.prelabelers["acme.keyword.v1"]
    prelabeler = spec.create(PrelabelSetup(SCHEMA, "Label it.", {"keyword": "great"}))
    assert isinstance(prelabeler, Prelabeler)
    assert prelabeler.predict([{"text": "a great day"}, {"text": "rain"}]) == [
        PrelabelRow("acme.keyword.v1:great", {"sentiment": "positive"}, 0.7),
        None,
    ]


def test_an_export_format_writes_the_records_it_is_given(tmp_path: Path) -> None:
    spec = PLUGINS.exporters["acme.labels.v1"]
    setup = ExportSetup("reviews", "text", SCHEMA, 1, 1)
    records = [
        ExportRecord(
            n, None, "text", {"text": t}, {}, {"sentiment": s}, "majority", 1.0, 1.0, {}, split
        )
        for n, (t, s, split) in enumerate(
            [("good", "positive", "train"), ("bad", "negative", "test")]
        )
    ]
    written = spec.write(setup, records, tmp_path)
    assert sorted(p.name for p in written) == ["test.jsonl", "train.jsonl"]
    assert json.loads((tmp_path / "test.jsonl").read_text()) == {
        "text": "bad",
        "sentiment": "negative",
    }


def test_a_recognizer_finds_typed_spans_with_scores() -> None:
    spec = PLUGINS.recognizers["acme.email.v1"]
    recognizer = spec.create({})
    assert isinstance(recognizer, Recognizer)
    text = "write to ana@example.org today"
    found = recognizer.find(text, "en")
    assert found == [PiiFinding(9, 24, "EMAIL_ADDRESS", 0.95)]
    assert [finding_problems(text, f, spec.entities) for f in found] == [[]]
    assert finding_problems(text, PiiFinding(25, 40, "PERSON", -1), spec.entities) == [
        "span 25-40 is outside the text (30 characters)",
        "entity 'PERSON' is not one it registers; valid: EMAIL_ADDRESS",
        "score -1 is not from 0 to 1",
    ]
    assert finding_problems(text, (9, 24), spec.entities) == ["expected a PiiFinding, got tuple"]


def registering(hook: str, spec: Any) -> object:
    class Plugin:
        pass

    def register(self: object) -> list[Any]:
        return [spec]

    setattr(Plugin, hook, hookimpl(register))
    return Plugin()


@pytest.mark.parametrize(
    ("hook", "spec", "reasons"),
    [
        (
            "register_prelabelers",
            PrelabelerSpec("regex", frozenset({"label"}), lambda s: s),  # type: ignore[arg-type,return-value]
            ["name 'regex' is not a versioned name like 'acme.trimmed_mean.v1'"],
        ),
        (
            "register_prelabelers",
            PrelabelerSpec("prelabel.regex.v1", frozenset({"label"}), None, frozenset({"chat"})),  # type: ignore[arg-type]
            [
                "create must be callable, not NoneType",
                "item_kinds: 'chat' is not known; valid: text, prompt_responses, conversation, "
                "turn",
            ],
        ),
        (
            "register_exporters",
            ExporterSpec("sft.messages.v1", write_labels, check="yes"),  # type: ignore[arg-type]
            ["check must be callable, not str"],
        ),
        (
            "register_pii_recognizers",
            RecognizerSpec("pii.email.v1", frozenset({"email"}), dict, languages="en"),  # type: ignore[arg-type]
            [
                "entities must be upper-case entity types like 'EMAIL_ADDRESS'",
                "languages must be a set of language codes like {'en'}",
            ],
        ),
    ],
)
def test_an_invalid_component_names_the_plugin_and_every_problem(
    hook: str, spec: Any, reasons: list[str]
) -> None:
    with pytest.raises(Unavailable) as raised:
        load_plugins(registering(hook, spec), entry_points=False)
    assert raised.value.code == "E903"
    assert "registering.<locals>.Plugin' registers an invalid" in raised.value.message
    assert [d.reason for d in raised.value.details] == reasons
