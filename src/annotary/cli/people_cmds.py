"""People on the local database: users deactivate / reactivate / password / update,
members remove / pool. Their `remote` twins are in `remote_people_cmds`.

Services are imported when a command runs, so other commands start without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from annotary.cli.admin_cmds import users_app
from annotary.cli.common import (
    DbOption,
    JsonOption,
    PasswordOption,
    ProjectArg,
    UsernameArg,
    add_once,
    console,
    database_url,
    print_json,
)

if TYPE_CHECKING:  # the database layer loads when a command runs
    from annotary.storage.db import Database

T = TypeVar("T")
members_app = typer.Typer(help="Project members: remove, pool summary.", no_args_is_help=True)

SkillsOption = Annotated[
    list[str] | None,
    typer.Option("--skill", help="Skill or domain; replaces the user's skills (repeatable)."),
]
LanguagesOption = Annotated[
    list[str] | None,
    typer.Option("--language", help="Language code; replaces the user's languages (repeatable)."),
]
ClearSkillsOption = Annotated[bool, typer.Option("--clear-skills", help="Remove every skill.")]
ClearLanguagesOption = Annotated[
    bool, typer.Option("--clear-languages", help="Remove every language.")
]
MemberArg = Annotated[str, typer.Argument(help="The member's login name.")]


def register(app: typer.Typer) -> None:
    add_once(members_app, "remove", members_remove)
    add_once(members_app, "pool", members_pool)
    app.add_typer(members_app, name="members")


def add_account_commands() -> None:
    """The account subcommands of `annotary users` (that group lives in `admin_cmds`,
    whose `register` calls this)."""
    add_once(users_app, "deactivate", users_deactivate)
    add_once(users_app, "reactivate", users_reactivate)
    add_once(users_app, "password", users_password)
    add_once(users_app, "update", users_update)


def on_database(db: str | None, work: Callable[[Database], T]) -> T:
    """Run `work` on the database of --db (or the environment), closing it after."""
    from annotary.services.database import open_database

    database = open_database(database_url(db))
    try:
        return work(database)
    finally:
        database.dispose()


def replacement(values: list[str] | None, clear: bool, option: str) -> list[str] | None:
    """The new list an update sets: the values given, [] with --clear-..., None: unchanged."""
    if values and clear:
        raise typer.BadParameter(f"give --{option} or --clear-{option}s, not both")
    return [] if clear else (list(values) if values else None)


def print_account_change(change: dict[str, Any], done: str) -> None:
    """One line for an account change (from the service or the API's JSON)."""
    parts = [
        f"{change[key]} {label}"
        for key, label in (
            ("sessions_ended", "session(s) ended"),
            ("tokens_revoked", "API token(s) revoked"),
            ("leases_released", "lease(s) released"),
        )
        if change.get(key)
    ]
    tail = f": {', '.join(parts)}" if parts else ""
    console.print(f"{done} {escape(repr(change['username']))}{tail}", highlight=False)


def print_user(user: dict[str, Any]) -> None:
    """A user's skills and languages after an update."""
    console.print(
        f"{escape(user['username'])}: skills {', '.join(user['skills']) or '(none)'}; "
        f"languages {', '.join(user['languages']) or '(none)'}",
        highlight=False,
        markup=False,
    )


def print_pool(pool: dict[str, Any]) -> None:
    """The pool summary as one table per project."""
    table = Table(
        title=f"{pool['project']}: {pool['members']} annotator(s); values given by fewer "
        f"than {pool['k_anonymity']} people withheld"
    )
    for column in ("attribute", "people per value", "withheld values", "not given"):
        table.add_column(column)
    for row in pool["attributes"]:
        counts = ", ".join(f"{value}: {n}" for value, n in row["counts"].items())
        table.add_row(
            row["attribute"],
            escape(counts) or "-",
            str(row["suppressed_values"]),
            str(row["undisclosed"]),
        )
    console.print(table)


def users_deactivate(username: UsernameArg, db: DbOption = None) -> None:
    """Deactivate a user: no more logins; sessions end, API tokens are revoked, live
    leases go back to the queue; annotations stay. Never the last active admin."""
    from annotary.services.identity.accounts import deactivate_user

    change = on_database(db, lambda d: deactivate_user(d, username))
    print_account_change(asdict(change), "deactivated")


def users_reactivate(username: UsernameArg, db: DbOption = None) -> None:
    """Let a deactivated user log in again (revoked tokens stay revoked)."""
    from annotary.services.identity.accounts import reactivate_user

    change = on_database(db, lambda d: reactivate_user(d, username))
    print_account_change(asdict(change), "reactivated")


def users_password(username: UsernameArg, password: PasswordOption, db: DbOption = None) -> None:
    """Set a user's password (prompted, or ANNOTARY_NEW_PASSWORD); their sessions end."""
    from annotary.services.identity.accounts import reset_password

    change = on_database(db, lambda d: reset_password(d, username, password))
    print_account_change(asdict(change), "new password for")


def users_update(
    username: UsernameArg,
    skill: SkillsOption = None,
    language: LanguagesOption = None,
    clear_skills: ClearSkillsOption = False,
    clear_languages: ClearLanguagesOption = False,
    db: DbOption = None,
) -> None:
    """Replace a user's skills and/or languages (what is not given stays)."""
    from annotary.services.identity.accounts import update_user

    skills = replacement(skill, clear_skills, "skill")
    languages = replacement(language, clear_languages, "language")
    user = on_database(db, lambda d: update_user(d, username, skills=skills, languages=languages))
    print_user(asdict(user))


def members_remove(project: ProjectArg, username: MemberArg, db: DbOption = None) -> None:
    """Take a user out of a project: their live leases go back to the queue; their
    annotations stay and keep counting."""
    from annotary.services.identity.members import remove_member

    removal = on_database(db, lambda d: remove_member(d, project, username))
    console.print(
        f"removed {removal.username!r} ({removal.role}) from {project!r}; "
        f"{removal.leases_released} lease(s) released",
        highlight=False,
        markup=False,
    )


def members_pool(
    project: ProjectArg,
    k_anonymity: Annotated[
        int, typer.Option(min=2, max=1000, help="Withhold values given by fewer people.")
    ] = 5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """How the project's annotators split on each self-reported attribute; small groups
    withheld, nobody's own answers shown."""
    from annotary.services.identity.attributes import pool_summary

    pool = asdict(on_database(db, lambda d: pool_summary(d, project, k=k_anonymity)))
    if as_json:
        print_json(pool)
    else:
        print_pool(pool)
