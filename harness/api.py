"""Contracts between the engine, the tasks and the solutions.

A task knows its Kaggle data layout, its split, its official metric and how to fake its data.
A solution knows how to learn from a labelled view and predict on a label-free one. The engine
(runner, tracking, CLI) knows neither by name: it only talks to these two classes.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

if TYPE_CHECKING:  # annotations only: `harness list` and `--help` start without pandas
    import numpy as np
    import pandas as pd

    from harness.kit.file_checks import Opening
    from harness.kit.stats import GroupStatistics

PHASES: tuple[str, ...] = ("prepare", "fit", "predict")
"""The solution's timed phases, in the order the runner calls them."""

Status = Literal[
    "running", "ok", "timeout", "oom", "failed", "invalid_submission", "interrupted", "killed"
]
"""``interrupted``: stopped by Ctrl-C, SIGTERM or a stopped sweep; ``killed``: the harness
process itself died (SIGKILL, power loss) and a later command found the run orphaned."""


class HarnessError(Exception):
    """An error the user can act on; the CLI prints its message without a traceback."""


class DataError(HarnessError):
    """The data on disk does not match the task's Kaggle layout."""


class InvalidSubmission(HarnessError):
    """A submission that the task's validator rejects; the message names the row or column."""


@dataclass(frozen=True)
class Budget:
    """A named, frozen compute profile: what a run may use and for how long per phase."""

    name: str
    description: str
    device: Literal["cpu", "cuda"]
    gpus: int
    gpu_memory_gb: float | None
    """Cap applied with torch.cuda.set_per_process_memory_fraction; None = the whole card."""
    cpu_workers: int
    prepare_s: float
    fit_s: float
    predict_s: float
    fresh_predict: bool = False
    """Predict in a fresh process from what fit saved, offline, as a Kaggle code competition's
    notebook does; the run keys ``fresh_predict`` and ``offline_predict`` override it."""

    def limit_s(self, phase: str) -> float:
        """Wall-clock limit of one phase in seconds."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; phases are {', '.join(PHASES)}")
        return float(getattr(self, f"{phase}_s"))


class PhaseBudget:
    """What a solution sees as ``ctx.budget``: the profile plus the running phase's deadline."""

    def __init__(self, profile: Budget, phase: str, started: float | None = None) -> None:
        self.profile = profile
        self.phase = phase
        self.limit_s = profile.limit_s(phase)
        self._started = time.monotonic() if started is None else started

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def remaining(self) -> float:
        """Seconds left before the runner kills the current phase (never negative)."""
        return max(0.0, self.limit_s - self.elapsed())

    def __getattr__(self, name: str) -> Any:
        # Let solutions read profile fields directly: ctx.budget.gpus, ctx.budget.cpu_workers.
        return getattr(self.profile, name)


@dataclass
class DataView:
    """A table handed to a solution; file columns hold absolute paths.

    The holdout view has ``has_labels=False`` and its label columns removed by the task.
    """

    task: str
    frame: pd.DataFrame
    has_labels: bool

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class RunContext:
    """Everything a solution may use besides its data."""

    run_dir: Path
    """The only folder a solution writes to (checkpoints, logs)."""
    cache_dir: Path
    """Shared between runs of the same solution: decoded/cropped images and the like."""
    budget: PhaseBudget
    seed: int
    device: str
    """'cuda' or 'cpu', chosen by the runner from the budget and the machine."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("harness.solution"))
    report_fn: Callable[[dict[str, float], int | None], None] | None = None
    fact_fn: Callable[[str, Any], None] | None = None
    progress_fn: Callable[[int, int | None, str, int | None], None] | None = None

    def report(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record intermediate metrics (e.g. per-epoch validation pF1) in the run's MLflow log."""
        if self.report_fn is not None:
            self.report_fn({k: float(v) for k, v in metrics.items()}, step)

    def progress(
        self, done: int, total: int | None = None, unit: str = "step", items: int | None = None
    ) -> None:
        """Say how far the phase is: ``done`` of ``total`` units (epochs, batches, images).

        ``items`` counts the images (or slices) processed so far in the phase, from which the
        harness shows images/s. Cheap to call every batch: the harness shows it live with the
        ETA and the budget time left.
        """
        if self.progress_fn is not None:
            self.progress_fn(done, total, unit, items)

    def record_fact(self, name: str, value: Any) -> None:
        """Keep a fact about the run in its record (chosen threshold, epochs run, fallbacks)."""
        if self.fact_fn is not None:
            self.fact_fn(name, value)


