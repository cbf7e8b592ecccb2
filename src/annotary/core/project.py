"""The project definition (SPEC 1): one YAML file, validated with line numbers.

Sections: objective, schema, guidelines, workflow, privacy, export. Every model
forbids unknown keys so a typo (`overlapp: 3`) is an error, not a silent default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from annotary.core.consensus.settings import FieldSetting, setting_problems
from annotary.core.plugins.checks import VERSIONED_NAME
from annotary.core.schema.fields import MAX_VERSION, AnnotationSchema
from annotary.core.yamlfile import Path as DataPath
from annotary.core.yamlfile import dotted_path, line_of, load_yaml
from annotary.errors import (
    E_PROJECT_FILE_INVALID,
    E_PROJECT_FILE_UNREADABLE,
    FieldError,
    Invalid,
    quote,
)

if TYPE_CHECKING:
    from annotary.core.plugins.registry import Plugins

USE_CASES = (
    "chatbot",
    "summarization",
    "search",
    "domain_qa",
    "moderation",
    "classification",
    "extraction",
    "instruction_tuning",
    "preference_tuning",
    "conversation_quality",
    "other",
)
ROLES = ("annotator", "reviewer", "expert", "manager")
AGGREGATION_METHODS = ("majority", "weighted", "dawid_skene")
PII_ACTIONS = ("mask", "placeholder", "pseudonym")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class Section(BaseModel):
    """Base of every section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetMetric(Section):
    """A metric the fine-tuned model should reach, e.g. accuracy >= 0.9."""

    name: str
    target: float | None = None
    description: str | None = None


