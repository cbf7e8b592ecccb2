"""`annotary agreement FILE`: any file of labels, through the real console script.

Values are checked against the reference libraries (krippendorff, statsmodels,
scikit-learn) on the same data; no database is involved.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from tests.cli.runner import run

# Wikipedia, "Krippendorff's alpha", a computational example: 15 units x coders
# A, B, C (None = missing); from /work/shared/qa_vectors/alpha_wikipedia_*.json.
CODERS = ["A", "B", "C"]
WIKIPEDIA: list[list[int | None]] = [
    [None, 1, None],
    [None, None, None],
    [None, 2, 2],
    [None, 1, 1],
    [None, 3, 3],
    [3, 3, 4],
    [4, 4, 4],
    [1, 3, None],
    [2, None, 2],
    [1, None, 1],
    [1, None, 1],
    [3, None, 3],
    [3, None, 3],
    [None, None, None],
    [3, None, 4],
]
PUBLISHED = {  # "expected" of the vectors (krippendorff 0.9.0)
    "nominal": 0.691358024691358,
    "ordinal": 0.8067214199413153,
    "interval": 0.8108448928121059,
    "ratio": 0.8089436707842471,
}
LEVELS = list(PUBLISHED)
WIKIPEDIA_PAIRABLE = sum(
    n for n in (sum(v is not None for v in row) for row in WIKIPEDIA) if n >= 2
)

# Three coders, nominal labels, every unit complete (statsmodels' Fleiss needs that).
SENTIMENT = [
    ["pos", "pos", "pos"],
    ["neg", "neg", "neu"],
    ["neu", "neu", "neu"],
    ["pos", "neu", "pos"],
    ["neg", "neg", "neg"],
    ["pos", "pos", "neg"],
    ["neu", "pos", "neu"],
    ["neg", "neg", "neg"],
    ["pos", "pos", "pos"],
    ["neu", "neg", "neu"],
    ["pos", "pos", "neu"],
    ["neg", "neu", "neg"],
]
# Two coders' 1-5 ratings, for weighted kappa.
RATINGS = [(1, 1), (2, 3), (3, 3), (4, 5), (5, 5), (2, 2), (3, 4), (1, 2), (4, 4), (5, 3), (2, 1)]


def reference_alpha(rows: list[list[Any]], level: Any, **kwargs: Any) -> float:
    data = np.array(
        [[np.nan if v is None else v for v in row] for row in rows], dtype=float
    ).T  # krippendorff wants coders x units
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level, **kwargs))


def write_wide(path: Path, rows: list[list[Any]], coders: list[str], *, ids: bool = True) -> Path:
    sep = "\t" if path.suffix == ".tsv" else ","
    header = (["unit"] if ids else []) + coders
    lines = [sep.join(header)]
    for number, row in enumerate(rows, start=1):
        cells = ["" if v is None else str(v) for v in row]
        lines.append(sep.join(([f"u{number}"] if ids else []) + cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def long_triples(rows: list[list[Any]], coders: list[str]) -> list[tuple[str, str, Any]]:
    """(item, annotator, label) for every present value, in reverse (order must not matter)."""
    triples = [
        (f"item{u}", coders[c], v)
        for u, row in enumerate(rows, start=1)
        for c, v in enumerate(row)
        if v is not None
    ]
    return triples[::-1]


def agreement_json(*args: str) -> dict[str, Any]:
    result = run("agreement", *args, "--json")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def fails(result: subprocess.CompletedProcess[str], code: str) -> str:
    """Assert a clean error (exit 1, the code, no traceback); returns stderr."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"error {code}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


# -- values -------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_wide_csv_alpha_matches_krippendorff(tmp_path: Path, level: str) -> None:
    path = write_wide(tmp_path / "wide.csv", WIKIPEDIA, CODERS)
    out = agreement_json(str(path), "--metric", "alpha", "--level", level)
    expected = reference_alpha(WIKIPEDIA, level)
    assert abs(expected - PUBLISHED[level]) < 1e-9
    assert abs(out["value"] - expected) < 1e-9
    assert (out["n_units"], out["n_coders"], out["n_pairable"]) == (15, 3, WIKIPEDIA_PAIRABLE)
    assert (out["metric"], out["level"]) == ("alpha", level)


