"""Plain-text rendering of project diffs and update plans (no wrapping, no markup:
diffs are read in terminals and in files alike)."""

from __future__ import annotations

import typer

from annotary.core.project_diff import ProjectDiff, UpdatePlan, VersionRef
from annotary.core.rework import ReworkPlan
from annotary.core.schema.diff import lines


def print_diff(diff: ProjectDiff) -> None:
    """The schema changes (breaking ones marked `!`), the guidelines diff, the settings."""
    typer.echo(f"{_side(diff.before)} -> {_side(diff.after)}")
    if not diff:
        typer.echo("no differences")
        return
    if diff.schema is not None:
        typer.echo(f"schema v{diff.before.schema_version} -> v{diff.after.schema_version}:")
        for line in lines(diff.schema.changes) or ["   (field order or formatting only)"]:
            typer.echo(f"  {line}")
    if diff.guidelines:
        typer.echo(
            f"guidelines v{diff.before.guideline_version} -> v{diff.after.guideline_version}:"
        )
        for line in diff.guidelines:
            typer.echo(f"  {line}")
    if diff.settings:
        typer.echo("settings:")
        for change in diff.settings:
            typer.echo(f"  {change}")


def print_plan(plan: UpdatePlan) -> None:
    """The diff an update would apply and the stored values it would invalidate."""
    print_diff(plan.diff)
    for warning in plan.warnings:
        typer.echo(f"warning: {warning}")
    if not plan.new_schema:
        return
    invalid = [t for t in plan.invalidated if t.invalid]
    if not invalid:
        checked = ", ".join(f"{t.checked} {t.record}s" for t in plan.invalidated)
        typer.echo(f"stored values checked against the new schema: all valid ({checked or 'none'})")
        return
    typer.echo("stored values that would no longer validate:")
    for tally in invalid:
        fields = ", ".join(f"{name}: {count}" for name, count in tally.by_field.items())
        typer.echo(f"  {tally.record}s: {tally.invalid} of {tally.checked} ({fields})")
        for example in tally.examples:
            typer.echo(f"    {example.to_field_error()}")
        if tally.invalid > len({e.record_id for e in tally.examples}):
            typer.echo("    ...")


def _side(ref: VersionRef) -> str:
    name = f"revision {ref.revision}" if ref.revision is not None else "after the update"
    return f"{name} (schema v{ref.schema_version}, guidelines v{ref.guideline_version})"


def print_rework(plan: ReworkPlan) -> None:
    """What a rework sends back (or would), per field and version, with examples."""
    target = f"schema v{plan.schema_version}, guidelines v{plan.guideline_version}"
    fields = ", ".join(f"{name} {count}" for name, count in plan.by_field.items())
    typer.echo(
        f"rework of {plan.project!r} under {target}: {plan.items} item(s), "
        f"{plan.annotations} annotation(s) to redo" + (f" (fields: {fields})" if fields else "")
    )
    for version, count in plan.by_version.items():
        typer.echo(f"  made under {version}: {count}")
    if plan.dropped:
        typer.echo(f"  {plan.dropped} annotation(s) not redone: their authors left the project")
    if plan.skipped:
        left = ", ".join(f"{reason} {count}" for reason, count in plan.skipped.items())
        typer.echo(f"  items left alone: {left}")
    for e in plan.examples:
        item = f"item {e.item_id}" + (f" ({e.external_id})" if e.external_id else "")
        typer.echo(
            f"  {item}: annotation {e.annotation_id} by {e.username} "
            f"(schema v{e.schema_version}): {', '.join(e.fields)}"
        )
    if plan.applied:
        typer.echo("re-queued: the items wait in status 'rework' for their annotators")
    else:
        typer.echo("dry run: nothing changed")
