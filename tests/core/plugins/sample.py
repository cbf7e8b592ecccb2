"""Third-party plugins for the tests, written as a plugin author would write them.

`MaxRating` adds a consensus method for ratings that the built-ins do not have
(the highest rating wins); `Components` adds one pre-labeler, export format and
PII recognizer. `install` writes a package with an entry point into a folder,
as `pip install` would, for the tests that find plugins through entry points.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from annotary.core.anonymize import PiiFinding, RecognizerSpec
from annotary.core.consensus import AggregatorSpec
from annotary.core.consensus.aggregator import GOLD_WEIGHTS
from annotary.core.consensus.outcome import UnitResult, Voters
from annotary.core.consensus.settings import FieldRule
from annotary.core.export import ExporterSpec, ExportRecord, ExportSetup
from annotary.core.ingest.prelabels import PrelabelRow
from annotary.core.prelabel import PrelabelerSpec, PrelabelSetup
from annotary.core.schema.fields import AnyField
from annotary.hookspecs import hookimpl

MAX_RATING = "acme.max_rating.v1"


def max_rating(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """The highest rating given; agreement = share of annotations that gave it."""
    results = []
    for unit in units:
        given = [v for v in unit if isinstance(v, int | float)]
        if not given:
            results.append(UnitResult(None, 0.0, 0.0))
            continue
        top = max(given)
        share = sum(v == top for v in given) / len(unit)
        results.append(UnitResult(top, share, share))
    return results


class MaxRating:
    """A plugin object: its hook is a method, as pluggy allows."""

    @hookimpl
    def register_aggregators(self) -> list[AggregatorSpec]:
        return [
            AggregatorSpec(
                MAX_RATING,
                frozenset({"rating"}),
                "share_at_max",
                max_rating,
                description="the highest rating given",
            )
        ]


class WeightSpy:
    """A method that records the weights it was given (`uses` them, or not)."""

    seen: list[tuple[float, ...] | None]

    def __init__(self, uses_weights: bool = True) -> None:
        self.seen = []
        self.uses = frozenset({GOLD_WEIGHTS}) if uses_weights else frozenset()

    def combine(
        self, spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
    ) -> list[UnitResult]:
        self.seen.append(voters.weights)
        return max_rating(spec, rule, units, voters)

    @hookimpl
    def register_aggregators(self) -> list[AggregatorSpec]:
        return [
            AggregatorSpec(
                "acme.weighed.v1",
                frozenset({"rating"}),
                "share_at_max",
                self.combine,
                uses=self.uses,
            )
        ]


class Failing:
    """A method that raises when it combines."""

    @hookimpl
    def register_aggregators(self) -> AggregatorSpec:
        def combine(*_: Any) -> list[UnitResult]:
            raise ZeroDivisionError("the plugin divided by zero")

        return AggregatorSpec("acme.failing.v1", frozenset({"rating"}), "share", combine)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


class EmailRecognizer:
    def find(self, text: str, language: str | None = None) -> list[PiiFinding]:
        return [PiiFinding(m.start(), m.end(), "EMAIL_ADDRESS", 0.95) for m in EMAIL.finditer(text)]


class KeywordPrelabeler:
    """Suggests `positive` for texts containing a keyword from its options."""

    def __init__(self, setup: PrelabelSetup) -> None:
        self.field = setup.schema.fields[0].name
        self.keyword = str(setup.options.get("keyword", "good"))
        self.model = f"acme.keyword.v1:{self.keyword}"

    def predict(self, contents: Sequence[Mapping[str, Any]]) -> list[PrelabelRow | None]:
        return [
            PrelabelRow(self.model, {self.field: "positive"}, 0.7)
            if self.keyword in str(c.get("text", ""))
            else None
            for c in contents
        ]


def write_labels(
    setup: ExportSetup, records: Iterable[ExportRecord], directory: Path
) -> list[Path]:
    """One JSONL file per split: the text and its final label."""
    files: dict[str, list[str]] = {}
    for record in records:
        row = {"text": record.content.get("text"), **record.label}
        files.setdefault(record.split, []).append(json.dumps(row))
    written = []
    for split, rows in files.items():
        path = directory / f"{split}.jsonl"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        written.append(path)
    return written


class Components:
    """One pre-labeler, export format and PII recognizer."""

    @hookimpl
    def register_prelabelers(self) -> list[PrelabelerSpec]:
        return [PrelabelerSpec("acme.keyword.v1", frozenset({"label"}), KeywordPrelabeler)]

    @hookimpl
    def register_exporters(self) -> list[ExporterSpec]:
        return [ExporterSpec("acme.labels.v1", write_labels, item_kinds=frozenset({"text"}))]

    @hookimpl
    def register_pii_recognizers(self) -> list[RecognizerSpec]:
        return [
            RecognizerSpec(
                "acme.email.v1", frozenset({"EMAIL_ADDRESS"}), lambda _options: EmailRecognizer()
            )
        ]


def install(folder: Path, package: str, source: str, value: str | None = None) -> Path:
    """Write the module `package` and its distribution metadata with an entry point
    `package = value` (default: the module) in the group `annotary` into `folder`
    (put `folder` on `sys.path` to install it)."""
    (folder / f"{package}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{package}-1.0.dist-info"  # the folder's name keeps the underscores
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\nVersion: 1.0\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(
        f"[annotary]\n{package} = {value or package}\n", encoding="utf-8"
    )
    return folder


MAX_RATING_PACKAGE = """\
    from annotary.hookspecs import hookimpl
    from annotary.core.consensus import AggregatorSpec
    from tests.core.plugins.sample import max_rating


    @hookimpl
    def register_aggregators():
        return [AggregatorSpec("acme.max_rating.v1", frozenset({"rating"}), "share_at_max",
                               max_rating)]
"""
"""An installable module registering `acme.max_rating.v1` (what `MaxRating` registers)."""

COMPONENTS_PACKAGE = """\
    from tests.core.plugins.sample import Components

    plugin = Components()
"""
"""An installable module whose entry point names an object (`module:plugin`)."""
