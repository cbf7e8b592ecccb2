"""The project-file YAML loader accepts plain JSON-like data only, and says which line
holds anything else."""

from __future__ import annotations

import pytest

from annotary.core.project import parse_project
from annotary.core.yamlfile import MAX_DEPTH, load_yaml
from annotary.errors import Invalid

PLAIN = """\
name: plain
count: 3
ratio: 0.25
flags: [true, false, null]
points: {1: low, 5: high}
released: 2024-05-01
quoted: "tab\\there"
"""


def test_plain_data_loads_with_lines() -> None:
    data, lines = load_yaml(PLAIN, "p.yaml")
    assert data == {
        "name": "plain",
        "count": 3,
        "ratio": 0.25,
        "flags": [True, False, None],
        "points": {1: "low", 5: "high"},
        "released": "2024-05-01",  # dates stay strings, as in JSON
        "quoted": "tab\there",
    }
    assert lines[("points", "5")] == 5


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a: 1\ng: {path: !!binary L2V0Yy9ob3N0bmFtZQ==}\n", 2, "tags such as '!!binary'"),
        ("a: !!python/object/apply:os.system [ls]\n", 1, "'!!python/object/apply:os.system'"),
        ("a: !!set {x, y}\n", 1, "'!!set'"),
        ("a: !!omap [{x: 1}]\n", 1, "'!!omap'"),
        ("a: !!timestamp 2024-05-01\n", 1, "'!!timestamp'"),
        ("a: !!str 12\n", 1, "'!!str'"),
        ("a: !custom x\n", 1, "'!custom'"),
        ("base: {x: 1}\nother:\n  <<: {y: 2}\n", 3, "merge keys (<<)"),
        ("a: &anchor 1\nb: 2\n", 1, "anchors (&name)"),
        ("a: [1]\nb: *x\n", 2, "aliases (*name)"),
        ("\u00b9$\u0081o", 1, "U+0081"),
        ("a: 1\nb: 'bell\x07'\n", 2, "U+0007"),
        ('a: 1\nb: "escaped \\x01"\n', 2, "U+0001"),
        ('a: "nul \\0"\n', 1, "U+0000"),
        ("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", 1, "deeper than"),
        ("a: " + "9" * 5000 + "\n", 1, "out of range"),
        ("a: 9223372036854775808\n", 1, "out of range"),
        ("a: .inf\n", 1, "not finite"),
        ("a: .nan\n", 1, "not finite"),
        ("? [a, b]\n: c\n", 1, "keys must be plain"),
        ("a: [1, 2\n", 2, "invalid YAML"),
    ],
)
def test_anything_but_plain_data_is_refused_with_its_line(
    text: str, line: int, reason: str
) -> None:
    with pytest.raises(Invalid) as raised:
        load_yaml(text, "p.yaml")
    assert raised.value.code == "E101"
    [detail] = raised.value.details
    assert detail.location == f"p.yaml:{line}"
    assert reason in detail.reason


def test_a_billion_laughs_cannot_be_written() -> None:
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    laughs += "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(Invalid) as raised:
        load_yaml(laughs, "p.yaml")
    assert "anchors" in raised.value.details[0].reason


def test_a_long_bad_value_is_quoted_short() -> None:
    with pytest.raises(Invalid) as raised:
        load_yaml("a: " + "7" * 400 + "\n", "p.yaml")
    assert len(raised.value.details[0].reason) < 120
    assert "…" in raised.value.details[0].reason


def test_a_huge_version_is_refused_before_it_reaches_an_integer_column() -> None:
    text = (
        "name: big\nobjective: {use_case: other}\n"
        "schema: {version: 3000000000, fields: [{name: s, kind: label, labels: [a, b]}]}\n"
        "guidelines: {text: x, version: 3000000000}\nworkflow: {lease_timeout: 99999999d}\n"
    )
    with pytest.raises(Invalid) as raised:
        parse_project(text, "p.yaml")
    paths = {detail.path for detail in raised.value.details}
    assert {"schema.version", "guidelines.version", "workflow.lease_timeout"} <= paths
