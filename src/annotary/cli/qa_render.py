"""The QA report as tables: Rich on a terminal, or one self-contained HTML file.

Both renderings come from the same list of `Section`s, so the terminal and the
file always show the same figures under the same titles.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from annotary.core.quality.report.agreement_rows import FieldAgreement
from annotary.core.quality.report.build import QaReport

NONE = "-"


@dataclass
class Section:
    """One table of the report."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str | None = None


def number(value: float | None, digits: int = 3) -> str:
    """A figure with `digits` decimals; `-` when undefined."""
    return NONE if value is None else f"{value:.{digits}f}"


def interval(low: float | None, high: float | None) -> str:
    return NONE if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def share(value: float | None) -> str:
    return NONE if value is None else f"{value:.1%}"


def report_sections(report: QaReport) -> list[Section]:
    """Every table of the report, in reading order."""
    sections = [_overview(report), _agreement(report)]
    for agreement in report.fields:
        sections.extend(_field_detail(agreement))
    sections.extend([*_gold(report), _aggregation(report), _findings(report), *_bias(report)])
    sections.append(Section("Notes", ["note"], [[note] for note in report.notes]))
    return sections


def _overview(report: QaReport) -> Section:
    rows = [
        ["project", report.project],
        ["generated", report.generated_at],
        ["schema / guidelines", f"v{report.schema_version} / v{report.guideline_version}"],
        ["items (annotated)", f"{report.items:,} ({report.annotated_items:,})"],
        ["annotations", f"{report.annotations:,}"],
        ["annotators", f"{report.annotators:,}"],
        ["time window", f"{report.window_days} days"],
        ["not compared (free text)", ", ".join(report.not_compared) or NONE],
    ]
    return Section(f"QA report: {report.project}", ["", ""], rows)


def _agreement(report: QaReport) -> Section:
    rows = [
        [
            f.name,
            f.kind,
            f.statistic,
            number(f.estimate.value),
            interval(f.estimate.ci_low, f.estimate.ci_high),
            number(f.percent_agreement if f.kind != "spans" else f.f1_overlap),
            number(f.fleiss_kappa),
            f"{f.n_pairable_units:,} / {f.n_units:,}",
            "; ".join(n for n in (f.estimate.note, f.note) if n),
        ]
        for f in report.fields
    ]
    columns = [
        "field",
        "kind",
        "statistic",
        "value",
        "95% CI",
        "observed agreement (spans: overlap F1)",
        "Fleiss kappa",
        "pairable / units",
        "note",
    ]
    return Section("Agreement", columns, rows)


def _field_detail(f: FieldAgreement) -> list[Section]:
    sections = []
    if f.per_label:
        is_spans = f.kind == "spans"
        sections.append(
            Section(
                f"Per label: {f.name}",
                ["label", "values", "F1 exact" if is_spans else "alpha (one vs rest)", "note"]
                + (["F1 overlap"] if is_spans else []),
                [
                    [row.label, f"{row.n_values:,}", number(row.value), row.note or ""]
                    + ([number(row.f1_overlap)] if is_spans else [])
                    for row in f.per_label
                ],
            )
        )
    sections.append(
        Section(
            f"Annotator pairs: {f.name}",
            ["annotator a", "annotator b", "shared", "statistic", "value", "agreement", "note"],
            [
                [
                    p.annotator_a,
                    p.annotator_b,
                    f"{p.shared_units:,}",
                    p.statistic,
                    number(p.value),
                    share(p.percent_agreement) if p.f1_overlap is None else number(p.f1_overlap),
                    p.note or "",
                ]
                for p in f.pairs
            ],
            caption=f"{len(f.pairs)} of {f.pairs_total} pairs sharing units, most shared first",
        )
    )
    slices = [*f.by_schema_version, *f.by_guideline_version, *f.by_window]
    sections.append(
        Section(
            f"Versions and time: {f.name}",
            ["slice", "values", "units", f.statistic, "note"],
            [
                [s.key, f"{s.n_values:,}", f"{s.n_units:,}", number(s.value), s.note or ""]
                for s in slices
            ],
        )
    )
    return sections


def _gold(report: QaReport) -> list[Section]:
    gold = report.gold
    accuracy = Section(
        "Gold accuracy",
        ["annotator", "field", "answered", "correct", "accuracy", "95% CI (Wilson)"],
        [
            [
                row.annotator,
                row.field,
                str(row.answered),
                str(row.correct),
                share(row.accuracy),
                interval(row.ci_low, row.ci_high),
            ]
            for row in gold.accuracy
        ],
        caption=gold.note or f"{gold.answers:,} answers to {gold.gold_items:,} gold items",
    )
    hardest = Section(
        "Hardest gold items",
        ["item", "external id", "answered", "wrong", "wrong share", "95% CI (Wilson)"],
        [
            [
                str(row.item_id),
                row.external_id or "",
                str(row.answered),
                str(row.wrong),
                share(row.difficulty),
                interval(row.ci_low, row.ci_high),
            ]
            for row in gold.hardest_items
        ],
    )
    return [accuracy, hardest]


