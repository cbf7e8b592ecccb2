"""Queue benchmark: next-task latency and submit throughput through a real server.

Fixed workload: a project with 100,000 items (overlap 3, gold rate 5%, 5,000 gold
items), imported into a fresh SQLite file and a fresh PostgreSQL database. For
each database an `annotary serve` process is started (SQLite: 1 worker;
PostgreSQL: 2 workers) and driven over HTTP by annotators that each loop
`next task` -> `submit` with their own API token:

- 1 client:   1,000 cycles;
- 32 clients: 100 cycles each (3,200 in all), all at once (asyncio, with a
  minimal keep-alive HTTP client so that the load generator stays light).

Prints next-task latency p50/p95/p99 (ms) and submits per second (wall clock).
Targets on a 2-core machine: next-task p99 < 25 ms (SQLite, 1 client),
< 100 ms (PostgreSQL, 32 clients, 2 workers); submit >= 300/s on PostgreSQL.

Then "next task while a 100k import runs": on the same database and a fresh
server, 4 annotators loop next task -> submit, first for 3 s alone, then while
`annotary import` of 100,000 new rows runs in its own process, as a manager
would run it (default options: the file is checked, then written in batches).
Prints next-task p50/p95/p99 and max over the import's run (process start to
exit) and, for comparison, alone. Target: p99 < 50 ms on SQLite and
PostgreSQL.

    python bench/queue.py [--items N] [--skip-pg] [--skip-import-case]
        [--import-rows N] [--import-clients N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import os
import sys

# This file would shadow the standard library's `queue` module for any script
# run from this folder (it comes first on sys.path); take the folder off it.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import asyncio
import random
import statistics
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
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database
from annotary.testing import live_server

PROJECT = """
name: bench
objective: {use_case: classification}
schema:
  fields:
    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}
    - {name: topic, kind: labels, labels: [billing, delivery, product, other], required: false}
