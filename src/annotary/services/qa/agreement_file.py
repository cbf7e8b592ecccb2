"""Agreement on any file of labels: the use case behind `annotary agreement`.

`core.quality.files` reads the file (wide or long) into a table of label
codes; this module checks the options against the metric, picks the coders,
turns labels into what the statistic needs (codes of sorted or ordered
categories, or the number each label stands for) and calls the core
statistic, which raises E601 when the value is undefined on the data.
Malformed input or options that do not fit are E602.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

from annotary.core.quality import (
    LEVELS,
    MISSING,
    Level,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)
from annotary.core.quality.agreement import Weights
from annotary.core.quality.files import (
    LabelTable,
    LongColumns,
    check_order,
    input_error,
    label_values,
    number,
    read_labels,
)

METRICS: Final = ("alpha", "fleiss", "cohen", "scott", "percent")
TWO_CODER_METRICS: Final = ("cohen", "scott", "percent")
WEIGHTS: Final = ("linear", "quadratic")


@dataclass(frozen=True, slots=True)
class AgreementRequest:
    """What to compute and how to read the file (the CLI options)."""

    metric: str
    level: str | None = None  # alpha only; default nominal
    layout: str | None = None  # wide | long; default: detected (see read_labels)
    weights: str | None = None  # cohen only: linear | quadratic
    columns: tuple[str, ...] | None = None  # the coders to use (two for cohen/scott/percent)
    order: tuple[str, ...] | None = None  # category order: ordinal alpha, weighted cohen
    item_column: str | None = None
    annotator_column: str | None = None
    label_column: str | None = None

    def long_columns(self) -> LongColumns | None:
        """The long-format column names, when any was given."""
        given = (self.item_column, self.annotator_column, self.label_column)
        if not any(given):
            return None
        default = LongColumns()
        return LongColumns(
            self.item_column or default.item,
            self.annotator_column or default.annotator,
            self.label_column or default.label,
        )


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """One statistic and the size of the data it was computed on."""

    metric: str
    level: str
    weights: str | None
    value: float
    n_units: int
    n_coders: int
    n_pairable: int  # values in units holding two or more values

    def to_dict(self) -> dict[str, Any]:
        """The `--json` object."""
        return {
            "metric": self.metric,
            "level": self.level,
            "weights": self.weights,
            "value": self.value,
            "n_units": self.n_units,
            "n_coders": self.n_coders,
            "n_pairable": self.n_pairable,
        }

    def summary(self) -> str:
        """One line, e.g. `alpha (nominal) = 0.6914  [units 15, coders 3, pairable values 26]`."""
        kind = f"{self.weights} weights" if self.weights else self.level
        return (
            f"{self.metric} ({kind}) = {self.value:.4f}  [units {self.n_units}, "
            f"coders {self.n_coders}, pairable values {self.n_pairable}]"
        )


def _check_options(request: AgreementRequest) -> None:
    if request.metric not in METRICS:
        raise input_error(f"metric {request.metric!r} is not valid; valid: {', '.join(METRICS)}")
    if request.level is not None and request.level not in LEVELS:
        raise input_error(f"level {request.level!r} is not valid; valid: {', '.join(LEVELS)}")
    if request.level is not None and request.metric != "alpha":
        raise input_error(
            f"--level applies to --metric alpha only; {request.metric} treats labels as "
            "nominal (for ordered categories use --metric cohen --weights linear|quadratic)"
        )
    if request.weights is not None and request.weights not in WEIGHTS:
        raise input_error(
            f"weights {request.weights!r} is not valid; valid: none, {', '.join(WEIGHTS)}"
        )
    if request.weights is not None and request.metric != "cohen":
        raise input_error("--weights applies to --metric cohen only")
    ordered = request.level == "ordinal" or request.weights is not None
    if request.order is not None and not ordered:
        raise input_error("--order applies to --level ordinal and to --metric cohen --weights")


def _coders(table: LabelTable, request: AgreementRequest) -> LabelTable:
    """The coders the metric uses: --columns, or all (exactly two for two-coder metrics)."""
    if request.columns is not None:
        unknown = [name for name in request.columns if name not in table.coders]
        if unknown:
            raise input_error(
                f"--columns names unknown coder(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(table.coders)}"
            )
        if len(set(request.columns)) != len(request.columns):
            raise input_error("--columns names a coder twice")
        table = table.select([table.coders.index(name) for name in request.columns])
    if request.metric in TWO_CODER_METRICS and len(table.coders) != 2:
        many = len(table.coders) > 2
        hint = f": choose two with --columns {table.coders[0]},{table.coders[1]}" if many else ""
        raise input_error(
            f"{request.metric} needs exactly 2 coders; {table.source} has "
            f"{len(table.coders)} ({', '.join(table.coders)}){hint}"
        )
    return table


def _category_codes(
    table: LabelTable, order: tuple[str, ...] | None
) -> tuple[npt.NDArray[np.int64], int]:
    """Codes into the labels sorted, or into `order` (checked already), and how many."""
    categories = list(order) if order is not None else sorted(table.labels)
    position = {label: code for code, label in enumerate(categories)}
    recode = np.array([position[label] for label in table.labels] + [MISSING], dtype=np.int64)
    return recode[table.codes], len(categories)  # code -1 picks the last entry: MISSING


def _ordered_values(table: LabelTable, why: str) -> npt.NDArray[np.float64]:
    """The number of each label, for a statistic that needs ordered categories and no --order."""
    if not any(number(label) is not None for label in table.labels):
        raise input_error(
            f"{why} needs ordered categories: the labels are not numbers, so give "
            "their order with --order, e.g. --order low,medium,high"
        )
    # Mostly numbers: the others are likely typos, so name their lines.
    return label_values(table, f"{why} without --order")


def _value(table: LabelTable, request: AgreementRequest) -> float:
    metric, codes = request.metric, table.codes
    if metric == "alpha":
        level = cast(Level, request.level or "nominal")  # checked by _check_options
        if level in ("interval", "ratio"):
            return krippendorff_alpha(codes, level, values=label_values(table, f"--level {level}"))
        if level == "ordinal" and request.order is None:
            values = _ordered_values(table, "--level ordinal")
            return krippendorff_alpha(codes, level, values=values)
        if request.order is not None:
            check_order(table, request.order)
        return krippendorff_alpha(_category_codes(table, request.order)[0], level)
    if metric == "cohen" and request.weights is not None:
        weights = cast(Weights, request.weights)
        if request.order is not None:
            check_order(table, request.order)
            ordered, n_categories = _category_codes(table, request.order)
        else:
            values = _ordered_values(table, f"--weights {weights}")
            distinct, position = np.unique(values, return_inverse=True)
            ordered = np.append(position, MISSING)[codes]
            n_categories = distinct.size
        return cohen_kappa(ordered[:, 0], ordered[:, 1], weights, n_categories)
    nominal, n_categories = _category_codes(table, None)
    if metric == "fleiss":
        return fleiss_kappa(nominal, n_categories)
    if metric == "cohen":
        return cohen_kappa(nominal[:, 0], nominal[:, 1], None, n_categories)
    if metric == "scott":
        return scott_pi(nominal[:, 0], nominal[:, 1])
    return percent_agreement(nominal[:, 0], nominal[:, 1])


def table_agreement(table: LabelTable, request: AgreementRequest) -> AgreementResult:
    """Compute the requested statistic on labels already read."""
    _check_options(request)
    used = _coders(table, request)
    value = _value(used, request)
    per_unit = np.count_nonzero(used.codes >= 0, axis=1)
    return AgreementResult(
        metric=request.metric,
        level=request.level or ("ordinal" if request.weights else "nominal"),
        weights=request.weights,
        value=float(value),
        n_units=used.n_units,
        n_coders=len(used.coders),
        n_pairable=int(per_unit[per_unit >= 2].sum()),
    )


def file_agreement(path: Path, request: AgreementRequest) -> AgreementResult:
    """Read `path` (wide or long) and compute the requested agreement statistic."""
    _check_options(request)  # before reading: a wrong option needs no file
    table = read_labels(path, request.layout, request.long_columns())
    return table_agreement(table, request)
