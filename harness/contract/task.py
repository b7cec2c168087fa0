"""The contract every task plug-in meets, checked on its own tiny synthetic dataset.

``assert_task_conforms(task, workdir)`` writes the task's ``contract_synth`` dataset twice with
the same seed and checks, collecting every failure before raising:

- declaration: name, version, metric, split version, generator options and submission columns
  are declared, and ``contract_synth`` names options of ``synth_config``;
- synthetic: the same seed writes the same files, byte for byte;
- check: ``check`` finds no problem in the synthetic dataset (pixels decoded);
- load and split: deterministic, independent of the table's row order, every row on exactly one
  side, and no bootstrap group (patient, study, image) on both sides;
- public view: one row per holdout row, no label column, nothing the answers hold;
- answers: ``export_answers`` then ``read_answers`` gives the answers back;
- validate: the answers as a submission are accepted; a submission missing a row, repeating a
  row or missing a column is rejected with InvalidSubmission;
- score: the answers score best: no worse than a submission with its values shifted by a row,
  and the metric's ``best`` where the task declares one (``harness.kit.task.Metric``); a
  submission whose rows are out of the answers' order is refused (ValueError), not scored;
- bootstrap: ``groups`` gives one group per answers row; ``bootstrap_statistics``, where given,
  scores the full set and every resample as ``score`` does on the rows.

A third-party task runs it in one line of its tests:
``assert_task_conforms(MyTask(), tmp_path)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataView, HiddenTest, InvalidSubmission, Task
from harness.kit.stats import group_resamples, resampled_scores
from harness.kit.task import KaggleTask

SEED = 0
"""Seed of the synthetic dataset the checks run on."""
RESAMPLES = 50
"""Bootstrap resamples on which ``bootstrap_statistics`` must match ``score``."""
TOLERANCE = 1e-9
"""How far ``bootstrap_statistics`` may be from ``score`` (float summation order)."""
BEST_TOLERANCE = 1e-6
"""How far the answers' score may be from the metric's ``best`` (a log loss clips at 1e-15)."""


class TaskConformanceError(AssertionError):
    """A task that breaks its contract; the message lists every failed check."""


@dataclasses.dataclass
class _Findings:
    failures: list[str] = dataclasses.field(default_factory=list)

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failures.append(message)
        return ok

    def run(self, name: str, check: Callable[[], None]) -> None:
        """Run one check; an exception is a failure of that check, not of the whole suite."""
        try:
            check()
        except Exception as err:  # a task's bug may surface as any exception
            self.failures.append(f"{name} raised {type(err).__name__}: {err}")


def assert_task_conforms(task: Task, workdir: Path) -> None:
    """Raise TaskConformanceError listing every check that ``task`` fails (see the module)."""
    findings = _Findings()
    _check_declaration(task, findings)
    if findings.failures:
        _raise(task, findings)
    roots = [workdir / "first", workdir / "second"]
    config = task.synth_config(**task.contract_synth)
    for root in roots:
        task.synthesize(root, config, SEED)
    findings.check(
        _tree(roots[0]) == _tree(roots[1]),
        "synthesize: the same seed wrote different files",
    )
    problems = task.check(roots[0])
    shown = "; ".join(map(str, problems[:3]))
    findings.check(not problems, f"check found {len(problems)} problem(s), e.g. {shown}")
    table = task.load(roots[0])
    findings.run("load and split", lambda: _check_split(task, roots[0], table, findings))
    holdout = task.split(table)[1]
    answers = task.answers(holdout)
    checks: dict[str, Callable[[], None]] = {
        "public_view": lambda: _check_public_view(task, holdout, findings),
        "export and read answers": lambda: _check_round_trip(task, answers, workdir, findings),
        "validate": lambda: _check_validate(task, answers, findings),
        "score": lambda: _check_score(task, answers, findings),
        "bootstrap": lambda: _check_bootstrap(task, answers, findings),
    }
    for name, check in checks.items():
        findings.run(name, check)
    if findings.failures:
        _raise(task, findings)


def _raise(task: Task, findings: _Findings) -> None:
    listed = "\n- ".join(findings.failures)
    name = getattr(task, "name", type(task).__name__)
    raise TaskConformanceError(f"task {name!r} does not conform:\n- {listed}")


def _check_declaration(task: Task, findings: _Findings) -> None:
    for attribute in ("name", "version", "metric_name", "split_version"):
        value = getattr(task, attribute, None)
        findings.check(
            isinstance(value, str) and value != "", f"{attribute} must be a non-empty string"
        )
    findings.check(
        isinstance(getattr(task, "greater_is_better", None), bool),
        "greater_is_better must be True or False",
    )
    findings.check(
        len(task.submission_columns) >= 2,
        "submission_columns must name the id column and at least one value column",
    )
    hidden = getattr(task, "hidden_test", None)
    findings.check(
        hidden is None
        or (
            isinstance(hidden, HiddenTest)
            and hidden.rows > 0
            and (hidden.predict_limit_s is None or hidden.predict_limit_s > 0)
            and bool(hidden.unit)
            and bool(hidden.source)
        ),
        "hidden_test must be None or a HiddenTest with rows > 0, a unit, a positive "
        "predict_limit_s or None, and its source",
    )
    config = getattr(task, "synth_config", None)
    if findings.check(
        isinstance(config, type) and dataclasses.is_dataclass(config),
        "synth_config must be a dataclass",
    ):
        assert isinstance(config, type)
        options = {f.name for f in dataclasses.fields(config)}
        unknown = sorted(set(task.contract_synth) - options)
        findings.check(not unknown, f"contract_synth names unknown generator option(s) {unknown}")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _check_split(task: Task, root: Path, table: pd.DataFrame, findings: _Findings) -> None:
    train, holdout = task.split(table)
    again = task.split(task.load(root))
    shuffled = task.split(table.sample(frac=1.0, random_state=SEED))
    for name, other in (("a second load", again), ("the shuffled table", shuffled)):
        same = all(a.equals(b) for a, b in zip((train, holdout), other, strict=True))
        findings.check(same, f"split of {name} differs from the first split")
    findings.check(
        len(train) + len(holdout) == len(table),
        f"split lost or repeated rows: {len(train)} + {len(holdout)} != {len(table)}",
    )
    findings.check(len(train) > 0 and len(holdout) > 0, "split left a side empty (or load did)")
    shared = set(task.groups(task.answers(train))) & set(task.groups(task.answers(holdout)))
    findings.check(
        not shared, f"group(s) on both sides of the split, e.g. {sorted(map(str, shared))[:3]}"
    )


def _check_public_view(task: Task, holdout: pd.DataFrame, findings: _Findings) -> None:
    view = task.public_view(holdout)
    findings.check(
        len(view) == len(holdout), f"public_view has {len(view)} rows for {len(holdout)}"
    )
    labels = set(task.submission_columns[1:])
    if isinstance(task, KaggleTask):
        labels |= set(task.layout.label_columns)
    leaked = sorted(labels & set(view.columns))
    findings.check(not leaked, f"public_view shows label column(s) {leaked}")
    n_inputs = task.n_inputs(DataView(task.name, view, has_labels=False))
    findings.check(n_inputs >= len(view), f"n_inputs counts {n_inputs} inputs for {len(view)} rows")


def _check_round_trip(
    task: Task, answers: pd.DataFrame, workdir: Path, findings: _Findings
) -> None:
    path = workdir / "answers.csv"
    task.export_answers(answers, path)
    read = task.read_answers(path)
    findings.check(
        _same_frame(read, answers), "read_answers of the exported answers differs from them"
    )


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    except AssertionError:
        return False
    return True


def _as_submission(task: Task, answers: pd.DataFrame) -> pd.DataFrame:
    return answers.loc[:, list(task.submission_columns)].copy()


def _check_validate(task: Task, answers: pd.DataFrame, findings: _Findings) -> None:
    submission = _as_submission(task, answers)
    validated = task.validate(submission, answers)
    findings.check(
        len(validated) == len(answers), "validate of the answers does not align them row for row"
    )
    broken = {
        "missing its last row": submission.iloc[:-1],
        "repeating its first row": pd.concat([submission, submission.iloc[:1]]),
        f"without column {task.submission_columns[-1]}": submission.drop(
            columns=[task.submission_columns[-1]]
        ),
    }
    for what, bad in broken.items():
        try:
            task.validate(bad.reset_index(drop=True), answers)
        except InvalidSubmission:
            continue
        findings.failures.append(f"validate accepted a submission {what}")


def _shifted(task: Task, answers: pd.DataFrame) -> pd.DataFrame | None:
    """The answers with each value column rolled by one row, if the task accepts that."""
    shifted = _as_submission(task, answers)
    for column in task.submission_columns[1:]:
        shifted[column] = np.roll(shifted[column].to_numpy(), 1)
    try:
        return task.validate(shifted, answers)
    except InvalidSubmission:
        return None


def _check_score(task: Task, answers: pd.DataFrame, findings: _Findings) -> None:
    perfect = task.score(task.validate(_as_submission(task, answers), answers), answers)
    findings.check(bool(np.isfinite(perfect)), f"the answers score {perfect}, not a number")
    shifted = _shifted(task, answers)
    if shifted is not None:
        other = task.score(shifted, answers)
        better = other > perfect if task.greater_is_better else other < perfect
        findings.check(
            not better, f"a shifted submission scores {other}, better than the answers' {perfect}"
        )
    validated = task.validate(_as_submission(task, answers), answers)
    reversed_rows = validated.iloc[::-1].reset_index(drop=True)
    try:
        task.score(reversed_rows, answers)
    except ValueError:
        pass
    else:
        findings.failures.append("score accepted a submission whose rows are out of order")
    best = task.metric.best if isinstance(task, KaggleTask) else None
    if best is not None:
        findings.check(
            abs(perfect - best) <= BEST_TOLERANCE,
            f"the answers score {perfect}, not the metric's best {best}",
        )


def _check_bootstrap(task: Task, answers: pd.DataFrame, findings: _Findings) -> None:
    groups = task.groups(answers)
    if not findings.check(
        len(groups) == len(answers), f"groups gave {len(groups)} values for {len(answers)} rows"
    ):
        return
    submission = _shifted(task, answers)
    if submission is None:
        submission = task.validate(_as_submission(task, answers), answers)
    statistics = task.bootstrap_statistics(submission, answers)
    if statistics is None:
        return
    score = task.score(submission, answers)
    findings.check(
        abs(statistics.score() - score) <= TOLERANCE,
        f"bootstrap_statistics scores the full set {statistics.score()}, score gives {score}",
    )
    resamples = group_resamples(groups, RESAMPLES, SEED)
    reference = resampled_scores(task.score, [submission], answers, resamples)
    fast = resampled_scores(task.score, [submission], answers, resamples, task.bootstrap_statistics)
    worst = float(np.nanmax(np.abs(np.asarray(fast) - np.asarray(reference))))
    findings.check(
        worst <= TOLERANCE,
        f"bootstrap_statistics differs from score on a resample by up to {worst}",
    )
