"""The shipped project templates: valid definitions, valid samples, valid gold answers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from importlib.resources import as_file
from pathlib import Path
from typing import Any

import pytest

from annotary.core.consensus import FieldRule, field_rules, settings_of, value_key
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import Voters
from annotary.core.items import content_hash, content_problems
from annotary.core.project import ProjectDefinition, load_project_file, parse_project
from annotary.core.schema.validation import validate_annotation
from annotary.errors import E_TEMPLATE_UNKNOWN, Invalid
from annotary.templates import TEMPLATE_NAMES, template_dir, template_files

CONTENT_KEYS = {
    "text": ("text",),
    "prompt_responses": ("prompt", "responses"),
    "conversation": ("turns",),
}
ROW_KEYS = {"id", "metadata", "gold", "gold_reason", "prelabels"}

per_template = pytest.mark.parametrize("name", TEMPLATE_NAMES)


@pytest.fixture
def folder(name: str) -> Iterator[Path]:
    """The template folder as a real directory (extracted if the package is zipped)."""
    with as_file(template_dir(name)) as path:
        yield path


@pytest.fixture
def project(name: str, folder: Path) -> ProjectDefinition:
    text = template_files(name)["project.yaml"]
    return parse_project(text, f"{name}/project.yaml", base_dir=folder)


@pytest.fixture
def rows(name: str) -> list[dict[str, Any]]:
    lines = template_files(name)["sample.jsonl"].splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def content_of(row: dict[str, Any], kind: str) -> dict[str, Any]:
    return {key: row[key] for key in CONTENT_KEYS[kind] if key in row}


def annotations_of(row: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if "gold" in row:
        yield "gold", row["gold"]
    for index, prelabel in enumerate(row.get("prelabels", [])):
        yield f"prelabels[{index}]", prelabel["annotation"]


@per_template
def test_template_files_are_the_three_files(name: str) -> None:
    assert set(template_files(name)) == {"project.yaml", "guidelines.md", "sample.jsonl"}


@per_template
def test_project_yaml_is_a_complete_definition(
    name: str, project: ProjectDefinition, folder: Path
) -> None:
    assert project.name == f"{name}-demo"
    assert project.title
    assert project.objective.description
    assert all(m.target is not None for m in project.objective.target_metrics)
    assert project.objective.target_metrics
    assert project.objective.risk_constraints
    # The guidelines file is inlined, with its version.
    assert project.guidelines.path is None
    assert project.guidelines.text == (folder / "guidelines.md").read_text(encoding="utf-8")
    assert project.guidelines.version == 1
    workflow = project.workflow
    assert workflow.overlap == 3
    assert 0.05 <= workflow.gold_rate <= 0.1
    assert workflow.qualification is not None
    assert workflow.routing
    assert workflow.min_gold_accuracy == pytest.approx(0.7)
    assert workflow.review_sampling_rate > 0
    assert project.privacy.anonymize
    assert project.privacy.retention_days is not None
    assert project.export.formats
    assert "card.markdown.v1" in project.export.formats


@per_template
def test_project_file_loads_from_disk(name: str, folder: Path) -> None:
    project = load_project_file(folder / "project.yaml")
    assert project.name == f"{name}-demo"
    assert project.guidelines.text is not None


@per_template
def test_guidelines_have_a_readable_length(name: str) -> None:
    lines = template_files(name)["guidelines.md"].splitlines()
    assert 60 <= len(lines) <= 150
    assert lines[0].startswith("# ")


@per_template
def test_sample_rows_are_valid_items(
    rows: list[dict[str, Any]], project: ProjectDefinition
) -> None:
    kind = project.item_kind
    assert 40 <= len(rows) <= 80
    ids = [row.get("id") for row in rows]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids), "ids must be unique"
    for row in rows:
        unknown = set(row) - ROW_KEYS - set(CONTENT_KEYS[kind])
        assert not unknown, f"{row['id']}: unknown keys {unknown}"
        assert content_problems(kind, content_of(row, kind)) == [], row["id"]
        assert set(row["metadata"]) >= {"source", "language", "domain"}, row["id"]
        assert row["metadata"]["language"] == "en"


@per_template
def test_samples_include_exact_duplicates(
    rows: list[dict[str, Any]], project: ProjectDefinition
) -> None:
    kind = project.item_kind
    hashes = Counter(content_hash(kind, content_of(row, kind)) for row in rows)
    assert any(count > 1 for count in hashes.values())


@per_template
def test_gold_and_prelabels_are_valid_annotations(
    rows: list[dict[str, Any]], project: ProjectDefinition
) -> None:
    kind = project.item_kind
    problems = []
    for row in rows:
        content = content_of(row, kind)
        for where, annotation in annotations_of(row):
            errors = validate_annotation(project.schema_, annotation, content)
            problems.extend(f"{row['id']} {where}: {error}" for error in errors)
    assert problems == []


@per_template
def test_samples_have_enough_gold(rows: list[dict[str, Any]]) -> None:
    gold_rows = [row for row in rows if "gold" in row]
    assert len(gold_rows) >= 5
    assert all(isinstance(row.get("gold_reason"), str) and row["gold_reason"] for row in gold_rows)


@per_template
def test_prelabels_name_a_model_and_a_confidence(rows: list[dict[str, Any]]) -> None:
    prelabelled = [row for row in rows if "prelabels" in row]
    assert len(prelabelled) >= 5
    for row in prelabelled:
        for prelabel in row["prelabels"]:
            assert set(prelabel) == {"model", "annotation", "confidence"}
            assert isinstance(prelabel["model"], str)
            assert prelabel["model"].startswith("prelabel.")
            assert 0.0 <= prelabel["confidence"] <= 1.0


@per_template
def test_item_shapes_fit_the_template(
    name: str, rows: list[dict[str, Any]], project: ProjectDefinition
) -> None:
    for row in rows:
        if name == "sft":
            assert len(row["responses"]) == 1, row["id"]
        elif name == "preference":
            assert len(row["responses"]) == 2, row["id"]
        elif name == "conversation":
            roles = [turn["role"] for turn in row["turns"]]
            expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(roles))]
            assert roles == expected, row["id"]
            assert "assistant" in roles, row["id"]


def test_template_names_are_the_six_objectives_in_order() -> None:
    assert TEMPLATE_NAMES == (
        "classification",
        "ner",
        "safety",
        "sft",
        "preference",
        "conversation",
    )


@pytest.mark.parametrize("name", ["", "sentiment", "Classification", "ner-demo", "../ner"])
def test_unknown_template_name_is_invalid(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        template_dir(name)
    assert caught.value.code == E_TEMPLATE_UNKNOWN == "E103"
    assert all(valid in caught.value.message for valid in TEMPLATE_NAMES)
    with pytest.raises(Invalid):
        template_files(name)


def template_rules(project: ProjectDefinition) -> dict[str, FieldRule]:
    workflow = project.workflow
    stored = {name: entry.model_dump() for name, entry in workflow.consensus.items()}
    return field_rules(
        project.schema_, workflow.aggregation, workflow.agreement_threshold, settings_of(stored)
    )


@per_template
def test_three_copies_of_each_gold_answer_are_their_own_consensus(
    name: str, rows: list[dict[str, Any]], project: ProjectDefinition
) -> None:
    """What the templates' comments promise, on their own gold answers: unanimous
    answers finalize with themselves, except free text awaiting a reviewer."""
    schema, rules = project.schema_, template_rules(project)
    for row in (r for r in rows if "gold" in r):
        gold = row["gold"]
        result = item_consensus(schema, rules, [gold] * 3, Voters((1, 2, 3)))
        waits = any(
            rules[f.name].method == "adjudicate" and isinstance(gold.get(f.name), str)
            for f in schema.fields
        )
        assert result.agreed is not waits, (row["id"], result.problems)
        assert all(f.agreement == 1.0 for f in result.fields.values() if f.agreement is not None), (
            row["id"]
        )
        kept = {k for k in gold if rules[k].method != "omit"}
        assert set(result.payload) == kept, row["id"]
        for key in kept:
            spec = schema.field(key)
            assert value_key(spec, result.payload[key]) == value_key(spec, gold[key]), row["id"]


@per_template
def test_the_project_vote_applies_to_a_field(project: ProjectDefinition) -> None:
    """`aggregation: dawid_skene` or `weighted` in a template must change something."""
    rules = template_rules(project)
    if project.workflow.aggregation != "majority":
        assert project.workflow.aggregation in {r.method for r in rules.values()}
    for spec in project.schema_.fields:
        if rules[spec.name].method == "omit":
            assert spec.kind == "text" and not spec.required