@pytest.mark.parametrize("level", LEVELS)
def test_long_csv_alpha_matches_krippendorff(tmp_path: Path, level: str) -> None:
    path = tmp_path / "long.csv"
    lines = ["item,annotator,label"] + [
        f"{i},{a},{v}" for i, a, v in long_triples(WIKIPEDIA, CODERS)
    ]
    path.write_text("\n".join(lines) + "\n")
    # No --format: a CSV with item, annotator and label columns is read as long.
    out = agreement_json(str(path), "--metric", "alpha", "--level", level)
    assert abs(out["value"] - reference_alpha(WIKIPEDIA, level)) < 1e-9
    # Units nobody labelled do not appear in a long file.
    assert (out["n_units"], out["n_coders"], out["n_pairable"]) == (13, 3, WIKIPEDIA_PAIRABLE)


def test_text_output_names_metric_level_and_sizes(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "wide.csv", WIKIPEDIA, CODERS)
    result = run("agreement", str(path), "--metric", "alpha")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"alpha (nominal) = 0.6914  [units 15, coders 3, pairable values {WIKIPEDIA_PAIRABLE}]\n"
    )


def test_json_shape(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "wide.csv", WIKIPEDIA, CODERS)
    out = agreement_json(str(path), "--metric", "alpha", "--level", "interval")
    assert set(out) == {
        "metric",
        "level",
        "weights",
        "value",
        "n_units",
        "n_coders",
        "n_pairable",
    }
    assert out["metric"] == "alpha" and out["level"] == "interval" and out["weights"] is None
    assert isinstance(out["value"], float)
    assert all(isinstance(out[k], int) for k in ("n_units", "n_coders", "n_pairable"))


def test_tsv_wide_without_unit_column(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "wide.tsv", WIKIPEDIA, CODERS, ids=False)
    out = agreement_json(str(path), "--metric", "alpha", "--level", "ordinal")
    assert abs(out["value"] - PUBLISHED["ordinal"]) < 1e-9
    assert out["n_units"] == 15 and out["n_coders"] == 3


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_jsonl_long(tmp_path: Path, level: str) -> None:
    path = tmp_path / "labels.jsonl"
    records = [
        {"item": i, "annotator": a, "label": v} for i, a, v in long_triples(WIKIPEDIA, CODERS)
    ]
    records.append({"item": "item2", "annotator": "A", "label": None})  # null = missing
    path.write_text("\n".join(json.dumps(r) for r in records[:5]) + "\n\n")
    with path.open("a") as file:
        file.write("\n".join(json.dumps(r) for r in records[5:]) + "\n")
    out = agreement_json(str(path), "--metric", "alpha", "--level", level)
    assert abs(out["value"] - reference_alpha(WIKIPEDIA, level)) < 1e-9
    assert out["n_units"] == 14  # item2 appears, with no value


def test_long_column_overrides(tmp_path: Path) -> None:
    path = tmp_path / "renamed.csv"
    triples = long_triples(WIKIPEDIA, CODERS)
    path.write_text(
        "doc;who;code;note\n".replace(";", ",") + "".join(f"{i},{a},{v},x\n" for i, a, v in triples)
    )
    args = ("--item-col", "doc", "--annotator-col", "who", "--label-col", "code")
    out = agreement_json(str(path), "--metric", "alpha", "--format", "long", *args)
    assert abs(out["value"] - PUBLISHED["nominal"]) < 1e-9


def test_fleiss_matches_statsmodels(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "sentiment.csv", SENTIMENT, ["r1", "r2", "r3"])
    out = agreement_json(str(path), "--metric", "fleiss")
    table, _ = aggregate_raters(np.array(SENTIMENT))
    assert abs(out["value"] - fleiss_kappa(table, method="fleiss")) < 1e-9
    assert (out["n_units"], out["n_coders"], out["n_pairable"]) == (12, 3, 36)


