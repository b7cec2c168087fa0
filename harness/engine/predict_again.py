"""``harness predict run=<run> data=<folder>``: a finished run's saved solution, on other data.

Kaggle scores a code competition by running the notebook's predict step, with the internet
off, on test images it never showed: this replays that. The source run's fit saved what predict
needs (``Solution.save``, into its artefacts folder: runs with ``fresh_predict``, the default of
the Kaggle budgets); a fresh process loads it and predicts another dataset in the task's
layout: a new synthetic seed, or a Kaggle download. The result is a run like any other (its
own folder, record, MLflow run, score where the data has labels, timings and hidden-test
projection), linked to its source by ``source_run_id``.

Which rows are predicted (``rows=``): on data the source did not train on, all of them; on the
source's own data only the split's holdout (its other rows trained the model), which gives the
source's own score again; ``rows=test`` reads the competition's unlabelled test folder
(``Task.load_unlabelled``, e.g. rsna-breast's ``test.csv`` and ``test_images/``), predicted
and timed, not scored.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api import Budget, HarnessError, Solution
from harness.engine.budgets import BUDGETS, get_budget
from harness.engine.config import (
    ConfigError,
    DataConfig,
    PredictIsolation,
    RunConfig,
    at_least,
    merge_overrides,
)
from harness.engine.datasets import resolve_data
from harness.engine.record import ARTIFACTS_DIR, RECORD_FILE, RunRecord
from harness.engine.registry import load_solution, load_task
from harness.engine.rescore import find_run
from harness.engine.runner import RunPlan, select_device

ROWS = ("auto", "holdout", "all", "test")
_RUN_KEYS = ("results_dir", "tracking_uri", "offline", "bootstrap", "offline_predict")
"""The run keys ``harness predict`` takes as they are; the others come from the source run."""


@dataclass
class PredictArgs:
    """``harness predict``'s arguments; ``data=<folder>`` is short for ``data.root=<folder>``."""

    run: str
    """The source run: its id under ``results_dir``, or its folder."""
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``data.*`` keys over the source run's data (``data.synth_seed=N``: a new synthetic seed
    of it; ``data.root=DIR``: a download in the task's layout)."""
    rows: str = "auto"
    """``holdout`` or ``all``; ``auto``: the holdout on the source's own data, else all;
    ``test``: the competition's unlabelled test folder (predicted and timed, not scored)."""
    budget: str | None = None
    """Default: the source run's budget."""
    offline_predict: bool = True
    """No network in the predict process, as on Kaggle."""
    results_dir: str = "results"
    tracking_uri: str | None = None
    offline: bool = False
    bootstrap: int = at_least(0, 1000)


def parse_predict_args(args: list[str]) -> PredictArgs:
    """The arguments, with ``data=<folder>`` read as ``data.root=<folder>``."""
    args = [f"data.root={a[len('data=') :]}" if a.startswith("data=") else a for a in args]
    parsed = merge_overrides(PredictArgs, [], args, where="")
    assert isinstance(parsed, PredictArgs)
    if parsed.rows not in ROWS:
        raise ConfigError(f"bad value for rows: {parsed.rows!r}; give one of {', '.join(ROWS)}")
    merge_overrides(DataConfig, [parsed.data], [], where="data")  # a misspelt key, named now
    return parsed


def _source(args: PredictArgs) -> tuple[RunRecord, type[Solution]]:
    """The source run's record and solution class, refused unless its fit saved a solution
    that loads here."""
    run_dir = find_run(args.run, Path(args.results_dir))
    source = RunRecord.load(run_dir / RECORD_FILE)
    saved = run_dir / ARTIFACTS_DIR
    if source.source_run_id:
        raise HarnessError(
            f"run {source.run_id} is itself a harness predict run and trained nothing; predict "
            f"from its source, run={source.source_run_id}"
        )
    if "fit" not in source.phases or not saved.is_dir() or not any(saved.iterdir()):
        how = (
            "its fit did not finish"
            if "fit" not in source.phases
            else "it predicted in its fit process (fresh_predict=false), so nothing was saved"
        )
        raise HarnessError(
            f"run {source.run_id} has no saved solution in {saved} ({how}); run it again with "
            "fresh_predict=true (the default of the kaggle-* and gpu-full budgets)"
        )
    solution_cls = load_solution(source.task, source.solution)
    if solution_cls.version != source.solution_version:
        raise HarnessError(
            f"run {source.run_id} saved {source.solution} {source.solution_version}; the "
            f"installed version is {solution_cls.version}, which may not load it: install "
            f"{source.solution_version} again, or make a new run"
        )
    return source, solution_cls


