"""Agreement on any file of labels: the use case behind `annotary agreement`.

`core.quality.files` reads the file (wide or long) into a table of string
labels; this module checks the options against the metric, picks the coders,
turns labels into what the statistic needs (codes, numbers, or ordered
categories) and calls the core statistic, which raises E601 when the value is
undefined on the data. Malformed input or options that do not fit are E602.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt

from annotary.core.quality import (
    LEVELS,
    Level,
    cohen_kappa,
    encode_wide,
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
    number,
    numbers,
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


def _ordered(table: LabelTable, order: tuple[str, ...] | None, why: str) -> list[list[Any]]:
    """Labels an ordered statistic can use: strings listed in `order`, or numbers."""
    if order is not None:
        check_order(table, order)
        return [list(row) for row in table.labels]
    if not any(number(label) is not None for row in table.labels for label in row if label):
        raise input_error(
            f"{why} needs ordered categories: the labels are not numbers, so give "
            "their order with --order, e.g. --order low,medium,high"
        )
    # Mostly numbers: the others are likely typos, so name their lines.
    return numbers(table, f"{why} without --order")


def _as_floats(rows: list[list[float | None]], n_coders: int) -> npt.NDArray[np.float64]:
    return np.array(
        [[math.nan if value is None else value for value in row] for row in rows],
        dtype=np.float64,
    ).reshape(len(rows), n_coders)


def _value(table: LabelTable, request: AgreementRequest) -> float:
    metric, n_coders = request.metric, len(table.coders)
    if metric == "alpha":
        level = cast(Level, request.level or "nominal")  # checked by _check_options
        if level in ("interval", "ratio"):
            values = numbers(table, f"--level {level}")
            return krippendorff_alpha(_as_floats(values, n_coders), level)
        if level == "ordinal" and request.order is None:
            values = _ordered(table, None, "--level ordinal")
            return krippendorff_alpha(_as_floats(values, n_coders), level)
        if request.order is not None:
            check_order(table, request.order)
        codes, _ = encode_wide(table.labels, request.order)
        return krippendorff_alpha(codes, level)
    if metric == "cohen" and request.weights is not None:
        weights = cast(Weights, request.weights)
        labels = _ordered(table, request.order, f"--weights {weights}")
        codes, categories = encode_wide(labels, request.order)
        return cohen_kappa(codes[:, 0], codes[:, 1], weights, len(categories))
    codes, categories = encode_wide(table.labels)
    if metric == "fleiss":
        return fleiss_kappa(codes, len(categories))
    if metric == "cohen":
        return cohen_kappa(codes[:, 0], codes[:, 1], None, len(categories))
    if metric == "scott":
        return scott_pi(codes[:, 0], codes[:, 1])
    return percent_agreement(codes[:, 0], codes[:, 1])


def table_agreement(table: LabelTable, request: AgreementRequest) -> AgreementResult:
    """Compute the requested statistic on labels already read."""
    _check_options(request)
    used = _coders(table, request)
    value = _value(used, request)
    per_unit = np.array([sum(v is not None for v in row) for row in used.labels], dtype=np.int64)
    return AgreementResult(
        metric=request.metric,
        level=request.level or ("ordinal" if request.weights else "nominal"),
        weights=request.weights,
        value=float(value),
        n_units=len(used.units),
        n_coders=len(used.coders),
        n_pairable=int(per_unit[per_unit >= 2].sum()),
    )


def file_agreement(path: Path, request: AgreementRequest) -> AgreementResult:
    """Read `path` (wide or long) and compute the requested agreement statistic."""
    _check_options(request)  # before reading: a wrong option needs no file
    table = read_labels(path, request.layout, request.long_columns())
    return table_agreement(table, request)