class Objective(Section):
    """What the model must learn, how success is measured, what must not happen."""

    use_case: Literal[USE_CASES]  # type: ignore[valid-type]
    description: str = ""
    target_metrics: list[TargetMetric] = Field(default_factory=list)
    risk_constraints: list[str] = Field(default_factory=list)

    @field_validator("target_metrics", mode="before")
    @classmethod
    def _names_to_metrics(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class Guidelines(Section):
    """Annotator guidelines: markdown inline (`text`) or in a file (`path`)."""

    version: int = Field(default=1, ge=1, le=MAX_VERSION)
    text: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Guidelines:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of 'text' (inline markdown) or 'path'")
        return self


class Qualification(Section):
    """Gate before real work: pass `min_items` qualification gold items at `pass_mark`."""

    min_items: int = Field(default=10, ge=1, le=100_000)
    pass_mark: float = Field(default=0.8, ge=0, le=1)


class RoutingRule(Section):
    """Route matching items to a tier and/or annotators with given skills.

    `metadata` matches item metadata key/values exactly; `flag` matches items
    flagged so (sensitive, unclear_guideline, needs_expert).
    """

    metadata: dict[str, Any] = Field(default_factory=dict)
    flag: str | None = None
    tier: Literal[ROLES] | None = None  # type: ignore[valid-type]
    skills: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_match_and_target(self) -> RoutingRule:
        if not self.metadata and self.flag is None:
            raise ValueError("a routing rule needs 'metadata' or 'flag' to match on")
        if self.tier is None and not self.skills:
            raise ValueError("a routing rule needs a 'tier' or 'skills' to route to")
        return self


def parse_duration(value: Any) -> int:
    """Seconds from `900`, `'900s'`, `'15m'`, `'2h'`, `'1d'`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 900, '15m' or '2h'")
    if isinstance(value, int):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{quote(value)} is not a duration; use e.g. 900, '15m' or '2h'")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


class FieldConsensus(Section):
    """How one field's annotations are combined and when they agree enough
    (`core.consensus`); what is left out follows the workflow's defaults."""

    method: str | None = None
    """The field kind's aggregator, e.g. `median`, `borda`, `omit`, or a plugin's
    (`annotary plugins` lists them)."""
    threshold: float | None = Field(default=None, ge=0, le=1)
    """Agreement at or above which the field counts as agreed."""
    tolerance: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Ratings only: scale steps from the median that still agree (default 1)."""


class Workflow(Section):
    """How items are served, checked and finalized (SPEC 4-5)."""

    overlap: int = Field(default=1, ge=1, le=50)
    gold_rate: float = Field(default=0.0, ge=0, le=0.5)
    qualification: Qualification | None = None
    agreement_threshold: float = Field(default=0.66, ge=0, le=1)
    """Default threshold of every compared field; 0.66 lets 2 of 3 (0.667) pass."""
    aggregation: Literal[AGGREGATION_METHODS] = "majority"  # type: ignore[valid-type]
    consensus: dict[str, FieldConsensus] = Field(default_factory=dict)
    """Per field: `method`, `threshold`, `tolerance` (checked against the schema)."""
    adjudication_tier: Literal["reviewer", "expert"] = "reviewer"
    routing: list[RoutingRule] = Field(default_factory=list)
    lease_timeout: int = Field(default=900, ge=1, le=30 * 86_400)
    min_gold_accuracy: float = Field(default=0.0, ge=0, le=1)
    min_gold_count: int = Field(default=10, ge=1, le=1_000_000)
    review_sampling_rate: float = Field(default=0.0, ge=0, le=1)
    confidentiality_terms: str | None = None

    @field_validator("lease_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


class PiiRule(Section):
    """Anonymize one PII entity type on ingest: mask, placeholder or consistent pseudonym."""

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    action: Literal[PII_ACTIONS] = "placeholder"  # type: ignore[valid-type]


class Privacy(Section):
    """PII handling and retention."""

    anonymize: list[PiiRule] = Field(default_factory=list)
    retention_days: int | None = Field(default=None, ge=1, le=36_500)

    @field_validator("anonymize")
    @classmethod
    def _unique_entities(cls, value: list[PiiRule]) -> list[PiiRule]:
        seen: set[str] = set()
        for rule in value:
            if rule.entity in seen:
                raise ValueError(f"duplicate entity {quote(rule.entity)}")
            seen.add(rule.entity)
        return value


class Splits(Section):
    """Deterministic train/validation/test split shares."""

    train: float = Field(default=0.8, ge=0, le=1)
    validation: float = Field(default=0.1, ge=0, le=1)
    test: float = Field(default=0.1, ge=0, le=1)
    seed: int = 0

    @model_validator(mode="after")
    def _sum_to_one(self) -> Splits:
        if abs(self.train + self.validation + self.test - 1.0) > 1e-9:
            raise ValueError("train + validation + test must add up to 1")
        return self


class ExportFilters(Section):
    """Which finalized items an export takes by default."""

    min_agreement: float | None = Field(default=None, ge=0, le=1)
    exclude_flags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class Export(Section):
    """Default export formats (versioned registry names) and filters."""

    formats: list[str] = Field(default_factory=list)
    filters: ExportFilters = Field(default_factory=ExportFilters)
    splits: Splits = Field(default_factory=Splits)

    @field_validator("formats")
    @classmethod
    def _versioned(cls, value: list[str]) -> list[str]:
        for name in value:
            if not VERSIONED_NAME.match(name):
                raise ValueError(
                    f"format {quote(name)} is not a versioned name like 'sft.messages.v1'"
                )
        return value


class ProjectDefinition(Section):
    """A whole project file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    title: str | None = None
    item_kind: Literal["text", "prompt_responses", "conversation", "turn"] = "text"
    objective: Objective
    schema_: AnnotationSchema = Field(alias="schema")
    guidelines: Guidelines
    workflow: Workflow = Field(default_factory=Workflow)
    privacy: Privacy = Field(default_factory=Privacy)
    export: Export = Field(default_factory=Export)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("guidelines", mode="before")
    @classmethod
    def _inline_markdown(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consensus_fits_schema(self, info: ValidationInfo) -> ProjectDefinition:
        entries = {
            name: FieldSetting(entry.method, entry.threshold, entry.tolerance)
            for name, entry in self.workflow.consensus.items()
        }
        plugins = info.context.get("plugins") if isinstance(info.context, dict) else None
        problems = setting_problems(self.schema_, entries, plugins)
        if problems:
            listed = "; ".join(f"{'.'.join(path)}: {reason}" for path, reason in problems)
            raise PydanticCustomError(
                CONSENSUS_ERROR,
                "workflow.consensus: {listed}",
                {"listed": listed, "problems": [[list(p), r] for p, r in problems]},
            )
        return self


CONSENSUS_ERROR = "consensus_setting"
"""The pydantic error type of `workflow.consensus` problems; its context lists each one."""


def parse_project(
    text: str, filename: str, base_dir: Path | None = None, plugins: Plugins | None = None
) -> ProjectDefinition:
    """Validate project YAML text; raise `Invalid` listing every error with its line.

    A guidelines `path` is resolved against `base_dir` and its text inlined, so
    the returned definition is self-contained. Consensus methods are checked
    against `plugins` (None: the default plugins).
    """
    data, lines = load_yaml(text, filename)
    if not isinstance(data, dict):
        raise Invalid(
            E_PROJECT_FILE_INVALID,
            f"{filename} must be a mapping of sections",
            [FieldError("", "expected keys like name, objective, schema", f"{filename}:1")],
        )
    try:
        project = ProjectDefinition.model_validate(data, context={"plugins": plugins})
    except ValidationError as exc:
        details = [d for err in exc.errors() for d in _field_errors(err, data, lines, filename)]
        raise Invalid(
            E_PROJECT_FILE_INVALID, f"{filename} has {len(details)} error(s)", details
        ) from None
    if project.guidelines.path is not None:
        project = _inline_guidelines(project, base_dir, filename, lines)
    return project


def load_project_file(path: Path, plugins: Plugins | None = None) -> ProjectDefinition:
    """Read and validate a project YAML file (consensus methods against `plugins`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(E_PROJECT_FILE_UNREADABLE, f"cannot read project file {path}: {exc}") from exc
    return parse_project(text, str(path), path.parent, plugins)


def _inline_guidelines(
    project: ProjectDefinition, base_dir: Path | None, filename: str, lines: dict[DataPath, int]
) -> ProjectDefinition:
    assert project.guidelines.path is not None  # checked by the caller
    target = (base_dir or Path(".")) / project.guidelines.path
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        line = line_of(lines, ("guidelines", "path"))
        raise Invalid(
            E_PROJECT_FILE_INVALID,
            f"{filename}: guidelines file cannot be read",
            [FieldError("guidelines.path", f"cannot read {target}: {exc}", f"{filename}:{line}")],
        ) from exc
    guidelines = Guidelines(version=project.guidelines.version, text=text)
    return project.model_copy(update={"guidelines": guidelines})


def _field_errors(
    err: Any, data: Any, lines: dict[DataPath, int], filename: str
) -> list[FieldError]:
    """One error per problem: `workflow.consensus` problems each at their own line."""
    if err["type"] != CONSENSUS_ERROR:
        return [_field_error(err, data, lines, filename)]
    out = []
    for relative, reason in err["ctx"]["problems"]:
        path: DataPath = ("workflow", "consensus", *relative)
        line = line_of(lines, path)
        location = f"{filename}:{line}" if line is not None else filename
        out.append(FieldError(dotted_path(path), reason, location))
    return out


def _field_error(err: Any, data: Any, lines: dict[DataPath, int], filename: str) -> FieldError:
    """Map a pydantic error to our path (union tags dropped) and the YAML line."""
    path: list[str | int] = []
    node = data
    after_index = False
    for part in err["loc"]:
        tag = after_index and isinstance(node, dict) and part == node.get("kind")
        after_index = isinstance(part, int)
        if tag:
            continue  # the discriminator tag pydantic puts in the path of a union member
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_validator_name(part):
            path.append(part)  # a missing key: point at its would-be place
            node = None
    reason = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        reason = "unknown key (check the spelling; see the config reference)"
    line = line_of(lines, tuple(path))
    location = f"{filename}:{line}" if line is not None else filename
    return FieldError(dotted_path(tuple(path)), reason, location)


def _is_validator_name(part: str) -> bool:
    """Pydantic puts names like `function-after[...]` in some error paths."""
    return "[" in part or part.startswith("function-")


@dataclass(frozen=True)
class ProjectRef:
    """What callers need to know about a stored project."""

    id: int
    name: str
    item_kind: str
    schema: AnnotationSchema
    guideline_version: int
    definition: dict[str, Any]
    """Project settings (objective, workflow, privacy, export) as stored."""
