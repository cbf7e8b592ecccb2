"""What changed between two states of a project: schema (field by field),
guidelines (a unified text diff) and settings (title, objective, workflow,
privacy, export), and what an update would do to stored data.

>>> diff_settings({"workflow": {"overlap": 3, "gold_rate": 0.1}},
...               {"workflow": {"overlap": 2, "gold_rate": 0.1}})
[SettingChange(path='workflow.overlap', before=3, after=2)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotary.core.project import ProjectDefinition
from annotary.core.schema.diff import SchemaDiff
from annotary.core.schema.recheck import Tally


@dataclass(frozen=True)
class SettingChange:
    """One setting that differs: its dotted path and both values (None: absent)."""

    path: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.path}: {_short(self.before)} -> {_short(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the readable line as `text`."""
        return {"path": self.path, "before": self.before, "after": self.after, "text": str(self)}


def stored_settings(definition: ProjectDefinition) -> dict[str, Any]:
    """The settings a project stores beside its versioned schema and guidelines:
    item kind, objective, workflow, privacy, export (not the name or title)."""
    return definition.model_dump(
        mode="json", by_alias=True, exclude={"schema_", "guidelines", "name", "title"}
    )


def diff_settings(
    old: dict[str, Any], new: dict[str, Any], prefix: str = ""
) -> list[SettingChange]:
    """Every setting that differs, descending into mappings (lists compare whole).

    >>> diff_settings({"export": {"formats": ["a.v1"]}}, {"export": {}, "title": "T"})
    [SettingChange(path='export.formats', before=['a.v1'], after=None), \
SettingChange(path='title', before=None, after='T')]
    """
    changes: list[SettingChange] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(before, dict) and isinstance(after, dict):
            changes.extend(diff_settings(before, after, f"{path}."))
        elif before != after:
            changes.append(SettingChange(path, before, after))
    return changes


@dataclass(frozen=True)
class VersionRef:
    """One side of a diff: a project revision and the versions it holds."""

    revision: int | None
    """The stored revision; None for a project file not stored yet."""
    schema_version: int
    guideline_version: int


@dataclass
class ProjectDiff:
    """Everything that differs between two states of a project."""

    before: VersionRef
    after: VersionRef
    schema: SchemaDiff | None = None
    """None when the two schemas are the same."""
    guidelines: list[str] = field(default_factory=list)
    """Unified diff of the guidelines; empty when they are the same."""
    settings: list[SettingChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.schema or self.guidelines or self.settings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "before": _ref(self.before),
            "after": _ref(self.after),
            "schema": [c.to_dict() for c in self.schema.changes] if self.schema else [],
            "guidelines": self.guidelines,
            "settings": [c.to_dict() for c in self.settings],
        }


@dataclass
class UpdatePlan:
    """What `project update` would do: the diff, the versions it makes, and the
    stored values of each kind that would no longer validate."""

    project: str
    diff: ProjectDiff
    new_schema: bool
    new_guidelines: bool
    invalidated: list[Tally] = field(default_factory=list)
    revision: int | None = None
    """The revision the update made; None when it was not applied (or changed nothing)."""
    warnings: list[str] = field(default_factory=list)
    """Effects on stored items worth knowing before applying."""
    settled: int = 0
    """Queued items a lowered overlap completed, aggregated by the update."""

    @property
    def changed(self) -> bool:
        """Whether the update changes anything."""
        return bool(self.diff)

    @property
    def invalidates(self) -> bool:
        """Whether stored values would stop validating (the update needs a confirmation)."""
        return any(t.invalid for t in self.invalidated)

    def summary(self) -> str:
        """One line: the invalid values per kind, e.g. `3 of 120 annotations`.

        >>> plan = UpdatePlan("p", ProjectDiff(VersionRef(1, 1, 1), VersionRef(None, 2, 1)),
        ...                   True, False, [Tally("annotation", checked=120, invalid=3)])
        >>> plan.summary()
        '3 of 120 annotations'
        """
        parts = [f"{t.invalid} of {t.checked} {t.record}s" for t in self.invalidated if t.invalid]
        return ", ".join(parts) or "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "project": self.project,
            "changed": self.changed,
            "revision": self.revision,
            "new_schema_version": self.diff.after.schema_version if self.new_schema else None,
            "new_guideline_version": self.diff.after.guideline_version
            if self.new_guidelines
            else None,
            "diff": self.diff.to_dict(),
            "invalidates": self.invalidates,
            "invalidated": [t.to_dict() for t in self.invalidated],
            "warnings": self.warnings,
            "settled": self.settled,
        }


def _ref(ref: VersionRef) -> dict[str, Any]:
    return {
        "revision": ref.revision,
        "schema_version": ref.schema_version,
        "guideline_version": ref.guideline_version,
    }


def _short(value: Any, limit: int = 80) -> str:
    text = "none" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
