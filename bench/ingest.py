"""Ingest benchmark: a fixed JSONL workload into fresh SQLite and PostgreSQL databases.

Workload (seed 0): 100,000 rows of ~200-character texts with metadata, of which
10% are exact duplicates of earlier rows and 0.1% are malformed (bad JSON or a
missing text column). Imported with `--on-error skip`, as a user would import a
messy file. Per database it times:

- `import_items` in this process (file generation and database creation not
  timed): rows/s (input rows handled) and items/s (new items stored);
- the CLI end to end: `annotary import bench FILE --on-error skip` as a process,
  from its start to its exit (the project exists beforehand);

and, once, the same rows through a bare Python `sqlite3` loop, also a process
from start to exit: each JSON line parsed (`json`), its text hashed (BLAKE2b),
the rows `executemany`-ed in one transaction into a table with a unique hash
index (WAL, synchronous=NORMAL, as annotary's). It prints annotary's throughput
as a share of the bare loop's (bare time / annotary time). The process timings
run `--repeat` times, interleaved, and the best of each counts (the machine may
be shared).

    python bench/ingest.py [--rows N] [--repeat N] [--skip-pg]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Targets on a 2-core machine: >= 50,000 items/s on SQLite, >= 30,000 on
PostgreSQL; the CLI import on SQLite at >= 0.7 of the bare loop.
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
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
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


BARE_LOOP = r"""
import hashlib, json, sqlite3, sys

source, target = sys.argv[1], sys.argv[2]
db = sqlite3.connect(target, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute(
    "CREATE TABLE items (id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL, "
    "content TEXT NOT NULL, metadata TEXT NOT NULL)"
)
db.execute("CREATE UNIQUE INDEX items_content_hash ON items (content_hash)")
insert = (
    "INSERT INTO items (content_hash, content, metadata) VALUES (?, ?, ?) "
    "ON CONFLICT (content_hash) DO NOTHING"
)
rows = []
db.execute("BEGIN")
with open(source, "rb") as lines:
    for line in lines:
        try:
            record = json.loads(line)
            text = record["text"]
        except (ValueError, KeyError, TypeError):
            continue
        digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        rows.append((digest, json.dumps({"text": text}), json.dumps(record.get("metadata", {}))))
        if len(rows) == 5000:
            db.executemany(insert, rows)
            rows.clear()
db.executemany(insert, rows)
db.execute("COMMIT")
"""


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
        "items/s",
        flush=True,
    )


def timed_process(command: list[str]) -> float:
    """Seconds from the start of `command` to its exit (which must be 0)."""
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{command[:2]} failed: {finished.stderr.decode()[-2000:]}")
    return elapsed


def cli_import(url: str, source: Path, tmp: Path) -> list[str]:
    annotary = str(Path(sys.executable).with_name("annotary"))
    rejects = str(tmp / "cli.rejects.jsonl")
    options = ["--on-error", "skip", "--db", url, "--rejects", rejects, "--json"]
    return [annotary, "import", "bench", str(source), *options]


def compare_processes(
    source: Path, tmp: Path, repeat: int, fresh_databases: dict[str, Callable[[int], str]]
) -> None:
    """Best-of-`repeat` process times: the bare loop and the CLI import per database."""
    rows = sum(1 for _ in source.open("rb"))
    bare: list[float] = []
    cli: dict[str, list[float]] = {label: [] for label in fresh_databases}
    for attempt in range(repeat):
        target = tmp / f"bare-{attempt}.db"
        bare.append(timed_process([sys.executable, "-c", BARE_LOOP, str(source), str(target)]))
        for label, fresh in fresh_databases.items():
            cli[label].append(timed_process(cli_import(fresh(attempt), source, tmp)))
    best_bare = min(bare)
    print(f"bare sqlite3 loop     {best_bare:6.2f} s  {rows / best_bare:>9,.0f} rows/s")
    for label, times in cli.items():
        best = min(times)
        print(
            f"CLI import {label:<10} {best:6.2f} s  {rows / best:>9,.0f} rows/s  "
            f"{best_bare / best:.2f} of the bare loop (runs: "
            + ", ".join(f"{t:.2f}" for t in times)
            + " s)"
        )


def postgres_database(server_url: str) -> tuple[str, Database, str]:
    name = f"annotary_bench_{uuid.uuid4().hex[:10]}"
    admin = Database.from_url(server_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}", admin, name


def drop_postgres_database(admin: Database, name: str) -> None:
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def with_project(url: str) -> str:
    db = open_database(url)
    try:
        create_project(db, parse_project(PROJECT, "bench.yaml"))
    finally:
        db.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "workload.jsonl"
        shape = generate(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        print(
            f"workload: {args.rows} rows, {size_mb:.1f} MB, {shape['duplicates']} duplicates, "
            f"{shape['malformed']} malformed"
        )
        run_one("sqlite", f"sqlite:///{tmp / 'bench.db'}", source)
        admin: Database | None = None
        created: list[str] = []
        try:
            if not args.skip_pg:
                url, admin, name = postgres_database(args.pg)
                created.append(name)
                run_one("postgresql", url, source)
            template = tmp / "template.db"
            with_project(f"sqlite:///{template}")

            def fresh_sqlite(attempt: int) -> str:
                target = tmp / f"cli-{attempt}.db"
                shutil.copyfile(template, target)
                return f"sqlite:///{target}"

            def fresh_postgresql(_attempt: int) -> str:
                url, _, name = postgres_database(args.pg)
                created.append(name)
                return with_project(url)

            fresh: dict[str, Callable[[int], str]] = {"sqlite": fresh_sqlite}
            if not args.skip_pg:
                fresh["postgresql"] = fresh_postgresql
            compare_processes(source, tmp, args.repeat, fresh)
        finally:
            if admin is not None:
                for name in created:
                    drop_postgres_database(admin, name)
                admin.dispose()


if __name__ == "__main__":
    main()
