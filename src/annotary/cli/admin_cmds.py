"""users add, db upgrade."""

from __future__ import annotations

import typer

from annotary.cli.common import (
    AdminOption,
    DbOption,
    DisplayNameOption,
    EmailOption,
    LanguageOption,
    MemberProjectOption,
    PasswordOption,
    RoleOption,
    SkillOption,
    UsernameArg,
    console,
    database_url,
)

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    # The account commands of `users` (deactivate, password, ...) live in people_cmds.
    from annotary.cli import people_cmds

    people_cmds.add_account_commands()
    app.add_typer(users_app, name="users")
    app.add_typer(db_app, name="db")


@users_app.command("add")
def users_add(
    username: UsernameArg,
    password: PasswordOption,
    admin: AdminOption = False,
    name: DisplayNameOption = None,
    email: EmailOption = None,
    skill: SkillOption = None,
    language: LanguageOption = None,
    project: MemberProjectOption = None,
    role: RoleOption = "annotator",
    db: DbOption = None,
) -> None:
    """Add a user; with --project also make them a member with --role."""
    from annotary.services.database import open_database
    from annotary.services.identity.users import NewUser, add_user

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
    from annotary.services.database import upgrade_database

    before, after = upgrade_database(database_url(db))
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database upgraded from {before or 'empty'} to {after}")
