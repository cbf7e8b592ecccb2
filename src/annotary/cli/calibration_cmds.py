"""Calibration rounds: `calibration create / list / results` on the local database,
and `remote calibration-*` against a server (managers make rounds and read
results; participants take the items and read the feedback)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from annotary.cli.common import (
    DbOption,
    JsonOption,
    ProjectArg,
    add_once,
    console,
    print_json,
)
from annotary.cli.people_cmds import on_database
from annotary.cli.remote_cmds import _client, _json_object, remote_app
from annotary.errors import E_CALIBRATION_INVALID, E_IMPORT_FILE_UNREADABLE, Invalid

calibration_app = typer.Typer(
    help="Calibration rounds: a fixed set everyone annotates, compared with expert answers.",
    no_args_is_help=True,
)
RoundArg = Annotated[str, typer.Argument(help="Round name (lower case, digits, '.', '_', '-').")]
GoldOption = Annotated[
    list[str] | None,
    typer.Option("--gold", help="A gold item to copy, by external id or item id (repeatable)."),
]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help='JSONL of items: {"content": {...}, "answer": {...}, "reason": "..."} per line.',
    ),
]
ParticipantOption = Annotated[
    list[str] | None,
    typer.Option(
        "--participant",
        help="A member who takes part (repeatable); default: every annotator, reviewer, expert.",
    ),
]
ShuffleOption = Annotated[
    bool, typer.Option("--shuffle", help="Give each participant an order of their own.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(calibration_app, name="calibration")


def add_remote_commands() -> None:
    """Add the `remote calibration-*` commands (`remote_cmds.register` calls this)."""
    for name, command in (
        ("calibration-create", remote_create),
        ("calibration-list", remote_list),
        ("calibration-results", remote_results),
        ("calibration-next", remote_next),
        ("calibration-answer", remote_answer),
        ("calibration-feedback", remote_feedback),
    ):
        add_once(remote_app, name, command)


def read_items(file: Path | None) -> list[dict[str, Any]]:
    """The items of a calibration file (E821 lists each bad line)."""
    from annotary.core.calibration import parse_expert_items

    if file is None:
        return []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(E_IMPORT_FILE_UNREADABLE, f"cannot read {file}: {exc}") from exc
    items, problems = parse_expert_items(lines, file.name)
    if problems:
        raise Invalid(E_CALIBRATION_INVALID, f"{file} has bad lines", problems)
    return items


def print_round(info: dict[str, Any], verb: str = "made") -> None:
    console.print(
        f"{verb} calibration round {info['name']!r}: {info['items']} item(s), "
        f"{info['participants']} participant(s)"
        + (", each in their own order" if info["shuffle"] else ""),
        highlight=False,
        markup=False,
    )


def print_rounds(rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"{len(rows)} calibration round(s)")
    for column in ("round", "items", "participants", "answers", "yours", "order", "made"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row["name"]),
            str(row["items"]),
            str(row["participants"]),
            "" if row["answers"] is None else str(row["answers"]),
            "" if row["your_answers"] is None else f"{row['your_answers']}/{row['items']}",
            "shuffled" if row["shuffle"] else "fixed",
            str(row["created_at"])[:16],
        )
    console.print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_results(results: dict[str, Any]) -> None:
    people = Table(title=f"round {results['round']}: {results['items']} item(s), per participant")
    for column in ("participant", "answered", "all fields right", "per field"):
        people.add_column(column)
    for row in results["participants"]:
        fields = ", ".join(f"{k} {_share(v)}" for k, v in row["fields"].items())
        people.add_row(
            escape(row["username"]),
            f"{row['answered']}/{results['items']}",
            f"{row['correct']} ({_share(row['accuracy'])})",
            escape(fields),
        )
    console.print(people)
    items = Table(title="per item")
    for column in ("item", "gold item", "answered", "all fields right", "per field"):
        items.add_column(column)
    for row in results["per_item"]:
        fields = ", ".join(f"{k} {_share(v)}" for k, v in row["fields"].items())
        items.add_row(
            str(row["position"] + 1),
            "" if row["gold_item_id"] is None else str(row["gold_item_id"]),
            str(row["answered"]),
            f"{row['correct']} ({_share(row['accuracy'])})",
            escape(fields),
        )
    console.print(items)


def print_feedback(feedback: dict[str, Any]) -> None:
    verdict = {True: "right", False: "not quite", None: "nothing to compare"}[feedback["correct"]]
    console.print(
        f"item {feedback['number']} of {feedback['total']}: {verdict}; "
        f"{feedback['remaining']} to go",
        highlight=False,
        markup=False,
    )
    print_json(
        {
            "yours": feedback["answer"],
            "expert": feedback["expert_answer"],
            "matches": feedback["matches"],
        }
    )
    console.print(f"why: {feedback['reason']}", highlight=False, markup=False)


@calibration_app.command("create")
def create(
    project: ProjectArg,
    name: RoundArg,
    gold: GoldOption = None,
    file: FileOption = None,
    participant: ParticipantOption = None,
    shuffle: ShuffleOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a round from gold items (--gold) and/or a file of items with expert answers
    and reasons (--file); checked against the project's schema."""
    from annotary.services.identity.calibration import (
        NewCalibrationItem,
        NewRound,
        create_round,
    )

    new = NewRound(
        name=name,
        gold_items=tuple(gold or ()),
        items=tuple(
            NewCalibrationItem(i["content"], i["answer"], i["reason"]) for i in read_items(file)
        ),
        participants=tuple(participant or ()),
        shuffle=shuffle,
    )
    info = asdict(on_database(db, lambda d: create_round(d, project, new)))
    print_json(info) if as_json else print_round(info)


