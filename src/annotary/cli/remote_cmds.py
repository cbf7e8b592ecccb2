"""remote ...: the same jobs against a running server, through the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from annotary.cli.common import (
    AdminOption,
    DecomposeOption,
    DisplayNameOption,
    EmailOption,
    FormatOption,
    IdColumnOption,
    ImportFileArg,
    JsonOption,
    KindOption,
    LanguageOption,
    MapOption,
    MemberProjectOption,
    MetaOption,
    OnError,
    OnErrorOption,
    PasswordOption,
    ProjectArg,
    RoleOption,
    SkillOption,
    UsernameArg,
    console,
    print_import_report,
    print_json,
)
from annotary.errors import (
    E_REQUEST_INVALID,
    E_UNAUTHENTICATED,
    FieldError,
    Invalid,
    Unauthenticated,
)

if TYPE_CHECKING:
    from annotary.client import AnnotaryClient

remote_app = typer.Typer(
    help="Work with a running annotary server (REST API) instead of a local database.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    # The people and calibration commands of `remote` live in their own modules.
    from annotary.cli import calibration_cmds, remote_people_cmds

    remote_people_cmds.add_remote_commands()
    calibration_cmds.add_remote_commands()
    app.add_typer(remote_app, name="remote")


@remote_app.callback()
def connection(
    ctx: typer.Context,
    server: Annotated[
        str,
        typer.Option(envvar="ANNOTARY_SERVER", help="Server URL [env: ANNOTARY_SERVER]."),
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ANNOTARY_TOKEN",
            help="Personal API token [env: ANNOTARY_TOKEN].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Server and token for every `remote` command."""
    ctx.obj = (server, token)


@contextmanager
def _client(ctx: typer.Context) -> Iterator[AnnotaryClient]:
    # httpx loads only for the command that talks to the server.
    from annotary.client import AnnotaryClient

    server, token = ctx.obj
    if not token:
        raise Unauthenticated(
            E_UNAUTHENTICATED,
            "no API token: pass --token or set ANNOTARY_TOKEN (create one with "
            "POST /api/v1/me/tokens, or use a token printed by `annotary serve --demo`)",
        )
    with AnnotaryClient(server, token) as client:
        yield client


@remote_app.command("projects")
def projects(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the projects you belong to (admins: all)."""
    from rich.table import Table

    with _client(ctx) as client:
        rows = client.projects()
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} project(s)")
    for column in ("name", "title", "item kind", "your role"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["title"] or "", row["item_kind"], row["role"] or "admin")
    console.print(table)


@remote_app.command("status")
def status(
    ctx: typer.Context,
    project: ProjectArg,
    as_json: JsonOption = False,
) -> None:
    """Show a project's items by status and kind."""
    from rich.table import Table

    with _client(ctx) as client:
        result = client.status(project)
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{result['project']}: {result['total_items']} items")
    table.add_column("status")
    table.add_column("kind")
    table.add_column("items", justify="right")
    for row in result["items"]:
        table.add_row(row["status"], row["kind"], str(row["count"]))
    console.print(table)
    console.print(
        f"gold items {result['gold_items']}, pre-labels {result['prelabels']}, "
        f"annotations {result['annotations']}, imports {result['imports']}"
    )


@remote_app.command("import")
def import_file(
    ctx: typer.Context,
    project: ProjectArg,
    file: ImportFileArg,
    file_format: FormatOption = None,
    kind: KindOption = None,
    mapping: MapOption = None,
    meta: MetaOption = None,
    id_column: IdColumnOption = "id",
    decompose_turns: DecomposeOption = False,
    on_error: OnErrorOption = OnError.abort,
    as_json: JsonOption = False,
) -> None:
    """Upload a file to the server and import it (managers and admins)."""
    with _client(ctx) as client:
        report = client.import_file(
            project,
            file,
            file_format=file_format.value if file_format else None,
            kind=kind.value if kind else None,
            mapping=mapping or (),
            meta=meta or (),
            id_column=id_column,
            decompose_turns=decompose_turns,
            on_error=on_error.value,
        )
    if as_json:
        print_json(report)
        return
    print_import_report(report)


@remote_app.command("users")
def users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List users and their project roles (global admins)."""
    from rich.table import Table

    with _client(ctx) as client:
        rows = client.users()
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} user(s)")
    for column in ("user", "name", "admin", "active", "projects"):
        table.add_column(column)
    for row in rows:
        roles = ", ".join(f"{m['project']} ({m['role']})" for m in row["memberships"])
        table.add_row(
            row["username"],
            row["display_name"] or "",
            "yes" if row["is_admin"] else "",
            "yes" if row["is_active"] else "no",
            roles,
        )
    console.print(table)


@remote_app.command("users-add")
def users_add(
    ctx: typer.Context,
    username: UsernameArg,
    password: PasswordOption,
    admin: AdminOption = False,
    name: DisplayNameOption = None,
    email: EmailOption = None,
    skill: SkillOption = None,
    language: LanguageOption = None,
    project: MemberProjectOption = None,
    role: RoleOption = "annotator",
) -> None:
    """Add a user on the server (global admins)."""
    with _client(ctx) as client:
        client.add_user(
            username,
            password,
            admin=admin,
            display_name=name,
            email=email,
            skills=skill or (),
            languages=language or (),
            project=project,
            role=role,
        )
    where = f" as {role} of {project!r}" if project else ""
    console.print(f"added {'admin ' if admin else ''}user {username!r}{where}")


@remote_app.command("next")
def next_task(ctx: typer.Context, project: ProjectArg) -> None:
    """Take your next task in a project and print it as JSON (nothing to do: `null`)."""
    with _client(ctx) as client:
        print_json(client.next_task(project))


@remote_app.command("submit")
def submit(
    ctx: typer.Context,
    lease_id: Annotated[int, typer.Argument(help="The task's lease id (from `next`).")],
    annotation: Annotated[
        str, typer.Option(help='The annotation as JSON, e.g. \'{"sentiment": "positive"}\'.')
    ],
    time_ms: Annotated[
        int | None, typer.Option("--time-ms", help="Time spent on the task, in ms.")
    ] = None,
    flag: Annotated[
        list[str] | None,
        typer.Option("--flag", help="sensitive, unclear_guideline or needs_expert (repeatable)."),
    ] = None,
) -> None:
    """Submit the annotation for a task; prints the server's answer as JSON:
    `{"annotation_id": N}`."""
    payload = _json_object(annotation, "--annotation")
    with _client(ctx) as client:
        print_json(client.submit(lease_id, payload, time_ms, flag or ()))


@remote_app.command("skip")
def skip(
    ctx: typer.Context,
    lease_id: Annotated[int, typer.Argument(help="The task's lease id (from `next`).")],
    reason: Annotated[str, typer.Option(help="Why you pass on this item.")],
) -> None:
    """Pass on a task, saying why."""
    with _client(ctx) as client:
        answer = client.skip(lease_id, reason)
    if answer is None:
        console.print(f"skipped task {lease_id}")
    else:
        print_json(answer)


def _json_object(text: str, option: str) -> dict[str, Any]:
    import orjson

    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Invalid(
            E_REQUEST_INVALID, f"{option} is not JSON", [FieldError(option, str(exc))]
        ) from exc
    if not isinstance(value, dict):
        raise Invalid(
            E_REQUEST_INVALID,
            f"{option} must be a JSON object",
            [FieldError(option, 'expected an object like {"field": value}')],
        )
    return value
