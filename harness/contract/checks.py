"""The checks on a contract's runs: each takes what the runs left and returns one finding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.contract.report import CheckResult
from harness.engine.record import ARTIFACTS_DIR, LOG_FILE, SUBMISSION_FILE, RunRecord


@dataclass
class ContractRun:
    """One run of the solution under the contract, and what the contract saw around it."""

    record: RunRecord
    seconds: float
    survivors: list[str]
    """Its processes that outlived it (killed since)."""
    labels_hidden: bool
    """The label files were out of the data root before its first phase started."""

    @property
    def submission(self) -> Path:
        return Path(self.record.run_dir) / SUBMISSION_FILE

    def where(self) -> str:
        phase = f" in phase {self.record.failed_phase}" if self.record.failed_phase else ""
        return f"status {self.record.status}{phase}: {self.record.error}"


def check_completes(runs: list[ContractRun]) -> CheckResult:
    name = "completes"
    for i, run in enumerate(runs, 1):
        if run.record.status not in ("ok", "invalid_submission"):
            log_file = Path(run.record.run_dir) / LOG_FILE
            return CheckResult(name, "fail", f"run {i}: {run.where()} (log: {log_file})")
    times = " and ".join(f"{run.seconds:.1f} s" for run in runs)
    seed = runs[0].record.seed
    return CheckResult(name, "pass", f"{len(runs)} runs with seed {seed} finished ({times})")


def check_valid(runs: list[ContractRun]) -> CheckResult:
    name = "valid submission"
    for run in runs:
        if run.record.status == "invalid_submission":
            return CheckResult(name, "fail", run.record.error)
    if any(run.record.status != "ok" for run in runs):
        return CheckResult(name, "skip", "no submission (the run did not complete)")
    cases = runs[0].record.n_holdout_cases
    return CheckResult(name, "pass", f"the task's validator accepted all {cases} rows")


def check_deterministic(runs: list[ContractRun]) -> CheckResult:
    name = "deterministic"
    if len(runs) < 2 or not all(run.submission.is_file() for run in runs):
        return CheckResult(name, "skip", "needs two completed runs")
    first, second = (pd.read_csv(run.submission) for run in runs)
    try:
        pd.testing.assert_frame_equal(first, second, check_exact=True)
    except AssertionError as exc:
        difference = " ".join(str(exc).split())
        detail = (
            f"two runs with seed {runs[0].record.seed} submitted different predictions: "
            f"{difference[:400]}; seed every random choice with ctx.seed and keep work "
            "independent of timing"
        )
        return CheckResult(name, "fail", detail)
    detail = f"run 2 (warm cache) reproduced run 1's {len(first)} rows exactly"
    return CheckResult(name, "pass", detail)


def check_fresh_predict(runs: list[ContractRun], solution: str) -> CheckResult:
    """Predict ran in a fresh, offline process from what fit saved, as on Kaggle."""
    name = "predicts from saved artefacts"
    for i, run in enumerate(runs, 1):
        if run.record.fresh_predict and run.record.failed_phase == "predict":
            detail = (
                f"run {i}: {solution} could not predict in a fresh process, offline, from what "
                f"its fit saved ({run.where()})"
            )
            return CheckResult(name, "fail", detail)
    if any(run.record.status != "ok" for run in runs):
        return CheckResult(name, "skip", "the runs did not complete")
    folder = Path(runs[0].record.run_dir) / ARTIFACTS_DIR
    size_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    detail = (
        f"predict ran in a fresh process, offline, from the {size_mb:.2f} MB fit saved to "
        f"{ARTIFACTS_DIR}/ (Solution.save/load)"
    )
    return CheckResult(name, "pass", detail)


def check_within_budget(runs: list[ContractRun]) -> CheckResult:
    name = "within budget"
    for run in runs:
        if run.record.status == "timeout":
            return CheckResult(name, "fail", run.record.error)
    phases = runs[0].record.phases
    if not phases:
        return CheckResult(name, "skip", "no phase finished")
    limits = runs[0].record.budget
    used = ", ".join(f"{p} {s.wall_s:.1f}/{limits[f'{p}_s']:g} s" for p, s in phases.items())
    return CheckResult(name, "pass", used)


def check_stops(tight: ContractRun | None, runs: list[ContractRun]) -> CheckResult:
    """``tight`` ran with a short fit limit; no run of ``runs`` may leave a process behind."""
    name = "stops when told"
    survivors = [survivor for run in runs for survivor in run.survivors]
    if survivors:
        detail = (
            f"processes outlived their run (killed by the contract): {', '.join(survivors)}; "
            "stop every worker or server the solution starts before its phase returns"
        )
        return CheckResult(name, "fail", detail)
    if tight is None:
        return CheckResult(name, "skip", "the contract runs did not complete")
    limit = f"{tight.record.budget['fit_s']:g} s fit limit"
    status = tight.record.status
    if status == "ok":
        return CheckResult(name, "pass", f"finished inside a {limit}; no process outlived a run")
    if status == "timeout":
        return CheckResult(name, "pass", f"stopped at a {limit} (status timeout); no process left")
    detail = (
        f"with a {limit} the run ended with {tight.where()}; "
        "a solution that cuts its work short must still predict"
    )
    return CheckResult(name, "fail", detail)


def check_labels(runs: list[ContractRun], label_files: list[Path]) -> CheckResult:
    name = "no holdout labels"
    names = ", ".join(str(path) for path in label_files) or "no file"
    for run in runs:
        hit = next((p for p in label_files if p.name in run.record.error), None)
        if hit is not None:
            detail = (
                f"the run failed opening {hit}, which holds labels ({run.where()}); "
                "learn from the training view's label columns only"
            )
            return CheckResult(name, "fail", detail)
    if any(run.record.status != "ok" for run in runs):
        return CheckResult(name, "skip", "the runs did not complete")
    if not all(run.labels_hidden for run in runs):
        return CheckResult(name, "skip", f"{names} were still in place when a phase started")
    detail = (
        f"ran with {names} moved out of the data root during its phases; "
        "the holdout answers never enter its process"
    )
    return CheckResult(name, "pass", detail)


def check_writes(stray: list[str]) -> CheckResult:
    """``stray``: the changes found outside the places a run may write."""
    name = "writes only its run folder"
    if stray:
        shown = ", ".join(stray[:8]) + (f" and {len(stray) - 8} more" if len(stray) > 8 else "")
        detail = (
            f"changed outside ctx.run_dir and ctx.cache_dir: {shown} (paths relative to the "
            "contract's folder: cwd/ was the working directory, tmp/ the TMPDIR)"
        )
        return CheckResult(name, "fail", detail)
    detail = "nothing changed in the data, the results, the working directory or TMPDIR"
    return CheckResult(name, "pass", detail)