def _aggregation(report: QaReport) -> Section:
    return Section(
        "Aggregation",
        ["method", "final labels", "mean confidence", "mean agreement"],
        [
            [a.method, f"{a.final_labels:,}", number(a.mean_confidence), number(a.mean_agreement)]
            for a in report.aggregation
        ],
    )


def _findings(report: QaReport) -> Section:
    return Section(
        "Monitoring findings",
        ["annotator", "check", "field", "value", "threshold", "evidence"],
        [
            [
                f.annotator,
                f.kind,
                f.field or "",
                number(f.value, 4),
                number(f.threshold, 4),
                f.evidence,
            ]
            for f in report.findings
        ],
        caption="prompts for a human review, not verdicts",
    )


def _bias(report: QaReport) -> list[Section]:
    bias = report.bias
    pool = Section(
        "Annotator pool",
        ["attribute", "annotators per value", "withheld values", "undisclosed", "evenness"],
        [
            [
                row.attribute,
                ", ".join(f"{k}: {n}" for k, n in row.counts.items()) or NONE,
                str(row.suppressed_values),
                str(row.undisclosed),
                number(row.normalized_entropy),
            ]
            for row in bias.pool
        ],
        caption=bias.note,
    )
    rows = []
    for table in bias.tables:
        test = [
            f"{number(table.chi2, 2)} ({table.dof})",
            number(table.p_value, 4),
            number(table.cramers_v),
            str(table.suppressed_groups),
        ]
        where = [table.field, f"{table.source.replace('_', ' ')} {table.key}"]
        if not table.groups:
            rows.append([*where, "(none shown)", "0", "", *test])
        for group in table.groups:
            counts = ", ".join(f"{label}: {n}" for label, n in group.counts.items())
            rows.append([*where, group.group, f"{group.n_values:,}", counts, *test])
    tables = Section(
        "Label distributions by group",
        ["field", "by", "group", "values", "labels", "chi2 (dof)", "p", "Cramer's V", "withheld"],
        rows,
    )
    tags = Section(
        "Bias-tag rates",
        ["field", "tag", "items tagged", "of items", "rate", "95% CI"],
        [
            [
                row.field,
                row.tag,
                f"{row.items_tagged:,}",
                f"{row.items:,}",
                number(row.rate),
                f"{number(row.low)} - {number(row.high)}",
            ]
            for row in bias.tag_rates
        ],
        caption="share of annotated items that any annotator tagged (fields named bias*)",
    )
    return [pool, tables, tags]


def print_report(report: QaReport, console: Console) -> None:
    """One Rich table per section."""
    for section in report_sections(report):
        table = Table(
            title=escape(section.title),
            caption=escape(section.caption) if section.caption else None,
            show_header=any(section.columns),
            title_justify="left",
        )
        for column in section.columns:
            table.add_column(escape(column), overflow="fold")
        for row in section.rows or [["(none)", *[""] * (len(section.columns) - 1)]]:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d0d0d5; padding: .25rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #f2f2f5; } td.empty { color: #888; font-style: italic; }
caption { caption-side: bottom; color: #555; text-align: left; padding-top: .3rem; }
"""


def _html_rows(rows: Iterable[list[str]], tag: str) -> str:
    return "".join(
        "<tr>" + "".join(f"<{tag}>{html.escape(cell)}</{tag}>" for cell in row) + "</tr>"
        for row in rows
    )


def report_html(report: QaReport) -> str:
    """The whole report as one HTML page: inline CSS, no scripts, no external assets."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>QA report: {html.escape(report.project)}</title>",
        f"<style>{_STYLE}</style></head><body>",
    ]
    for position, section in enumerate(report_sections(report)):
        heading = "h1" if position == 0 else "h2"
        parts.append(f"<{heading}>{html.escape(section.title)}</{heading}>")
        parts.append("<table>")
        if section.caption:
            parts.append(f"<caption>{html.escape(section.caption)}</caption>")
        if any(section.columns):
            parts.append(f"<thead>{_html_rows([section.columns], 'th')}</thead>")
        body = _html_rows(section.rows, "td") or (
            f'<tr><td class="empty" colspan="{len(section.columns)}">none</td></tr>'
        )
        parts.append(f"<tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
