"""Sweep throughput, executor=local against executor=ray, on this machine.

    python tests/benchmarks/sweep_table.py [--runs 8] [--cpus 4] [--executors local ray]

Each executor runs the same grid of ``--runs`` seeds of the test solution ``constant`` (no work
in its phases, so the figure is the harness's own cost per run) under the smoke budget, with
``cpus`` logical CPUs to schedule on (smoke asks for 2 per run: ``--cpus 4`` runs two at once),
into a fresh results folder. The time includes planning, starting Ray and every run's MLflow
records: runs per minute end to end, as a user would see them.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

from overhead_table import register_fake_solutions, small_dataset  # sibling script
from rich.console import Console

from harness.engine.sweep.sweep import run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--cpus", type=int, default=4)
    parser.add_argument("--executors", nargs="+", default=["local", "ray"])
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        register_fake_solutions(Path(tmp) / "site")
        root = small_dataset(Path(tmp) / "data")
        for executor in options.executors:
            args = [
                "task=rsna-breast",
                "solution=constant",
                "budget=smoke",
                f"seed={','.join(map(str, range(options.runs)))}",
                f"data.root={root}",
                f"results_dir={Path(tmp) / executor}",
                f"executor={executor}",
                f"cpus={options.cpus}",
            ]
            started = time.perf_counter()
            result = run_sweep(args, Console(file=io.StringIO()))
            wall = time.perf_counter() - started
            ok = sum(state.status == "ok" for state in result.states)
            rows.append((executor, ok, wall))
    print(
        f"{options.runs} runs of a no-op solution, smoke budget, cpus={options.cpus}, "
        f"{os.cpu_count()} cores"
    )
    print()
    print("| executor | runs ok | wall s | s per run | runs per minute |")
    print("| --- | --- | --- | --- | --- |")
    for executor, ok, wall in rows:
        per_run, per_minute = wall / options.runs, 60 * ok / wall
        print(f"| {executor} | {ok} | {wall:.1f} | {per_run:.1f} | {per_minute:.1f} |")


if __name__ == "__main__":
    main()