def _data(args: PredictArgs, source: RunRecord) -> DataConfig:
    """The source's data with the given ``data.*`` keys over it.

    A synthetic option or seed without ``data.root`` asks for synthetic data even where the
    source ran on a download.
    """
    base = dict(source.config.get("run", {}).get("data", {}))
    if args.data and "root" not in args.data:
        base["root"] = None
    merged = merge_overrides(DataConfig, [base, args.data], [], where="data")
    assert isinstance(merged, DataConfig)
    return merged


def _budget(args: PredictArgs, source: RunRecord, budgets: Mapping[str, Budget]) -> Budget:
    if args.budget is None:
        return Budget(**source.budget)
    try:
        return get_budget(args.budget, budgets)
    except HarnessError as exc:
        raise ConfigError(str(exc)) from None


def _rows(asked: str, same_data: bool, source: RunRecord, split_version: str) -> str:
    if asked == "auto":
        return "holdout" if same_data else "all"
    if asked == "all" and same_data:
        raise HarnessError(
            f"rows=all on run {source.run_id}'s own data would score the rows it trained on "
            f"({source.n_train} of them); use rows=holdout, or other data"
        )
    if asked == "holdout" and same_data and split_version != source.split_version:
        raise HarnessError(
            f"run {source.run_id} split its data with {source.split_version}; the installed task "
            f"splits with {split_version}, so its holdout would hold rows the run trained on"
        )
    return asked


def plan_predict(args: PredictArgs, budgets: Mapping[str, Budget] = BUDGETS) -> RunPlan:
    """The predict-only plan of ``args`` (``budget=`` looked up in ``budgets``); ``plan.cfg``
    is the run config it records."""
    source, solution_cls = _source(args)
    task = load_task(source.task)
    budget = _budget(args, source, budgets)
    solution_config = merge_overrides(
        solution_cls.config_class, [source.config.get("solution", {})], [], where="solution"
    )
    data_config = _data(args, source)
    where = {key: getattr(args, key) for key in _RUN_KEYS}
    cfg = RunConfig(task=source.task, solution=source.solution, seed=source.seed, **where)
    cfg.budget = budget.name
    cfg.fresh_predict, cfg.data = True, data_config
    data = resolve_data(task, data_config, cfg.results_path)
    same_data = data.root == Path(source.data_root).resolve()
    rows = _rows(args.rows, same_data, source, task.split_version)
    if rows == "test":
        test, answers = task.load_unlabelled(data.root), None
    else:
        table = task.load(data.root)
        chosen = task.split(table)[1] if rows == "holdout" else table
        test, answers = task.public_view(chosen), task.answers(chosen)
    return RunPlan(
        cfg=cfg,
        budget=budget,
        task=task,
        solution_cls=solution_cls,
        solution_config=solution_config,
        device=select_device(budget.device, solution_cls, budget.name),
        isolation=PredictIsolation(fresh=True, offline=args.offline_predict),
        data=data,
        train=None,
        test=test,
        answers=answers,
        config_hash=_config_hash(source, data.root, rows, budget),
        rows=rows,
        source=source,
    )


def _config_hash(source: RunRecord, root: Path, rows: str, budget: Budget) -> str:
    """What decides a predict run: its source (which fixes the fit), the data, rows, budget."""
    identity: dict[str, Any] = {
        "source": source.config_hash or source.run_id,
        "source_run": source.run_id,
        "data": str(root),
        "rows": rows,
        "budget": dataclasses.asdict(budget),
    }
    return hashlib.sha256(repr(sorted(identity.items())).encode()).hexdigest()[:16]