def test_cohen_on_two_chosen_columns_matches_sklearn(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "sentiment.csv", SENTIMENT, ["r1", "r2", "r3"])
    out = agreement_json(str(path), "--metric", "cohen", "--columns", "r1,r3")
    expected = cohen_kappa_score([r[0] for r in SENTIMENT], [r[2] for r in SENTIMENT])
    assert abs(out["value"] - expected) < 1e-9
    assert out["n_coders"] == 2 and out["n_pairable"] == 24


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_cohen_matches_sklearn(tmp_path: Path, weights: str) -> None:
    path = write_wide(tmp_path / "ratings.csv", [list(r) for r in RATINGS], ["x", "y"])
    out = agreement_json(str(path), "--metric", "cohen", "--weights", weights)
    a, b = zip(*RATINGS, strict=True)
    assert abs(out["value"] - cohen_kappa_score(a, b, weights=weights)) < 1e-9
    assert out["weights"] == weights


def test_weighted_cohen_with_order_of_text_labels(tmp_path: Path) -> None:
    names = ["none", "low", "mid", "high", "max"]  # alphabetical order differs
    rows = [[names[a - 1], names[b - 1]] for a, b in RATINGS]
    path = write_wide(tmp_path / "ratings.csv", rows, ["x", "y"])
    order = ",".join(names)
    out = agreement_json(str(path), "--metric", "cohen", "--weights", "quadratic", "--order", order)
    a, b = zip(*rows, strict=True)
    expected = cohen_kappa_score(a, b, labels=names, weights="quadratic")
    assert abs(out["value"] - expected) < 1e-9


def test_ordinal_alpha_with_order_matches_krippendorff(tmp_path: Path) -> None:
    names = ["never", "rarely", "sometimes", "often"]  # 1..4 of the Wikipedia data
    rows = [[None if v is None else names[v - 1] for v in row] for row in WIKIPEDIA]
    path = write_wide(tmp_path / "ordinal.csv", rows, CODERS)
    out = agreement_json(
        str(path), "--metric", "alpha", "--level", "ordinal", "--order", ",".join(names)
    )
    assert abs(out["value"] - PUBLISHED["ordinal"]) < 1e-9
    # Nominal on the same text labels needs no order.
    nominal = agreement_json(str(path), "--metric", "alpha")
    assert abs(nominal["value"] - PUBLISHED["nominal"]) < 1e-9


def test_scott_matches_statsmodels_and_percent_matches_sklearn(tmp_path: Path) -> None:
    rows = [[r[0], r[1]] for r in SENTIMENT]
    path = write_wide(tmp_path / "pair.csv", rows, ["r1", "r2"])
    scott = agreement_json(str(path), "--metric", "scott")
    table, _ = aggregate_raters(np.array(rows))  # Fleiss' kappa with 2 coders = Scott's pi
    assert abs(scott["value"] - fleiss_kappa(table, method="fleiss")) < 1e-9
    percent = agreement_json(str(path), "--metric", "percent")
    a, b = zip(*rows, strict=True)
    assert abs(percent["value"] - accuracy_score(a, b)) < 1e-12
    assert not math.isclose(scott["value"], percent["value"])


# -- errors ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    stderr = fails(run("agreement", str(tmp_path / "nope.csv"), "--metric", "alpha"), "E602")
    assert "nope.csv" in stderr


def test_unreadable_file(tmp_path: Path) -> None:
    stderr = fails(run("agreement", str(tmp_path), "--metric", "alpha"), "E602")
    assert "cannot read" in stderr


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "empty" in fails(run("agreement", str(path), "--metric", "alpha"), "E602")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"A,B\n1,2\nd\xe9j\xe0,1\n")
    assert "latin1.csv:3" in fails(run("agreement", str(path), "--metric", "alpha"), "E602")


