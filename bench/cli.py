"""CLI start-up benchmark: how long light `annotary` commands take, process start to exit.

Each command runs `--runs` times as a new process (the console script of this
virtual environment); the median wall time is printed next to two yardsticks
measured in the same run: `python -c pass` (the interpreter alone) and
`python -c "import typer"` (the CLI framework alone). Target: every light
command under 0.3 s.

The commands: `annotary --help`, `init DIR --force`, `validate FILE`,
`agreement --help`, `remote projects` without a token (the module, httpx and
the error path, no network), `users add --help`, `qa report --help` and
`import --help`.

    python bench/cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ANNOTARY = str(Path(sys.executable).with_name("annotary"))
TARGET = 0.3


def timed_run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds from process start to exit, and the CPU seconds (user + system) it used.

    Output is discarded and the exit status ignored. CPU time varies less than
    wall time when other programs share the machine.
    """
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = 0  # reaped by wait4 above
    return wall, usage.ru_utime + usage.ru_stime


def median_time(args: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds over `runs` runs, after one run to warm the file cache."""
    timed_run(args, cwd)
    runs_timed = [timed_run(args, cwd) for _ in range(runs)]
    return (
        statistics.median(wall for wall, _ in runs_timed),
        statistics.median(cpu for _, cpu in runs_timed),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        subprocess.run([ANNOTARY, "init", "project"], cwd=work, capture_output=True, check=True)
        commands = [
            ["--help"],
            ["init", "project", "--force"],
            ["validate", "project/project.yaml"],
            ["agreement", "--help"],
            ["remote", "projects"],
            ["users", "add", "--help"],
            ["qa", "report", "--help"],
            ["import", "--help"],
        ]
        python = median_time([sys.executable, "-c", "pass"], work, args.runs)
        typer = median_time([sys.executable, "-c", "import typer"], work, args.runs)
        timed = [
            (command, median_time([ANNOTARY, *command], work, args.runs)) for command in commands
        ]
    print(f"median of {args.runs} runs; wall seconds (target < {TARGET} s) and CPU seconds")
    print(f"{'command':<40} {'wall':>6} {'cpu':>6}  {'wall/python':>11} {'wall/typer':>10}")
    yardsticks = [("python -c pass", python), ('python -c "import typer"', typer)]
    for name, (wall, cpu) in yardsticks:
        print(
            f"{name:<40} {wall:6.3f} {cpu:6.3f}  {wall / python[0]:10.1f}x {wall / typer[0]:9.2f}x"
        )
    for command, (wall, cpu) in timed:
        name = "annotary " + " ".join(command)
        verdict = "ok" if wall < TARGET else "SLOW"
        print(
            f"{name:<40} {wall:6.3f} {cpu:6.3f}  {wall / python[0]:10.1f}x "
            f"{wall / typer[0]:9.2f}x  {verdict}"
        )


if __name__ == "__main__":
    main()
