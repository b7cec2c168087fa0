"""A task assembled from the parts it declares: the base of every built-in or third-party task.

``harness.api.Task`` is the engine's contract, a dozen methods. A competition re-creation fills
them from five parts, each built next to the code it names:

- ``layout`` (``Layout``): how the data sits on disk: its check, the labelled table, which
  columns are labels (the holdout view drops them) and how many input images a row holds;
- ``holdout`` (``Split``): the grouped holdout split and its version;
- ``submission`` (``Submission``): the answers (Kaggle's solution file) and the validator;
- ``metric`` (``Metric``): the official score, its bootstrap unit, an optional fast bootstrap;
- ``synthetic`` (``Synthetic``): the fake-data generator, its options and the contract's tiny
  dataset.

``KaggleTask`` derives the engine's class attributes (``metric_name``, ``greater_is_better``,
``split_version``, ``synth_config``, ``contract_synth``, ``submission_columns``) from them, so a
task's own module only names itself and its parts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from harness.api import DataProblem, DataView, Task
from harness.kit.file_checks import EVERY_FILE, Opening

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from harness.kit.stats import GroupStatistics


class LayoutCheck(Protocol):
    """A layout's ``harness data check``: every problem of the dataset under ``root``."""

    def __call__(self, root: Path, *, decode: bool, opening: Opening) -> list[DataProblem]: ...


@dataclass(frozen=True)
class Layout:
    """The competition's files on disk."""

    check: LayoutCheck
    load: Callable[[Path], pd.DataFrame]
    """The labelled table with absolute file paths; raises DataError naming what is wrong."""
    label_columns: tuple[str, ...]
    """What the holdout view must not show."""
    inputs_column: str | None = None
    """A column counting each row's input images (a study's slices); None: one image a row."""
    load_unlabelled: Callable[[Path], pd.DataFrame] | None = None
    """The competition's unlabelled test folder as a public-view table (``Task.load_unlabelled``);
    None: not readable."""


@dataclass(frozen=True)
class Split:
    """The deterministic, grouped (train, holdout) split; a new ``version`` draws a new one."""

    function: Callable[..., tuple[pd.DataFrame, pd.DataFrame]]
    """Called as ``function(table, version=version)``."""
    version: str


@dataclass(frozen=True)
class Submission:
    """The submission format: its columns, the answers in it, and its validator."""

    columns: tuple[str, ...]
    """Id column first, as messages about a bad file and ``harness new solution`` show them."""
    answers: Callable[[pd.DataFrame], pd.DataFrame]
    """The answers of a labelled (holdout) table."""
    read_answers: Callable[[Path], pd.DataFrame]
    validate: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
    solution_file: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    """The answers as the competition's own grader reads them; None: the answers as they are."""


@dataclass(frozen=True)
class Metric:
    """The official metric of an aligned (submission, answers) pair and its bootstrap unit."""

    name: str
    greater_is_better: bool
    id_column: str
    """Pairs a submission row with an answers row; a misaligned pair is refused, not scored."""
    score: Callable[[pd.DataFrame, pd.DataFrame], float]
    groups: Callable[[pd.DataFrame], np.ndarray]
    """Bootstrap unit of each answers row (patient, study or image), as the split groups them."""
    bootstrap_statistics: Callable[[pd.DataFrame, pd.DataFrame], GroupStatistics | None] | None = (
        None
    )
    """``score`` as additive per-group statistics (see ``Task.bootstrap_statistics``)."""
    best: float | None = None
    """The score of a perfect submission (1 for F1 or Dice, 0 for a loss), if there is one."""

    def require_aligned(self, submission: pd.DataFrame, answers: pd.DataFrame) -> None:
        """Raise ValueError unless the rows pair up in order, as ``validate`` leaves them."""
        import numpy as np

        # A misaligned pair would score silently wrong, so check what validate() guarantees.
        if not np.array_equal(
            submission[self.id_column].astype(str).to_numpy(),
            answers[self.id_column].astype(str).to_numpy(),
        ):
            raise ValueError("submission rows do not match the answers: pass it through validate()")


@dataclass(frozen=True)
class Synthetic:
    """The synthetic generator: writes a dataset in the real layout from a seed."""

    config: type
    """Dataclass of the generator's options (``data.synth.*`` overrides)."""
    generate: Callable[[Path, Any, int], object]
    """Called as ``generate(root, config, seed)``."""
    contract: Mapping[str, Any] = field(default_factory=dict)
    """Options of the tiny dataset the contract suites run on (see ``Task.contract_synth``)."""


class KaggleTask(Task):
    """A ``Task`` whose every method comes from its declared parts; override one to differ."""

    layout: ClassVar[Layout]
    holdout: ClassVar[Split]
    submission: ClassVar[Submission]
    metric: ClassVar[Metric]
    synthetic: ClassVar[Synthetic]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = vars(cls)
        if "metric" in declared:
            cls.metric_name = cls.metric.name
            cls.greater_is_better = cls.metric.greater_is_better
        if "holdout" in declared:
            cls.split_version = cls.holdout.version
        if "submission" in declared:
            cls.submission_columns = cls.submission.columns
        if "synthetic" in declared:
            cls.synth_config = cls.synthetic.config
            cls.contract_synth = dict(cls.synthetic.contract)

    def synthesize(self, root: Path, config: Any, seed: int) -> None:
        self.synthetic.generate(root, config, seed)

    def check(
        self, root: Path, *, decode: bool = True, opening: Opening | None = None
    ) -> list[DataProblem]:
        return self.layout.check(root, decode=decode, opening=opening or EVERY_FILE)

    def load(self, root: Path) -> pd.DataFrame:
        return self.layout.load(root)

    def load_unlabelled(self, root: Path) -> pd.DataFrame:
        if self.layout.load_unlabelled is None:
            return super().load_unlabelled(root)
        return self.layout.load_unlabelled(root)

    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self.holdout.function(table, version=self.holdout.version)

    def public_view(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return holdout.drop(columns=list(self.layout.label_columns)).reset_index(drop=True)

    def answers(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return self.submission.answers(holdout)

    def read_answers(self, path: Path) -> pd.DataFrame:
        return self.submission.read_answers(path)

    def export_answers(self, answers: pd.DataFrame, path: Path) -> None:
        solution_file = self.submission.solution_file
        (answers if solution_file is None else solution_file(answers)).to_csv(path, index=False)

    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return self.submission.validate(submission, answers)

    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        self.metric.require_aligned(submission, answers)
        return self.metric.score(submission, answers)

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics | None:
        if self.metric.bootstrap_statistics is None:
            return None
        self.metric.require_aligned(submission, answers)
        return self.metric.bootstrap_statistics(submission, answers)

    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        return self.metric.groups(answers)

    def n_inputs(self, view: DataView) -> int:
        column = self.layout.inputs_column
        return len(view.frame) if column is None else int(view.frame[column].sum())
