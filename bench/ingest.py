"""Ingest benchmark: a fixed JSONL workload into fresh SQLite and PostgreSQL databases.

Workload (seed 0): 100,000 rows of ~200-character texts with metadata, of which
10% are exact duplicates of earlier rows and 0.1% are malformed (bad JSON or a
missing text column). Imported with `--on-error skip`, as a user would import a
messy file. Only the import itself is timed (file generation and database
creation are not). Prints rows/s (input rows handled) and items/s (new items
stored) per database.

    python bench/ingest.py [--rows N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Targets on a 2-core machine: >= 50,000 items/s on SQLite, >= 30,000 on PostgreSQL.
"""

from __future__ import annotations

import os
import sys

# bench/queue.py would shadow the standard library's `queue` module for any
# script run from this folder; take the folder off the import path.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.database import open_database
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database

PROJECT = """
name: bench
objective: {use_case: classification}
schema:
  fields:
    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}
guidelines: Benchmark project.
"""
WORDS = [
    "the",
    "a",
    "model",
    "answer",
    "user",
    "prompt",
    "quality",
    "label",
    "data",
    "review",
    "great",
    "poor",
    "service",
    "delivery",
    "refund",
    "price",
    "support",
    "product",
    "quickly",
    "slowly",
    "never",
    "always",
    "because",
    "however",
    "annotator",
    "guideline",
    "safety",
    "toxic",
    "helpful",
    "coherent",
    "factual",
    "complete",
    "polite",
    "tone",
]


def generate(path: Path, rows: int, seed: int = 0) -> dict[str, int]:
    """Write the workload; returns how many duplicates and malformed rows it holds."""
    rng = random.Random(seed)
    written: list[bytes] = []
    duplicates = malformed = 0
    with path.open("wb") as out:
        for i in range(rows):
            roll = rng.random()
            if roll < 0.001:
                malformed += 1
                line = b'{"text": "unterminated' if i % 2 else b'{"body": "no text column"}'
            elif roll < 0.101 and written:
                duplicates += 1
                line = rng.choice(written)
            else:
                words: list[str] = []
                while sum(len(w) + 1 for w in words) < 200:
                    words.append(rng.choice(WORDS))
                record = {
                    "id": f"r{i}",
                    "text": f"{i} " + " ".join(words),
                    "metadata": {"source": rng.choice(["web", "app", "mail"]), "lang": "en"},
                }
                line = orjson.dumps(record)
                if len(written) < 5000:
                    written.append(line)
                else:
                    written[rng.randrange(5000)] = line
            out.write(line + b"\n")
    return {"duplicates": duplicates, "malformed": malformed}


def run_one(label: str, url: str, source: Path) -> None:
    db = open_database(url)
    try:
        create_project(db, parse_project(PROJECT, "bench.yaml"))
        started = time.perf_counter()
        report = import_items(
            db,
            "bench",
            source,
            ImportOptions(kind="text"),
            on_error="skip",
            rejects_path=source.with_suffix(f".{label}.rejects.jsonl"),
        )
        elapsed = time.perf_counter() - started
    finally:
        db.dispose()
    print(
        f"{label:<11} {report.rows_read:>8} rows {report.items_added:>8} added "
        f"{report.duplicates:>6} dup {report.rejected:>4} bad  {elapsed:6.2f} s  "
        f"{report.rows_read / elapsed:>9,.0f} rows/s  {report.items_added / elapsed:>9,.0f} "
        "items/s"
    )


def postgres_database(server_url: str) -> tuple[str, Database, str]:
    name = f"annotary_bench_{uuid.uuid4().hex[:10]}"
    admin = Database.from_url(server_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}", admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "workload.jsonl"
        shape = generate(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        print(
            f"workload: {args.rows} rows, {size_mb:.1f} MB, {shape['duplicates']} duplicates, "
            f"{shape['malformed']} malformed"
        )
        run_one("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", source)
        if not args.skip_pg:
            url, admin, name = postgres_database(args.pg)
            try:
                run_one("postgresql", url, source)
            finally:
                with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.dispose()


if __name__ == "__main__":
    main()
