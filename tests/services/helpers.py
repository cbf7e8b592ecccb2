"""Small builders shared by service tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from annotary.core.project import ProjectDefinition, parse_project

SENTIMENT_PROJECT = """
name: {name}
item_kind: {kind}
objective:
  use_case: classification
schema:
  fields:
    - name: sentiment
      kind: label
      labels: [positive, neutral, negative]
guidelines: |
  Pick the sentiment of the text.
workflow:
  overlap: 3
"""


def sentiment_project(name: str = "reviews", kind: str = "text") -> ProjectDefinition:
    return parse_project(SENTIMENT_PROJECT.format(name=name, kind=kind), "project.yaml")


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Rows as JSONL; a str row is written verbatim (for malformed lines)."""
    with path.open("wb") as out:
        for row in rows:
            out.write(row.encode() if isinstance(row, str) else orjson.dumps(row))
            out.write(b"\n")
    return path