guidelines: Benchmark project.
workflow: {overlap: 3, gold_rate: 0.05, lease_timeout: 15m}
"""
LABELS = ["positive", "neutral", "negative"]
CLIENTS = 32


def prepare(url: str, items: int, tmp: Path) -> list[str]:
    """Project, items and 33 annotators with tokens; returns the tokens."""
    db = open_database(url)
    try:
        create_project(db, parse_project(PROJECT, "bench.yaml"))
        rng = random.Random(0)
        gold = items // 20
        source = tmp / "items.jsonl"
        with source.open("wb") as out:
            for i in range(items):
                row: dict[str, object] = {"text": f"item {i} " + "lorem ipsum " * 15}
                if i < gold:
                    row["gold"] = {"sentiment": rng.choice(LABELS)}
                out.write(orjson.dumps(row) + b"\n")
        import_items(db, "bench", source, ImportOptions())
        tokens = []
        for n in range(CLIENTS + 1):
            user_id = add_user(db, NewUser(f"b{n}", None, project="bench", role="annotator"))
            tokens.append(create_token(db, Actor(user_id, f"b{n}"), "bench")[0])
        return tokens
    finally:
        db.dispose()


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client over one asyncio connection.

    httpx costs about 1 ms of CPU per request; on a 2-core machine that shares
    its cores with the server and the database, the load generator alone would
    eat most of the capacity being measured (an empty FastAPI endpoint served
    ~950 requests/s to 32 httpx clients and ~3,400 to this client). The requests
    are the same; only the measuring tool is lighter.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        self.writer.write(head + self.auth + b"\r\n" + body)
        await self.writer.drain()
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def annotate(base: str, token: str, cycles: int, seed: int) -> tuple[list[float], int]:
    """`cycles` next -> submit rounds; next-task latencies (s) and submits done."""
    rng = random.Random(seed)
    latencies: list[float] = []
    submitted = 0
    address = base.removeprefix("http://")
    host, _, port = address.partition(":")
    client = KeepAliveClient(host, int(port), token)
    try:
        for _ in range(cycles):
            started = time.perf_counter()
            status, body = await client.post("/api/v1/projects/bench/tasks/next")
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"next: {status} {body.decode()}")
            task = orjson.loads(body)
            answer = {"annotation": {"sentiment": rng.choice(LABELS)}, "time_spent_ms": 900}
            status, body = await client.post(
                f"/api/v1/tasks/{task['lease_id']}/submit", orjson.dumps(answer)
            )
            if status != 200:
                raise RuntimeError(f"submit: {status} {body.decode()}")
            submitted += 1
    finally:
        client.close()
    return latencies, submitted


async def run_clients(base: str, tokens: list[str], cycles: int) -> tuple[list[float], float]:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(annotate(base, token, cycles, n) for n, token in enumerate(tokens))
    )
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    submits = sum(n for _, n in results)
    return latencies, submits / elapsed


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] * 1000


def measure(label: str, url: str, workers: int, items: int, tmp: Path) -> list[str]:
    tokens = prepare(url, items, tmp)
    rows = []
    with live_server(url, workers=workers, timeout=120) as server:
        base = server.url
        for clients, cycles in ((1, 1000), (CLIENTS, 100)):
            chosen = tokens[:1] if clients == 1 else tokens[1:]
            asyncio.run(run_clients(base, chosen, 5))  # warm-up: connections, caches
            latencies, rate = asyncio.run(run_clients(base, chosen, cycles))
            rows.append(
                f"| {label} | {workers} | {clients} | {percentile(latencies, 50):.1f} | "
                f"{percentile(latencies, 95):.1f} | {percentile(latencies, 99):.1f} | "
                f"{rate:.0f} |"
            )
            print(rows[-1], flush=True)
    return rows


# -- next task while an import runs ---------------------------------------------------

IMPORT_HEADER = (
    "| database | workers | clients | alone p50 ms | alone p99 ms | during import p50 ms | "
    "p95 ms | p99 ms | max ms | samples | import s | import rows/s |"
)


def import_case_annotators(url: str, clients: int) -> list[str]:
    """Annotators of their own for the import case; returns their tokens."""
    db = open_database(url)
    try:
        tokens = []
        for n in range(clients):
            user_id = add_user(db, NewUser(f"imp{n}", None, project="bench", role="annotator"))
            tokens.append(create_token(db, Actor(user_id, f"imp{n}"), "bench")[0])
        return tokens
    finally:
        db.dispose()


def write_import_file(path: Path, rows: int) -> Path:
    with path.open("wb") as out:
        for i in range(rows):
            record = {"id": f"new-{i}", "text": f"imported row {i} " + "dolor sit amet " * 12}
            out.write(orjson.dumps(record) + b"\n")
    return path


async def annotate_while(
    base: str, token: str, seed: int, running: Callable[[], bool]
) -> list[tuple[float, float]]:
    """Loop next -> submit while `running()`; (start time, next-task latency) pairs."""
    rng = random.Random(seed)
    samples: list[tuple[float, float]] = []
    host, _, port = base.removeprefix("http://").partition(":")
    client = KeepAliveClient(host, int(port), token)
    try:
        while running():
            started = time.perf_counter()
            status, body = await client.post("/api/v1/projects/bench/tasks/next")
            samples.append((started, time.perf_counter() - started))
            if status != 200:
                raise RuntimeError(f"next: {status} {body.decode()}")
            lease = orjson.loads(body)["lease_id"]
            answer = {"annotation": {"sentiment": rng.choice(LABELS)}, "time_spent_ms": 900}
            status, body = await client.post(f"/api/v1/tasks/{lease}/submit", orjson.dumps(answer))
            if status != 200:
                raise RuntimeError(f"submit: {status} {body.decode()}")
    finally:
        client.close()
    return samples


def all_annotate_while(
    base: str, tokens: list[str], running: Callable[[], bool]
) -> list[tuple[float, float]]:
    async def together() -> list[list[tuple[float, float]]]:
        return await asyncio.gather(
            *(annotate_while(base, token, n, running) for n, token in enumerate(tokens))
        )

    return [sample for samples in asyncio.run(together()) for sample in samples]


def measure_during_import(
    label: str, url: str, workers: int, rows: int, clients: int, tmp: Path
) -> str:
    """Next-task latency alone, then while `annotary import` of `rows` rows runs."""
    tokens = import_case_annotators(url, clients)
    source = write_import_file(tmp / f"import-{label}.jsonl", rows)
    annotary = str(Path(sys.executable).with_name("annotary"))
    with live_server(url, workers=workers, timeout=120) as server:
        base = server.url
        all_annotate_while(base, tokens, lambda: False)  # connections only
        quiet_until = time.perf_counter() + 3
        alone = [
            lat
            for _, lat in all_annotate_while(
                base, tokens, lambda: time.perf_counter() < quiet_until
            )
        ]
        started = time.perf_counter()
        process = subprocess.Popen(
            [annotary, "import", "bench", str(source), "--db", url, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        samples = all_annotate_while(base, tokens, lambda: process.poll() is None)
        ended = time.perf_counter()
        out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"import failed: {err.decode()}")
    report = orjson.loads(out)
    during = [latency for _, latency in samples]
    took = ended - started
    return (
        f"| {label} | {workers} | {clients} | {percentile(alone, 50):.1f} | "
        f"{percentile(alone, 99):.1f} | {percentile(during, 50):.1f} | "
        f"{percentile(during, 95):.1f} | {percentile(during, 99):.1f} | "
        f"{max(during) * 1000:.0f} | {len(during)} | "
        f"{took:.1f} | {report['rows_read'] / took:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-import-case", action="store_true")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--import-clients", type=int, default=4)
    args = parser.parse_args()
    print("| database | workers | clients | next p50 ms | next p95 ms | next p99 ms | submits/s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite:///{Path(tmp) / 'queue.db'}", 1)]
        name = f"annotary_bench_{uuid.uuid4().hex[:10]}"
        admin = Database.from_url(args.pg)
        try:
            if not args.skip_pg:
                with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f"CREATE DATABASE {name}")
                databases.append(("PostgreSQL", args.pg.rsplit("/", 1)[0] + f"/{name}", 2))
            for label, url, workers in databases:
                measure(label, url, workers, args.items, Path(tmp))
            if args.skip_import_case:
                return
            print(f"\nnext task while a {args.import_rows:,}-row import runs:")
            print(IMPORT_HEADER)
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            for label, url, workers in databases:
                row = measure_during_import(
                    label, url, workers, args.import_rows, args.import_clients, Path(tmp)
                )
                print(row, flush=True)
        finally:
            if not args.skip_pg:
                with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
