"""QA benchmark: agreement statistics and the full project QA report at 1M annotations.

Workload (seed 0): 300,000 items, each labelled by 3 or 4 of 50 annotators
(70% get 4), with 10% of those annotations missing at random: about 1M
annotations of one `label` field with 5 labels. Annotators are right with their
own probability (0.55 to 0.95), else pick another label at random; 1% of the
items are gold, every item has a final label, annotators carry a self-reported
`region` (one group below the k-anonymity threshold) and items a `source`.

Timed, each on its own (best of `--repeat`):

- Krippendorff's alpha (nominal) on the 300,000 x 50 codes matrix, and from the
  long arrays through a units x slots matrix (`core.quality.units`, what the
  report does): target < 1 s;
- Fleiss' kappa on the same two layouts: target < 0.5 s;
- Dawid-Skene (EM, to convergence or 100 rounds) on the long arrays: target < 10 s;
- `qa_report` on a SQLite file holding the project: target < 15 s. Items are
  imported with `import_items` and annotations inserted with one executemany of
  raw SQL; neither is timed.

    python bench/qa.py [--items N] [--repeat R] [--profile]

`--profile` also prints where the report spends its time (cProfile, top 25).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import select, update

from annotary.core.aggregation import DawidSkene
from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.core.quality import fleiss_kappa, krippendorff_alpha
from annotary.core.quality.units import slot_matrix
from annotary.services.database import open_database
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.qa.report import qa_report
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Item, Project, User

PROJECT = """
name: bench
objective: {use_case: classification}
schema:
  fields:
    - {name: topic, kind: label, labels: [billing, delivery, product, account, other]}
