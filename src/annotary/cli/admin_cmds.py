"""users add, db upgrade."""

from __future__ import annotations

from typing import Annotated

import typer

from annotary.cli.common import DbOption, console, database_url
from annotary.services.database import open_database, upgrade_database
from annotary.services.users import NewUser, add_user

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(db_app, name="db")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="ANNOTARY_NEW_PASSWORD",
            help="Password (prompted if not given) [env: ANNOTARY_NEW_PASSWORD].",
        ),
    ],
    admin: Annotated[bool, typer.Option("--admin", help="Make a global admin.")] = False,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    skill: Annotated[
        list[str] | None, typer.Option("--skill", help="Skill or domain (repeatable).")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Language code (repeatable).")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Add to this project.")] = None,
    role: Annotated[
        str, typer.Option(help="Role in --project: annotator, reviewer, expert, manager.")
    ] = "annotator",
    db: DbOption = None,
) -> None:
    """Add a user; with --project also make them a member with --role."""
    database = open_database(database_url(db))
    try:
        add_user(
            database,
            NewUser(
                username=username,
                password=password,
                is_admin=admin,
                display_name=name,
                email=email,
                skills=tuple(skill or ()),
                languages=tuple(language or ()),
                project=project,
                role=role,
            ),
        )
    finally:
        database.dispose()
    where = f" as {role} of {project!r}" if project else ""
    console.print(f"added {'admin ' if admin else ''}user {username!r}{where}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database schema to the newest revision."""
    before, after = upgrade_database(database_url(db))
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database upgraded from {before or 'empty'} to {after}")
