"""Quality assurance: agreement on any file of labels, and the QA report of a project.

The statistics pull in SciPy and friends (about a second to import), so each
command imports its service when it runs: every other `annotary` command
starts without paying for them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from annotary.cli.common import (
    DbOption,
    JsonOption,
    ProjectArg,
    console,
    database_url,
    print_json,
)


class MetricChoice(StrEnum):
    alpha = "alpha"
    fleiss = "fleiss"
    cohen = "cohen"
    scott = "scott"
    percent = "percent"


class LevelChoice(StrEnum):
    nominal = "nominal"
    ordinal = "ordinal"
    interval = "interval"
    ratio = "ratio"


class LayoutChoice(StrEnum):
    wide = "wide"
    long = "long"


class WeightsChoice(StrEnum):
    none = "none"
    linear = "linear"
    quadratic = "quadratic"


qa_app = typer.Typer(
    help="Quality reports of a project (agreement, gold, monitoring, bias).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command("agreement")(agreement)
    app.add_typer(qa_app, name="qa")


def _names(value: str | None) -> tuple[str, ...] | None:
    """`a,b,c` as ('a', 'b', 'c'); None when the option was not given."""
    return None if value is None else tuple(name.strip() for name in value.split(","))


def agreement(
    file: Annotated[Path, typer.Argument(help="CSV/TSV (wide or long) or JSONL (long) file.")],
    metric: Annotated[MetricChoice, typer.Option(help="The statistic.")],
    level: Annotated[
        LevelChoice | None,
        typer.Option(help="alpha only: level of measurement [default: nominal]."),
    ] = None,
    layout: Annotated[
        LayoutChoice | None,
        typer.Option(
            "--format",
            help="wide: units x coders; long: item,annotator,label rows "
            "[default: long for JSONL or a CSV with those columns, else wide].",
        ),
    ] = None,
    weights: Annotated[
        WeightsChoice | None,
        typer.Option(help="cohen only: disagreement weights by category position."),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Coders to use, e.g. a,b (cohen/scott/percent need exactly two)."),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            help="Category order for ordinal alpha / weighted cohen when labels are not "
            "numbers, e.g. low,medium,high."
        ),
    ] = None,
    item_col: Annotated[str | None, typer.Option(help="long: item column [item].")] = None,
    annotator_col: Annotated[
        str | None, typer.Option(help="long: annotator column [annotator].")
    ] = None,
    label_col: Annotated[str | None, typer.Option(help="long: label column [label].")] = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement between coders in any file of labels (no project or database needed)."""
    from annotary.services.qa.agreement_file import AgreementRequest, file_agreement

    request = AgreementRequest(
        metric=metric.value,
        level=level.value if level else None,
        layout=layout.value if layout else None,
        weights=None if weights in (None, WeightsChoice.none) else str(weights),
        columns=_names(columns),
        order=_names(order),
        item_column=item_col,
        annotator_column=annotator_col,
        label_column=label_col,
    )
    result = file_agreement(file, request)
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(result.summary())


@qa_app.command("report")
def qa_report_command(
    project: ProjectArg,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Write a self-contained HTML file instead."),
    ] = None,
    window_days: Annotated[
        int, typer.Option(min=1, max=3650, help="Length of the time windows, in days.")
    ] = 7,
    k_anonymity: Annotated[
        int, typer.Option(min=2, max=1000, help="Withhold annotator groups smaller than this.")
    ] = 5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement per field, label, pair, version and time window; gold accuracy;
    aggregation; monitoring findings; bias by annotator group and item metadata."""
    if as_json and html is not None:
        raise typer.BadParameter("give --json or --html, not both")
    from rich.markup import escape

    from annotary.cli.qa_render import print_report, report_html
    from annotary.services.database import open_database
    from annotary.services.qa.report import qa_report

    database = open_database(database_url(db))
    try:
        report = qa_report(database, project, window_days=window_days, k_anonymity=k_anonymity)
    finally:
        database.dispose()
    if as_json:
        print_json(report.to_dict())
    elif html is not None:
        html.write_text(report_html(report), encoding="utf-8")
        console.print(f"wrote {escape(str(html))}")
    else:
        print_report(report, console)


@qa_app.command("aggregate")
def qa_aggregate_command(
    project: ProjectArg, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Refit Dawid-Skene over the project and relabel every machine-made final label
    (human decisions are kept)."""
    from annotary.services.database import open_database
    from annotary.services.qa.aggregate import aggregate_project

    database = open_database(database_url(db))
    try:
        result = aggregate_project(database, project)
    finally:
        database.dispose()
    if as_json:
        print_json(
            {
                "fields": result.fields,
                "items_relabelled": result.items_relabelled,
                "labels_changed": result.labels_changed,
                "converged": result.converged,
            }
        )
        return
    console.print(
        f"Dawid-Skene on {', '.join(result.fields) or 'no single-choice field'}: "
        f"{result.items_relabelled} final labels rewritten, {result.labels_changed} changed"
        + ("" if result.converged else " (EM stopped before converging)")
    )
