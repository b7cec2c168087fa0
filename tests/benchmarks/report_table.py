"""`harness report` time against the number of runs: stored scores reused vs re-scored.

    python tests/benchmarks/report_table.py [--runs 10 50 200] [--patients 200]

Makes the runs through the real runner (the test solution ``constant``, one seed a run, the
default 1000-resample CI) on a synthetic rsna-breast dataset of ``--patients`` patients, and
after each count in ``--runs`` times one report that reuses the scores each run kept in its
folder and one with ``rescore=True`` (every submission fetched from MLflow and scored again on
answers rebuilt from the data's DICOM headers), in the same process, back to back.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from overhead_table import register_fake_solutions

from harness.engine.config import parse_run_overrides
from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task
from harness.engine.report import build_report
from harness.engine.runner import execute


def _report_s(uri: str, out: Path, *, rescore: bool) -> float:
    started = time.perf_counter()
    build_report(uri, out, rescore=rescore)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--patients", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        base = Path(tmp)
        register_fake_solutions(base / "site")
        task = load_task("rsna-breast")
        options = {"n_patients": args.patients, "height": 48, "width": 40, "prevalence": 0.3}
        root = synthesize(task, base / "data", synth_config(task, options), seed=0)
        results = base / "results"
        uri = f"sqlite:///{results / 'mlflow.db'}"
        made = 0
        print("| runs | report, stored scores (s) | report, rescore=true (s) | ratio |")
        print("| ---: | ---: | ---: | ---: |")
        for target in sorted(args.runs):
            while made < target:
                cfg, budget, solution_args = parse_run_overrides(
                    [
                        "task=rsna-breast",
                        "solution=constant",
                        "budget=smoke",
                        f"seed={made}",
                        f"results_dir={results}",
                        f"data.root={root}",
                    ]
                )
                record = execute(cfg, budget, solution_args, progress=lambda _msg: None)
                assert record.status == "ok", record.error
                made += 1
            stored = _report_s(uri, base / "out", rescore=False)
            rescored = _report_s(uri, base / "out", rescore=True)
            print(f"| {made} | {stored:.2f} | {rescored:.2f} | {rescored / stored:.1f}x |")


if __name__ == "__main__":
    main()
