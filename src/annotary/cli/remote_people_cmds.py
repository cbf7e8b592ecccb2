"""remote ...: people on a running server: users-deactivate / -reactivate /
-password / -update (admins), members-remove and pool (managers), and one's own
password, attributes and statistics."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from annotary.cli.common import (
    JsonOption,
    PasswordOption,
    ProjectArg,
    UsernameArg,
    add_once,
    console,
    print_json,
)
from annotary.cli.people_cmds import (
    ClearLanguagesOption,
    ClearSkillsOption,
    LanguagesOption,
    MemberArg,
    SkillsOption,
    print_account_change,
    print_pool,
    print_user,
    replacement,
)
from annotary.cli.remote_cmds import _client, remote_app
from annotary.errors import E_REQUEST_INVALID, FieldError, Invalid


def add_remote_commands() -> None:
    """Add these commands to `annotary remote` (`remote_cmds.register` calls this)."""
    for name, command in (
        ("users-deactivate", users_deactivate),
        ("users-reactivate", users_reactivate),
        ("users-password", users_password),
        ("users-update", users_update),
        ("password", password),
        ("attributes", attributes),
        ("members-remove", members_remove),
        ("pool", pool),
        ("stats", stats),
    ):
        add_once(remote_app, name, command)


def users_deactivate(ctx: typer.Context, username: UsernameArg) -> None:
    """Deactivate a user on the server (global admins)."""
    with _client(ctx) as client:
        print_account_change(client.deactivate_user(username), "deactivated")


def users_reactivate(ctx: typer.Context, username: UsernameArg) -> None:
    """Let a deactivated user log in again (global admins)."""
    with _client(ctx) as client:
        print_account_change(client.reactivate_user(username), "reactivated")


def users_password(ctx: typer.Context, username: UsernameArg, password: PasswordOption) -> None:
    """Set a user's password (global admins); their browser sessions end."""
    with _client(ctx) as client:
        print_account_change(client.reset_password(username, password), "new password for")


def users_update(
    ctx: typer.Context,
    username: UsernameArg,
    skill: SkillsOption = None,
    language: LanguagesOption = None,
    clear_skills: ClearSkillsOption = False,
    clear_languages: ClearLanguagesOption = False,
) -> None:
    """Replace a user's skills and/or languages (global admins)."""
    skills = replacement(skill, clear_skills, "skill")
    languages = replacement(language, clear_languages, "language")
    with _client(ctx) as client:
        print_user(client.update_user(username, skills=skills, languages=languages))


def password(
    ctx: typer.Context,
    old_password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            envvar="ANNOTARY_OLD_PASSWORD",
            help="Your current password (prompted if not given) [env: ANNOTARY_OLD_PASSWORD].",
        ),
    ],
    new_password: PasswordOption,
) -> None:
    """Change your own password; your browser sessions end."""
    with _client(ctx) as client:
        print_account_change(client.change_password(old_password, new_password), "new password for")


def attributes(
    ctx: typer.Context,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Give an attribute (repeatable); replaces every attribute you gave.",
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Delete every attribute you gave.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show, set or clear your optional self-reported attributes (nobody else sees them;
    managers see only counts per value over a project's annotators)."""
    if set_values and clear:
        raise typer.BadParameter("give --set or --clear, not both")
    with _client(ctx) as client:
        if clear:
            client.clear_attributes()
            answer = client.attributes()
        elif set_values:
            answer = client.set_attributes(_pairs(set_values))
        else:
            answer = client.attributes()
    if as_json:
        print_json(answer)
        return
    given = answer["attributes"]
    for key in answer["keys"]:
        console.print(f"{key}: {given.get(key, '(not given)')}", highlight=False, markup=False)


def _pairs(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for i, text in enumerate(values):
        key, sep, value = text.partition("=")
        if not sep:
            raise Invalid(
                E_REQUEST_INVALID,
                "--set takes KEY=VALUE",
                [FieldError(f"--set[{i}]", f"{text[:40]!r} has no '='")],
            )
        pairs[key.strip()] = value
    return pairs


def members_remove(ctx: typer.Context, project: ProjectArg, username: MemberArg) -> None:
    """Take a user out of a project (managers and admins); annotations stay."""
    with _client(ctx) as client:
        removal = client.remove_member(project, username)
    console.print(
        f"removed {removal['username']!r} ({removal['role']}) from {project!r}; "
        f"{removal['leases_released']} lease(s) released",
        highlight=False,
        markup=False,
    )


def pool(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """The project's annotators by self-reported attribute, small groups withheld (managers)."""
    with _client(ctx) as client:
        summary = client.pool(project)
    if as_json:
        print_json(summary)
    else:
        print_pool(summary)


def stats(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """Your own gold accuracy, agreement with final labels and throughput in a project."""
    with _client(ctx) as client:
        figures = client.my_stats(project)
    if as_json:
        print_json(figures)
        return
    for line in stats_lines(figures):
        console.print(escape(line), highlight=False)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def stats_lines(figures: dict[str, Any]) -> list[str]:
    """One's own statistics as a few lines of text."""
    gold, agreement, work = figures["gold"], figures["agreement"], figures["throughput"]
    lines = [
        f"{figures['username']} in {figures['project']}",
        f"gold: {gold['correct']} of {gold['answered']} right ({_percent(gold['accuracy'])}, "
        f"95% CI {_percent(gold['ci_low'])} to {_percent(gold['ci_high'])}); "
        f"answers before {gold['counted_until']}",
        f"agreement with final labels ({agreement['items']} items):",
    ]
    lines += [
        f"  {f['field']}: {_percent(f['share'])} ({f['matching']} of {f['compared']})"
        for f in agreement["fields"]
    ] or ["  no annotated item has a final label yet"]
    per_day, per_hour = work["per_active_day"], work["per_active_hour"]
    median = work["median_seconds"]
    lines.append(
        f"throughput: {work['annotations']} annotations on {work['active_days']} day(s)"
        + (f" ({per_day:.1f} per day)" if per_day is not None else "")
        + f", {work['active_hours']:.2f} h active"
        + (f" ({per_hour:.1f} per hour)" if per_hour is not None else "")
        + (f", median {median:.1f} s per task" if median is not None else "")
    )
    return lines
