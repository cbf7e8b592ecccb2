"""Agreement benchmark: `annotary agreement` on a 300,000 x 4 wide CSV, end to end.

Workload (seed 0): 300,000 units x 4 coders (1.2M cells) with a `unit` id
column; each unit has a true category, each coder gives it with probability
0.7 and another one at random otherwise, and 10% of the cells are empty
(missing). Two files of the same shape: `topics.csv` holds one of 5 words
(nominal labels), `ratings.csv` a rating 1-5 (numbers).

Timed, as the median of `--runs` runs of the `annotary` console script as a new
process (process start to printed value):

- alpha (nominal) on `topics.csv`: target < 1 s;
- alpha (interval) on `ratings.csv`;
- fleiss on `topics.csv`.

Yardsticks measured in the same run (same machine load): `python -c pass`
(interpreter start-up), and in this process `pyarrow.csv.read_csv` on
`topics.csv` and the reference package's `krippendorff.alpha` (Castro 2017)
on the same labels as a coders x units matrix (codes with NaN for missing).
The printed ratios are annotary's time over each yardstick.

    python bench/agreement.py [--units N] [--runs R]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

# bench/queue.py would shadow the standard library's `queue` (pyarrow imports it).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

ANNOTARY = str(Path(sys.executable).with_name("annotary"))
CODERS = 4
TOPICS = ["billing", "delivery", "product", "account", "other"]
MISSING = 0.10
AGREE = 0.7
TARGET = 1.0  # seconds, process start to printed value


def label_matrix(units: int, seed: int = 0) -> np.ndarray:
    """Units x coders category positions 0..4, -1 for a missing cell."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(TOPICS), units)
    noise = rng.integers(0, len(TOPICS), (units, CODERS))
    codes = np.where(rng.random((units, CODERS)) < AGREE, truth[:, None], noise)
    return np.where(rng.random((units, CODERS)) < MISSING, -1, codes)


def write_wide(path: Path, codes: np.ndarray, names: list[str]) -> Path:
    """The matrix as a wide CSV: `unit,c1..c4`, one row per unit, empty = missing."""
    cells = np.array(["", *names], dtype=object)[codes + 1]
    with path.open("w") as file:
        file.write("unit," + ",".join(f"c{c + 1}" for c in range(codes.shape[1])) + "\n")
        file.writelines(
            f"u{unit + 1}," + ",".join(row) + "\n" for unit, row in enumerate(cells.tolist())
        )
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds of one process from start to exit, its CPU seconds (user + system)
    and its stdout. CPU time varies less than wall time on a shared machine."""
    cpu_before, start = children_cpu(), time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return wall, cpu, done.stdout.strip()


def median_process(args: list[str], runs: int) -> tuple[float, float, str]:
    """Median wall and CPU seconds over `runs` runs, and the last run's output."""
    timings = [run_process(args) for _ in range(runs)]
    return (
        statistics.median(wall for wall, _, _ in timings),
        statistics.median(cpu for _, cpu, _ in timings),
        timings[-1][2],
    )


def median_call(runs: int, call: Callable[[], object]) -> tuple[float, float]:
    """Median wall and CPU seconds of an in-process call."""
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    codes = label_matrix(args.units)
    with tempfile.TemporaryDirectory() as folder:
        topics = write_wide(Path(folder) / "topics.csv", codes, TOPICS)
        ratings = write_wide(Path(folder) / "ratings.csv", codes, ["1", "2", "3", "4", "5"])
        print(
            f"workload: {args.units:,} units x {CODERS} coders ({codes.size:,} cells); "
            f"median of {args.runs} runs, wall and CPU (user + system) seconds"
        )
        python = median_process([sys.executable, "-c", "pass"], args.runs)[:2]
        cases = [
            ("alpha nominal, topics.csv", [str(topics), "--metric", "alpha"], TARGET),
            (
                "alpha interval, ratings.csv",
                [str(ratings), "--metric", "alpha", "--level", "interval"],
                None,
            ),
            ("fleiss, topics.csv", [str(topics), "--metric", "fleiss"], None),
        ]
        timed = [
            (name, target, median_process([ANNOTARY, "agreement", *case], args.runs))
            for name, case, target in cases
        ]

        import krippendorff
        import pyarrow.csv

        read_csv = median_call(args.runs, lambda: pyarrow.csv.read_csv(topics))
        reliability = np.where(codes >= 0, codes, np.nan).astype(np.float64).T
        reference = median_call(
            args.runs,
            lambda: krippendorff.alpha(
                reliability_data=reliability, level_of_measurement="nominal"
            ),
        )
    yardsticks = [
        ("python -c pass (process)", python),
        ("pyarrow.csv.read_csv(topics.csv) (in process)", read_csv),
        ("krippendorff.alpha, nominal (in process)", reference),
    ]
    print(f"{'measurement':<48} {'wall':>6} {'cpu':>6}")
    for name, (wall, cpu) in yardsticks:
        print(f"{name:<48} {wall:6.3f} {cpu:6.3f}")
    for name, target, (wall, cpu, out) in timed:
        verdict = (
            ""
            if target is None
            else f"  target < {target:g} s: {'met' if wall < target else 'NOT met'}"
        )
        print(f"{'annotary agreement, ' + name:<48} {wall:6.3f} {cpu:6.3f}{verdict}")
        print(f"    {out}")
        ratios = [wall / python[0], wall / read_csv[0], wall / reference[0]]
        print(
            f"    wall ratio to python -c pass {ratios[0]:.0f}x, to read_csv {ratios[1]:.1f}x, "
            f"to krippendorff.alpha {ratios[2]:.1f}x"
        )


if __name__ == "__main__":
    main()