def test_long_file_with_wrong_columns(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("item,annotator,value\ni1,a,1\ni1,b,1\n")
    stderr = fails(run("agreement", str(path), "--metric", "alpha", "--format", "long"), "E602")
    assert "'label'" in stderr and "--label-col" in stderr


def test_ragged_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("unit,A,B\nu1,1,1\nu2,2,2\nu3,1\nu4,2,2\n")
    stderr = fails(run("agreement", str(path), "--metric", "alpha"), "E602")
    assert "ragged.csv:4 " in stderr and "2 cells" in stderr
    assert "ragged.csv:2" not in stderr


def test_duplicate_unit_id_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,A,B\nu1,1,1\nu2,2,2\nu1,1,2\n")
    stderr = fails(run("agreement", str(path), "--metric", "alpha"), "E602")
    assert "dup.csv:4 id:" in stderr and "line 2" in stderr


@pytest.mark.parametrize("metric", ["cohen", "scott", "percent"])
def test_two_coder_metric_on_three_coders(tmp_path: Path, metric: str) -> None:
    path = write_wide(tmp_path / "three.csv", SENTIMENT, ["r1", "r2", "r3"])
    stderr = fails(run("agreement", str(path), "--metric", metric), "E602")
    assert "exactly 2 coders" in stderr and "--columns" in stderr


def test_columns_naming_an_unknown_coder(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "three.csv", SENTIMENT, ["r1", "r2", "r3"])
    result = run("agreement", str(path), "--metric", "cohen", "--columns", "r1,r9")
    stderr = fails(result, "E602")
    assert "'r9'" in stderr and "r1, r2, r3" in stderr


def test_repeated_item_annotator_pair_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "repeat.csv"
    path.write_text("item,annotator,label\ni1,a,x\ni1,b,x\ni2,a,y\ni1,a,y\n")
    stderr = fails(run("agreement", str(path), "--metric", "alpha"), "E602")
    assert "repeat.csv:5" in stderr and "line 2" in stderr


def test_non_number_for_interval_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    path.write_text("unit,A,B\nu1,1,2\nu2,3,three\nu3,2,2\n")
    result = run("agreement", str(path), "--metric", "alpha", "--level", "interval")
    stderr = fails(result, "E602")
    assert "values.csv:3 B:" in stderr and "'three'" in stderr


def test_non_number_in_jsonl_names_line_and_label_column(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text(
        '{"item": 1, "annotator": "a", "label": 1}\n{"item": 1, "annotator": "b", "label": "n/a"}\n'
    )
    result = run("agreement", str(path), "--metric", "alpha", "--level", "ratio")
    assert "values.jsonl:2 label:" in fails(result, "E602")


def test_invalid_json_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"item": 1, "annotator": "a", "label": 1}\n{"item": 1,\n')
    assert "bad.jsonl:2" in fails(run("agreement", str(path), "--metric", "alpha"), "E602")


def test_ordinal_text_labels_need_order(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "text.csv", SENTIMENT, ["r1", "r2", "r3"])
    result = run("agreement", str(path), "--metric", "alpha", "--level", "ordinal")
    assert "--order" in fails(result, "E602")


def test_label_missing_from_order_names_the_line(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "text.csv", SENTIMENT, ["r1", "r2", "r3"])
    args = ("--metric", "alpha", "--level", "ordinal", "--order", "neg,pos")
    stderr = fails(run("agreement", str(path), *args), "E602")
    assert "text.csv:3 r3:" in stderr and "'neu'" in stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--metric", "fleiss", "--weights", "linear"),
        ("--metric", "cohen", "--columns", "r1,r2", "--level", "ordinal"),
        ("--metric", "alpha", "--level", "nominal", "--order", "neg,neu,pos"),
    ],
)
def test_options_that_do_not_fit_the_metric(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = write_wide(tmp_path / "text.csv", SENTIMENT, ["r1", "r2", "r3"])
    assert "applies to" in fails(run("agreement", str(path), *args), "E602")


def test_undefined_statistic_is_e601(tmp_path: Path) -> None:
    path = write_wide(tmp_path / "same.csv", [["x", "x"], ["x", "x"], ["x", None]], ["a", "b"])
    stderr = fails(run("agreement", str(path), "--metric", "alpha"), "E601")
    assert "agreement undefined" in stderr