@dataclass(frozen=True)
class DataProblem:
    """One finding of ``harness data check``."""

    path: str
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" + (f" ({self.fix})" if self.fix else "")


@dataclass(frozen=True)
class HiddenTest:
    """The competition's hidden test set and how long its predict step could take.

    Every run projects its predict time onto this size (``predict wall x rows / rows
    predicted``) and says whether the projection fits ``predict_limit_s``: a run that ranks
    first here but would not have finished on Kaggle is marked as such.
    """

    rows: int
    """Its size in rows of the task's table (the unit ``public_view`` has a row per)."""
    unit: str
    """What a row is: ``images``, ``slices``, ``studies``."""
    predict_limit_s: float | None
    """The code competition's notebook limit; None where predictions were uploaded."""
    source: str
    """Where the figures come from."""


class Task(ABC):
    """A faithful re-creation of one Kaggle competition."""

    name: ClassVar[str]
    version: ClassVar[str]
    metric_name: ClassVar[str]
    greater_is_better: ClassVar[bool]
    split_version: ClassVar[str]
    synth_config: ClassVar[type]
    """Dataclass of the synthetic generator's parameters (``data.synth.*`` overrides)."""
    contract_synth: ClassVar[dict[str, Any]] = {}
    """Generator parameters of the tiny dataset that the contract suite (``harness check``) runs
    every solution of the task on, twice: small enough for seconds per run, large enough for
    the split and the metric to be defined. Empty = the generator's defaults."""
    submission_columns: ClassVar[tuple[str, ...]] = ()
    """The columns of a submission, id column first (e.g. ``prediction_id, cancer``): what
    messages about a bad file ask for and what ``harness new solution`` writes. Empty = the
    columns of ``answers``."""
    hidden_test: ClassVar[HiddenTest | None] = None
    """The competition's hidden test set; None: no projection of predict time."""

    @abstractmethod
    def synthesize(self, root: Path, config: Any, seed: int) -> None:
        """Write a synthetic dataset in the real Kaggle layout under ``root``."""

    @abstractmethod
    def check(
        self, root: Path, *, decode: bool = True, opening: Opening | None = None
    ) -> list[DataProblem]:
        """Every problem found in a dataset on disk; an empty list means it is usable.

        ``decode`` also decodes pixel data (slow on a full download). Every file is looked
        for; ``opening`` (harness.kit.file_checks.Opening, default: every file, in this process)
        says which are opened (``limit``: the first N, ``sample``: N at random), by how many
        processes, and where each problem goes as soon as it is found.

        A plug-in may instead take ``limit: int | None`` in place of ``opening`` (the contract
        before ``opening``): ``harness data check`` then passes ``limit`` and refuses ``sample``.
        """

    @abstractmethod
    def load(self, root: Path) -> pd.DataFrame:
        """The labelled table with absolute file paths; raises DataError naming what is wrong."""

    def load_unlabelled(self, root: Path) -> pd.DataFrame:
        """The competition's unlabelled test folder under ``root`` (e.g. Kaggle's ``test.csv``
        and ``test_images/``) as a table shaped like ``public_view``'s, for ``harness predict
        rows=test``; raises DataError naming what is wrong. Optional: the default says the
        task cannot."""
        raise DataError(
            f"task {self.name} cannot read unlabelled test data yet; predict a labelled "
            "dataset in its layout instead (rows=all or rows=holdout)"
        )

    @abstractmethod
    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Deterministic (train, holdout) split of ``load``'s table, grouped by patient/study."""

    @abstractmethod
    def public_view(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """The holdout table with every label column removed."""

    @abstractmethod
    def answers(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """Ground truth in the submission's format (the Kaggle solution file)."""

    @abstractmethod
    def read_answers(self, path: Path) -> pd.DataFrame:
        """Answers from a file: a solution file, or a labelled table in the Kaggle layout."""

    def export_answers(self, answers: pd.DataFrame, path: Path) -> None:
        """Write ``answers`` as the competition's solution file, for its own grader.

        Kaggle's metric code and mle-bench's ``grade.py`` read the file as the answers of a
        submission; ``read_answers`` reads it back to the same table. The default writes every
        column of ``answers``; a task whose grader expects other columns overrides it.
        """
        answers.to_csv(path, index=False)

    @abstractmethod
    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        """The submission aligned row for row with ``answers``; raises InvalidSubmission."""

    @abstractmethod
    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        """The official metric on a validated, aligned submission."""

    @abstractmethod
    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        """Bootstrap unit of each answers row (patient or study id)."""

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics | None:
        """``score`` as additive per-group statistics, for a fast bootstrap; None if it is not.

        Optional: the bootstrap then scores each resample's rows with ``score``. A task that
        implements it must give, on every resample, what ``score`` gives on the resampled
        rows (harness.kit.stats.GroupStatistics; groups ordered as ``harness.kit.stats.group_sums``
        orders ``groups(answers)``).
        """
        return None

    @abstractmethod
    def n_inputs(self, view: DataView) -> int:
        """Number of input images in a view, for images/s."""


@dataclass(frozen=True)
class Requirements:
    """What a solution needs from the machine."""

    cuda: bool = False
    """True if it cannot run at all without a GPU."""


ConfigT = TypeVar("ConfigT")


class Solution(ABC, Generic[ConfigT]):
    """A competition solution as a plug-in: ``fit`` then ``predict``, each timed on its own.

    Its options are a dataclass named as the type argument, ``class Mine(Solution[MineConfig])``:
    that is ``config_class``, and ``self.config`` is typed as it.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]]
    config_class: ClassVar[type]
    """Dataclass of the solution's options (``solution.*`` overrides), defaults = CPU sizes;
    taken from the type argument, or declared on a subclass written without one."""
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    """Per budget name, the option values that size the solution for that budget."""
    requirements: ClassVar[Requirements] = Requirements()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Solution and "config_class" not in vars(cls):
                (config_class,) = get_args(base)
                if isinstance(config_class, type):
                    cls.config_class = config_class

    def __init__(self, config: ConfigT) -> None:
        self.config = config

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        """Decode and cache the training inputs (timed apart from ``fit``); optional."""

    @abstractmethod
    def fit(self, train: DataView, ctx: RunContext) -> None:
        """Learn from the labelled training view."""

    @abstractmethod
    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        """A submission for the label-free view, in the task's submission format."""

    def save(self, folder: Path, ctx: RunContext) -> None:
        """Write to ``folder`` everything ``predict`` needs; called at the end of ``fit``.

        Where a run predicts in a fresh process (``fresh_predict``), that process builds the
        solution from its config, calls ``load`` on the same folder and predicts: nothing else
        of fit survives. The time taken counts in fit's. The default saves the instance's
        attributes but ``config`` (harness.kit.artefacts): torch modules and tensors, numpy
        arrays, sklearn objects, plain values. A solution holding something that does not
        pickle (an open file, a decoding pipeline, a lambda) overrides both methods.
        """
        from harness.kit.artefacts import save_attributes

        save_attributes(self, folder)

    def load(self, folder: Path, ctx: RunContext) -> None:
        """Restore what ``save`` wrote, onto a solution just built from its config, before
        ``predict`` (torch tensors onto ``ctx.device``); its time counts in predict's."""
        from harness.kit.artefacts import load_attributes

        load_attributes(self, folder, ctx.device)