guidelines: Benchmark project.
workflow: {overlap: 4}
"""
LABELS = ["billing", "delivery", "product", "account", "other"]
ANNOTATORS = 50
MISSING = 0.10
GOLD_SHARE = 0.01
DAYS = 60
REGIONS = ["eu", "na", "latam", "apac", "africa"]


class Workload:
    """The annotations as long arrays of codes (item, annotator, label) plus times."""

    def __init__(self, items: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.items = items
        self.truth = rng.integers(0, len(LABELS), items)
        per_item = np.where(rng.random(items) < 0.7, 4, 3)
        # The first 3 or 4 of a random permutation of the annotators, per item.
        chosen = np.argsort(rng.random((items, ANNOTATORS)), axis=1)[:, :4]
        slot = np.arange(4)[None, :] < per_item[:, None]
        kept = slot & (rng.random((items, 4)) >= MISSING)
        self.item = np.broadcast_to(np.arange(items)[:, None], (items, 4))[kept]
        self.annotator = chosen[kept].astype(np.int64)
        skill = rng.uniform(0.55, 0.95, ANNOTATORS)
        right = rng.random(self.item.size) < skill[self.annotator]
        other = (self.truth[self.item] + rng.integers(1, len(LABELS), self.item.size)) % len(LABELS)
        self.label = np.where(right, self.truth[self.item], other).astype(np.int64)
        self.seconds = rng.gamma(4.0, 3.0, self.item.size)
        self.offset = rng.uniform(0, DAYS * 86_400, self.item.size)

    def matrix(self) -> np.ndarray:
        codes = np.full((self.items, ANNOTATORS), -1, dtype=np.int64)
        codes[self.item, self.annotator] = self.label
        return codes


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def build_database(work: Workload, folder: Path) -> Database:
    """The project in a fresh SQLite file: items imported, annotations bulk-inserted."""
    db = open_database(str(folder / "qa.db"))
    create_project(db, parse_project(PROJECT, "bench.yaml"))
    source = folder / "items.jsonl"
    gold = np.random.default_rng(1).random(work.items) < GOLD_SHARE
    with source.open("wb") as out:
        for i in range(work.items):
            row: dict[str, object] = {
                "id": f"i{i}",
                "text": f"ticket {i}: the customer writes about their order and the service",
                "metadata": {"source": ["email", "chat", "phone", "form"][i % 4]},
            }
            if gold[i]:
                row["gold"] = {"topic": LABELS[work.truth[i]]}
            out.write(orjson.dumps(row) + b"\n")
    import_items(db, "bench", source, ImportOptions())
    user_ids = [add_user(db, NewUser(f"ann{a:02d}", None)) for a in range(ANNOTATORS)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with write_transaction(db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == "bench"))
        item_ids = np.array(
            session.scalars(
                select(Item.id).where(Item.project_id == project_id).order_by(Item.id)
            ).all()
        )
        for a, user_id in enumerate(user_ids):
            region = "oceania" if a == 0 else REGIONS[a % len(REGIONS)]
            session.execute(
                update(User).where(User.id == user_id).values(attributes={"region": region})
            )
        payloads = [orjson.dumps({"topic": label}).decode() for label in LABELS]
        rows = [
            (
                int(item_ids[i]),
                user_ids[a],
                project_id,
                payloads[label],
                int(ms),
                (start + timedelta(seconds=float(t))).strftime("%Y-%m-%d %H:%M:%S.%f"),
            )
            for i, a, label, ms, t in zip(
                work.item.tolist(),
                work.annotator.tolist(),
                work.label.tolist(),
                (work.seconds * 1000).tolist(),
                work.offset.tolist(),
                strict=True,
            )
        ]
        session.connection().exec_driver_sql(
            "INSERT INTO annotations (item_id, user_id, project_id, payload, schema_version, "
            "guideline_version, time_spent_ms, flags, created_at) "
            "VALUES (?, ?, ?, ?, 1, 1, ?, '[]', ?)",
            rows,
        )
        finals = [
            (int(item_ids[i]), payloads[work.truth[i]], 0.5 + (i % 50) / 100, 0.75)
            for i in range(work.items)
        ]
        session.connection().exec_driver_sql(
            "INSERT INTO final_labels (item_id, payload, method, confidence, agreement, "
            "created_at) VALUES (?, ?, 'majority', ?, ?, '2025-03-01 00:00:00')",
            finals,
        )
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    work = Workload(args.items)
    matrix = work.matrix()
    n = work.item.size
    print(f"workload: {args.items:,} items, {ANNOTATORS} annotators, {n:,} annotations")
    seconds = best_of(args.repeat, lambda: krippendorff_alpha(matrix, "nominal"))
    print(f"krippendorff alpha, {args.items:,} x {ANNOTATORS} codes: {seconds:.3f} s (< 1 s)")
    seconds = best_of(
        args.repeat, lambda: krippendorff_alpha(slot_matrix(work.item, work.label, -1), "nominal")
    )
    print(f"krippendorff alpha, long arrays via slot matrix: {seconds:.3f} s (< 1 s)")
    seconds = best_of(args.repeat, lambda: fleiss_kappa(matrix))
    print(f"fleiss kappa, {args.items:,} x {ANNOTATORS} codes: {seconds:.3f} s (< 0.5 s)")
    seconds = best_of(args.repeat, lambda: fleiss_kappa(slot_matrix(work.item, work.label, -1)))
    print(f"fleiss kappa, long arrays via slot matrix: {seconds:.3f} s (< 0.5 s)")
    seconds = best_of(
        args.repeat,
        lambda: DawidSkene().fit(
            work.item, work.annotator, work.label, args.items, ANNOTATORS, len(LABELS)
        ),
    )
    print(f"dawid-skene, {n:,} labels: {seconds:.3f} s (< 10 s)")

    with tempfile.TemporaryDirectory(prefix="annotary-bench-qa-") as folder:
        db = build_database(work, Path(folder))
        try:
            seconds = best_of(args.repeat, lambda: qa_report(db, "bench"))
            print(f"qa report, SQLite, {n:,} annotations: {seconds:.3f} s (< 15 s)")
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(qa_report, db, "bench")
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        finally:
            db.dispose()


if __name__ == "__main__":
    main()
