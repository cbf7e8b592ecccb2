"""init, validate, project create / update / diff / rework."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from annotary.cli.common import DbOption, JsonOption, ProjectArg, console, database_url, print_json
from annotary.templates import TEMPLATE_NAMES

project_app = typer.Typer(help="Create and manage projects.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("validate")(validate)
    app.add_typer(project_app, name="project")


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write the project into.")],
    template: Annotated[
        str, typer.Option("--template", "-t", help=f"One of: {', '.join(TEMPLATE_NAMES)}.")
    ] = "classification",
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write a complete, valid project (project.yaml, guidelines.md, sample.jsonl)."""
    from annotary.services.scaffold import init_project

    for path in init_project(directory, template, force):
        console.print(f"wrote {path}")
    console.print(
        f"next: annotary project create {directory / 'project.yaml'} && "
        f"annotary import <project> {directory / 'sample.jsonl'}"
    )


def validate(
    file: Annotated[Path, typer.Argument(help="The project YAML file.")],
) -> None:
    """Check a project file; print every error with its line and exit non-zero."""
    from annotary.core.project import load_project_file

    definition = load_project_file(file)
    fields = ", ".join(f"{f.name} ({f.kind})" for f in definition.schema_.fields)
    console.print(f"{file}: valid project {definition.name!r}; fields: {fields}")


@project_app.command("create")
def project_create(
    file: Annotated[Path, typer.Argument(help="The project YAML file.")],
    db: DbOption = None,
) -> None:
    """Create a project in the database from its YAML definition."""
    from annotary.core.project import load_project_file
    from annotary.services.database import open_database
    from annotary.services.projects import create_project

    definition = load_project_file(file)
    database = open_database(database_url(db))
    try:
        project = create_project(database, definition)
    finally:
        database.dispose()
    console.print(
        f"created project {project.name!r} (schema v{project.schema.version}, "
        f"guidelines v{project.guideline_version})"
    )


@project_app.command("update")
def project_update(
    file: Annotated[Path, typer.Argument(help="The project YAML file (its name says which).")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Apply even if stored values would no longer validate.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Update a project from its file: new schema and/or guideline versions when they
    changed, new settings; lists the stored values the change would invalidate first."""
    from annotary.cli.version_render import print_plan
    from annotary.core.project import load_project_file
    from annotary.services.database import open_database
    from annotary.services.project_versions import invalidation_error, plan_update, update_project

    definition = load_project_file(file)
    database = open_database(database_url(db))
    try:
        plan = plan_update(database, definition)
        if json and (dry_run or not plan.changed):
            print_json(plan.to_dict())
            return
        if not json:
            print_plan(plan)
        if dry_run or not plan.changed:
            return
        confirmed = yes
        if plan.invalidates and not yes:
            if json or not sys.stdin.isatty():
                raise invalidation_error(plan)
            confirmed = typer.confirm(f"apply anyway ({plan.summary()} no longer validate)?")
            if not confirmed:
                raise typer.Exit(1)
        done = update_project(database, definition, confirm=confirmed)
    finally:
        database.dispose()
    if json:
        print_json(done.to_dict())
        return
    after = done.diff.after
    console.print(
        f"updated project {done.project!r} to revision {done.revision} "
        f"(schema v{after.schema_version}, guidelines v{after.guideline_version})"
    )


@project_app.command("diff")
def project_diff(
    project: ProjectArg,
    from_revision: Annotated[
        int | None,
        typer.Option("--from", help="Revision to compare from (default: the one before --to)."),
    ] = None,
    to_revision: Annotated[
        int | None, typer.Option("--to", help="Revision to compare to (default: the latest).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Compare the stored project with this file instead."),
    ] = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """What changed between two revisions of a project (schema field by field,
    guidelines as a text diff, settings), or what updating it to a file would do."""
    from annotary.cli.version_render import print_diff, print_plan
    from annotary.core.project import load_project_file
    from annotary.services.database import open_database
    from annotary.services.project_revisions import diff_revisions
    from annotary.services.project_versions import plan_update

    definition = load_project_file(file) if file is not None else None
    database = open_database(database_url(db))
    try:
        if definition is not None:
            plan = plan_update(database, definition, name=project)
            if json:
                print_json(plan.to_dict())
            else:
                print_plan(plan)
            return
        diff = diff_revisions(database, project, before=from_revision, after=to_revision)
    finally:
        database.dispose()
    if json:
        print_json(diff.to_dict())
    else:
        print_diff(diff)


@project_app.command("rework")
def project_rework(
    project: ProjectArg,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="Redo this field (repeatable), also for annotations made under an older "
            "guideline version only. Default: every field that changed.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be sent.")
    ] = False,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Close the open rework: items go back as they were.")
    ] = False,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Send items annotated under an older schema (or guideline) version back to
    their annotators, for the changed fields only."""
    from annotary.cli.version_render import print_rework
    from annotary.services.database import open_database
    from annotary.services.rework import cancel_rework, requeue_for_rework

    database = open_database(database_url(db))
    try:
        if cancel:
            items = cancel_rework(database, project)
            if json:
                print_json({"project": project, "cancelled_items": items})
            else:
                console.print(f"{items} item(s) of {project!r} taken out of rework")
            return
        plan = requeue_for_rework(database, project, fields=field, dry_run=dry_run)
    finally:
        database.dispose()
    if json:
        print_json(plan.to_dict())
    else:
        print_rework(plan)
