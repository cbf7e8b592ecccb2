"""`workflow.consensus` in the project file: checked against the schema, with lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotary.core.consensus import KIND_METHODS, FieldRule, FieldSetting, field_rules, settings_of
from annotary.core.project import parse_project
from annotary.errors import Invalid

PROJECT = """\
name: mixed
objective: {{use_case: other}}
schema:
  fields:
    - {{name: sentiment, kind: label, labels: [pos, neg]}}
    - {{name: tags, kind: labels, labels: [a, b]}}
    - {{name: quality, kind: rating, min: 1, max: 5}}
    - {{name: order, kind: ranking}}
    - {{name: note, kind: text, required: false}}
    - {{name: coherence, kind: label, labels: [ok, bad], per_turn: true}}
guidelines: Do it.
workflow:
  aggregation: {aggregation}
  agreement_threshold: 0.7
  consensus:
{consensus}
"""


def parse(consensus: str, aggregation: str = "majority") -> object:
    text = PROJECT.format(consensus=consensus, aggregation=aggregation)
    return parse_project(text, "mixed.yaml")


def problems(consensus: str, aggregation: str = "majority") -> list[tuple[str, str, str]]:
    with pytest.raises(Invalid) as raised:
        parse(consensus, aggregation)
    assert raised.value.code == "E101"
    return [(d.path, d.reason, d.location or "") for d in raised.value.details]


def test_valid_settings_resolve_with_the_workflow_defaults() -> None:
    project = parse(
        "    quality: {method: median, tolerance: 0, threshold: 0.9}\n"
        "    order: {method: bradley_terry}\n"
        "    note: {method: omit}\n",
        aggregation="dawid_skene",
    )
    workflow = project.workflow  # type: ignore[attr-defined]
    stored = {name: entry.model_dump() for name, entry in workflow.consensus.items()}
    rules = field_rules(
        project.schema_,  # type: ignore[attr-defined]
        workflow.aggregation,
        workflow.agreement_threshold,
        settings_of(stored),
    )
    assert rules == {
        "sentiment": FieldRule("dawid_skene", 0.7),
        "tags": FieldRule("majority", 0.7),  # Dawid-Skene models single choices only
        "quality": FieldRule("median", 0.9, 0.0),
        "order": FieldRule("bradley_terry", 0.7),
        "note": FieldRule("omit", 0.7),
        "coherence": FieldRule("majority", 0.7),  # ... that are not per turn
    }


def test_each_problem_is_named_with_its_line() -> None:
    found = problems(
        "    sentimnt: {threshold: 0.8}\n"
        "    quality: {method: borda}\n"
        "    tags: {tolerance: 1}\n"
        "    note: {threshold: 0.5}\n"
        "    order: {method: dawid_skene}\n"
        "    coherence: {method: dawid_skene}\n"
    )
    assert found == [
        (
            "workflow.consensus.sentimnt",
            "no field 'sentimnt' in the schema; valid: sentiment, tags, quality, order, note, "
            "coherence",
            "mixed.yaml:16",
        ),
        (
            "workflow.consensus.quality.method",
            "method 'borda' does not fit the rating field 'quality'; valid: median",
            "mixed.yaml:17",
        ),
        (
            "workflow.consensus.tags.tolerance",
            "'tolerance' applies only to rating fields; 'tags' is labels",
            "mixed.yaml:18",
        ),
        (
            "workflow.consensus.note.threshold",
            "text fields are never compared (a reviewer decides, or 'omit' leaves them out); "
            "remove 'threshold'",
            "mixed.yaml:19",
        ),
        (
            "workflow.consensus.order.method",
            "method 'dawid_skene' does not fit the ranking field 'order'; valid: borda, "
            "bradley_terry",
            "mixed.yaml:20",
        ),
        (
            "workflow.consensus.coherence.method",
            "method 'dawid_skene' does not fit the label field 'coherence'; valid: majority, "
            "weighted (Dawid-Skene models single-choice fields that are not per turn)",
            "mixed.yaml:21",
        ),
    ]


@pytest.mark.parametrize(
    ("entry", "path", "reason"),
    [
        ("quality: {threshold: 1.5}", "quality.threshold", "less than or equal to 1"),
        ("quality: {threshold: -0.1}", "quality.threshold", "greater than or equal to 0"),
        ("quality: {tolerance: -1}", "quality.tolerance", "greater than or equal to 0"),
        ("quality: {tolerance: .inf}", "quality.tolerance", "is not finite"),
        ("quality: {tolerance: 4}", "quality.tolerance", "covers the whole scale"),
        ("quality: {mehtod: median}", "quality.mehtod", "unknown key"),
        ("quality: median", "quality", "valid dictionary"),
    ],
)
def test_bad_numbers_and_shapes(entry: str, path: str, reason: str) -> None:
    found = problems(f"    {entry}\n")
    assert len(found) == 1
    assert found[0][0] == f"workflow.consensus.{path}"
    assert reason in found[0][1]
    assert found[0][2] == "mixed.yaml:16"


def test_settings_of_a_stored_definition() -> None:
    stored = {"quality": {"method": "median", "threshold": None, "tolerance": 2.0}}
    assert settings_of(stored) == {"quality": FieldSetting("median", None, 2.0)}
    assert settings_of(None) == {}


README = (Path(__file__).resolve().parents[3] / "README.md").read_text()
SECTION = README.split("### Consensus per field kind", 1)[1].split("\n## ", 1)[0]


def test_readme_table_names_every_kind_with_its_methods() -> None:
    rows = [line for line in SECTION.splitlines() if line.startswith("| `")]
    documented = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        kind = cells[0].strip("`")
        documented[kind] = re.findall(r"`([a-z_]+)`", cells[1].split(":", 1)[-1])
    assert documented == {kind: list(methods) for kind, methods in KIND_METHODS.items()}


def test_readme_example_is_a_valid_workflow() -> None:
    example = SECTION.split("```yaml\n", 1)[1].split("```", 1)[0]
    text = (
        "name: example\nobjective: {use_case: other}\nschema:\n  fields:\n"
        "    - {name: entities, kind: spans, labels: [PER]}\n"
        "    - {name: helpfulness, kind: rating, min: 1, max: 5}\n"
        "    - {name: order, kind: ranking}\n"
        "    - {name: rationale, kind: text, required: false}\n"
        "guidelines: x\n" + example
    )
    workflow = parse_project(text, "example.yaml").workflow
    assert set(workflow.consensus) == {"entities", "helpfulness", "order", "rationale"}
