"""init, validate, project create."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotary.cli.common import DbOption, console, database_url
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
