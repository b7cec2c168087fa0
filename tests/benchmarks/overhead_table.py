"""Harness overhead per run: what a run costs beyond the solution's own work.

    python tests/benchmarks/overhead_table.py [--repeat 5] [--reference-s 60]

Runs the test solution ``constant`` (its phases do nothing) through
``harness.engine.runner.execute`` on a small synthetic rsna-breast dataset under the smoke budget,
``--repeat`` times after one warm-up run, and splits each run's wall time (minus the phases' own)
into the runner's steps, timed by wrapping its functions and from its progress lines: set-up in the
parent (plug-ins, data, split, MLflow run created), the child's spawn and imports (torch included)
until ``prepare`` starts, phase reports, the child's exit, scoring with the default 1000-resample
bootstrap CI, and the record and MLflow artifacts written at the end. The CPU seconds (of this
process and the run's child, the phases' own taken out) do not grow when other processes load the
machine, as wall seconds do.

A sleepy run (one 10 s fit) then gives the parent's CPU time while a phase runs: supervision
and resource sampling every 0.2 s. "share" is the overhead over a ``--reference-s`` run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.engine import runner
from harness.engine.config import parse_run_overrides
from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task

FAKE_SOLUTIONS = Path(__file__).parents[1] / "harness" / "fake_solutions.py"


def register_fake_solutions(site: Path) -> None:
    """The test solutions as an installed distribution on sys.path and PYTHONPATH."""
    dist = site / "harness_bench_fakes-0.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: harness-bench-fakes\n")
    entries = {
        "rsna-breast/constant": "ConstantSolution",
        "rsna-breast/sleepy": "SleepySolution",
        "rsna-ich/constant": "IchConstantSolution",
    }
    lines = "\n".join(f"{name} = fake_solutions:{cls}" for name, cls in entries.items())
    (dist / "entry_points.txt").write_text(f"[harness.solutions]\n{lines}\n")
    shutil.copy(FAKE_SOLUTIONS, site / FAKE_SOLUTIONS.name)
    sys.path.insert(0, str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p
    )
    importlib.invalidate_caches()


def small_dataset(out: Path) -> Path:
    """The contract-sized rsna-breast data: 16 patients at 48x40."""
    task = load_task("rsna-breast")
    config = synth_config(task, {"n_patients": 16, "height": 48, "width": 40, "prevalence": 0.5})
    return synthesize(task, out, config, seed=0)


@contextmanager
def _spans(marks: dict[str, tuple[float, float]]) -> Iterator[None]:
    """Time the runner's own steps by wrapping them for the duration of one run."""
    originals = {
        name: getattr(runner, name) for name in ("_supervise", "score_submission", "_finalise")
    }

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                marks[name] = (started, time.perf_counter())

        return wrapper

    for name, function in originals.items():
        setattr(runner, name, timed(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(runner, name, function)


def timed_run(args: list[str]) -> dict[str, float]:
    """Seconds of each overhead segment of one run."""
    lines: list[tuple[float, str]] = []
    spans: dict[str, tuple[float, float]] = {}
    cfg, budget, solution_args = parse_run_overrides(args)
    cpu_before = _cpu_s()
    started = time.perf_counter()
    with _spans(spans):
        record = runner.execute(
            cfg, budget, solution_args, lambda msg: lines.append((time.perf_counter(), msg))
        )
    ended = time.perf_counter()
    cpu = _cpu_s() - cpu_before - sum(p.cpu_s for p in record.phases.values())
    assert record.status == "ok", record.error
    first_phase = next(t for t, msg in lines if msg.startswith("prepare started"))
    last_phase = next(t for t, msg in lines if msg.startswith("predict finished"))
    phases = sum(p.wall_s for p in record.phases.values())
    supervise, score, finalise = spans["_supervise"], spans["score_submission"], spans["_finalise"]
    return {
        "parent set-up (plug-ins, data, split, MLflow run)": supervise[0] - started,
        "child spawn and imports": first_phase - supervise[0],
        "phase reports": (last_phase - first_phase) - phases,
        "child exit": supervise[1] - last_phase,
        "scoring with bootstrap CI": score[1] - score[0],
        "record and MLflow finish (artifacts)": finalise[1] - finalise[0],
        "total": ended - started - phases,
        "total CPU seconds (this process and the child)": cpu,
    }


def _cpu_s() -> float:
    """CPU seconds of this process (all threads) and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def monitoring_cpu_share(args: list[str], fit_s: float) -> float:
    """This process's CPU seconds per wall second while the child sleeps in fit."""
    windows: list[tuple[float, float]] = []

    def mark(msg: str) -> None:
        if msg.startswith(("fit started", "fit finished")):
            windows.append((time.perf_counter(), time.process_time()))

    cfg, budget, solution_args = parse_run_overrides([*args, f"solution.sleep_s={fit_s}"])
    runner.execute(cfg, budget, solution_args, mark)
    (wall0, cpu0), (wall1, cpu1) = windows
    return (cpu1 - cpu0) / (wall1 - wall0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reference-s", type=float, default=60.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        register_fake_solutions(Path(tmp) / "site")
        root = small_dataset(Path(tmp) / "data")
        common = [
            "task=rsna-breast",
            "budget=smoke",
            f"data.root={root}",
            f"results_dir={Path(tmp) / 'results'}",
        ]
        timed_run([*common, "solution=constant", "seed=99"])  # warm-up: creates the store
        runs = [
            timed_run([*common, "solution=constant", f"seed={seed}"])
            for seed in range(options.repeat)
        ]
        cpu_share = monitoring_cpu_share([*common, "solution=sleepy"], fit_s=10.0)
    print(f"harness overhead per run, median of {options.repeat} (min-max), {os.cpu_count()} cores")
    print()
    print(f"| segment | seconds | share of a {options.reference_s:.0f} s run |")
    print("| --- | --- | --- |")
    for segment in runs[0]:
        values = [run[segment] for run in runs]
        median = statistics.median(values)
        print(
            f"| {segment} | {median:.2f} ({min(values):.2f}-{max(values):.2f}) "
            f"| {100 * median / options.reference_s:.1f}% |"
        )
    print(f"| parent CPU while a phase runs | {cpu_share:.3f} CPU-s per s | - |")


if __name__ == "__main__":
    main()
