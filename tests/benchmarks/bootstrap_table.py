"""Bootstrap CI cost on rsna-ich-shaped holdouts: row selection against per-group sums.

    python tests/benchmarks/bootstrap_table.py [--rows 6000 60000 180000 727000]
        [--slices-per-study 35] [--max-old-rows 100000]

Builds answers and a noisy submission in the rsna-ich answers format directly (no DICOM): six
rows per slice (``ID_<hex>_<subtype>``, sorted by ID as ``answers_from_table`` sorts them) and
``--slices-per-study`` slices per study, about the Kaggle train set's average; the bootstrap
resamples studies. A last row at the largest size has one slice per study, the most groups
such a holdout can have (answers without ``StudyInstanceUID`` are grouped by image).

Per size: the seconds of ``task.groups`` plus ``bootstrap_ci`` at 100 resamples on the
row-selection path (skipped above ``--max-old-rows``: ~20 s per 100k rows), and on the fast
path (``statistics=task.bootstrap_statistics``) at 100 and 1000; the fast path's peak of
memory allocated (tracemalloc) at 1000, measured in a separate run so it does not slow the
timed one; and old/new at 100, with whether both paths gave the same interval.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from harness.kit.stats import Interval, bootstrap_ci
from tasks.rsna_ich import RsnaIchTask
from tasks.rsna_ich.layout import SUBTYPES


def ich_holdout(
    n_rows: int, slices_per_study: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, submission) of ``n_rows // 6`` slices, aligned row for row."""
    rng = np.random.default_rng(seed)
    n_slices = n_rows // len(SUBTYPES)
    images = np.char.add("ID_", np.char.zfill(np.char.mod("%x", np.arange(n_slices)), 9))
    studies = np.char.add("1.2.840.", (np.arange(n_slices) // slices_per_study).astype(str))
    answers = pd.DataFrame(
        {
            "ID": np.char.add(
                np.repeat(images, len(SUBTYPES)),
                np.tile(np.char.add("_", np.array(SUBTYPES)), n_slices),
            ),
            "Label": (rng.uniform(size=n_slices * len(SUBTYPES)) < 0.05).astype("int64"),
            "StudyInstanceUID": np.repeat(studies, len(SUBTYPES)),
        }
    ).sort_values("ID", ignore_index=True)
    noise = rng.uniform(0.0, 0.3, len(answers))
    submission = answers[["ID"]].assign(Label=np.abs(answers["Label"] - noise))
    return answers, submission


def timed(run: Callable[[], Interval]) -> tuple[float, Interval]:
    started = time.perf_counter()
    interval = run()
    return time.perf_counter() - started, interval


def ci(
    task: RsnaIchTask, answers: pd.DataFrame, submission: pd.DataFrame, n: int, fast: bool
) -> Callable[[], Interval]:
    """What harness.engine.scoring does after validation: the groups, then the interval."""
    return lambda: bootstrap_ci(
        task.score,
        submission,
        answers,
        task.groups(answers),
        n=n,
        seed=0,
        statistics=task.bootstrap_statistics if fast else None,
    )


def peak_mib(run: Callable[[], Interval]) -> float:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", type=int, default=[6000, 60000, 180000, 727000])
    parser.add_argument("--slices-per-study", type=int, default=35)
    parser.add_argument("--max-old-rows", type=int, default=100_000)
    args = parser.parse_args()
    task = RsnaIchTask()
    cases = [(rows, args.slices_per_study) for rows in args.rows] + [(max(args.rows), 1)]
    print(
        "| rows | slices/study | groups | old s (100) | new s (100) | new s (1000) "
        "| new peak MiB (1000) | old/new (100) | same CI |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rows, per_study in cases:
        answers, submission = ich_holdout(rows, per_study)
        groups = len(set(task.groups(answers)))
        new_100, fast = timed(ci(task, answers, submission, 100, fast=True))
        new_1000, _ = timed(ci(task, answers, submission, 1000, fast=True))
        peak = peak_mib(ci(task, answers, submission, 1000, fast=True))
        old, ratio, same = "skipped", "-", "-"
        if rows <= args.max_old_rows:
            old_100, reference = timed(ci(task, answers, submission, 100, fast=False))
            old, ratio = f"{old_100:.2f}", f"{old_100 / new_100:.0f}x"
            same = (
                "yes"
                if np.allclose(
                    [fast.low, fast.high], [reference.low, reference.high], rtol=0, atol=1e-12
                )
                else "NO"
            )
        print(
            f"| {len(answers)} | {per_study} | {groups} | {old} | {new_100:.2f} | {new_1000:.2f} "
            f"| {peak:.0f} | {ratio} | {same} |"
        )


if __name__ == "__main__":
    main()