@calibration_app.command("list")
def list_rounds(project: ProjectArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The project's calibration rounds, newest first."""
    from annotary.services.identity.calibration import list_rounds as rounds

    rows = [asdict(r) for r in on_database(db, lambda d: rounds(d, project))]
    print_json(rows) if as_json else print_rounds(rows)


@calibration_app.command("results")
def results(
    project: ProjectArg, name: RoundArg, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A round's results per participant and per item."""
    from annotary.services.identity.calibration import round_results

    found = asdict(on_database(db, lambda d: round_results(d, project, name)))
    print_json(found) if as_json else print_results(found)


def remote_create(
    ctx: typer.Context,
    project: ProjectArg,
    name: RoundArg,
    gold: GoldOption = None,
    file: FileOption = None,
    participant: ParticipantOption = None,
    shuffle: ShuffleOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make a calibration round on the server (managers and admins)."""
    items = read_items(file)
    with _client(ctx) as client:
        info = client.create_calibration(
            project,
            name,
            gold_items=gold or (),
            items=items,
            participants=participant or (),
            shuffle=shuffle,
        )
    print_json(info) if as_json else print_round(info)


def remote_list(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """Calibration rounds (managers: all; others: the ones you take part in)."""
    with _client(ctx) as client:
        rows = client.calibration_rounds(project)
    print_json(rows) if as_json else print_rounds(rows)


def remote_results(
    ctx: typer.Context, project: ProjectArg, name: RoundArg, as_json: JsonOption = False
) -> None:
    """A round's results per participant and per item (managers and admins)."""
    with _client(ctx) as client:
        found = client.calibration_results(project, name)
    print_json(found) if as_json else print_results(found)


def remote_next(ctx: typer.Context, project: ProjectArg, name: RoundArg) -> None:
    """Your next item of a round, as JSON (`null` once you answered every one)."""
    with _client(ctx) as client:
        print_json(client.next_calibration_item(project, name))


def remote_answer(
    ctx: typer.Context,
    project: ProjectArg,
    name: RoundArg,
    item_id: Annotated[int, typer.Argument(help="The item's id (from calibration-next).")],
    annotation: Annotated[str, typer.Option(help="Your answer as JSON.")],
    time_ms: Annotated[
        int | None, typer.Option("--time-ms", help="Time spent on the item, in ms.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer your next item; prints the expert answer and the reason."""
    payload = _json_object(annotation, "--annotation")
    with _client(ctx) as client:
        feedback = client.answer_calibration_item(project, name, item_id, payload, time_ms)
    print_json(feedback) if as_json else print_feedback(feedback)


def remote_feedback(
    ctx: typer.Context, project: ProjectArg, name: RoundArg, as_json: JsonOption = False
) -> None:
    """Your answers in a round so far, with the expert answers and reasons."""
    with _client(ctx) as client:
        answers = client.calibration_feedback(project, name)
    if as_json:
        print_json(answers)
        return
    for feedback in answers:
        print_feedback(feedback)
