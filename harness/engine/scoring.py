"""Reading a submission file whatever state it is in, and scoring it with a bootstrap CI.

Every score the harness shows comes from here: the runner's, ``harness score``'s and the
report's re-scoring on resamples shared by the runs it compares.

A submission comes from someone else's code: it may be empty, ragged, half-quoted or saved in
another encoding. Each of these is an InvalidSubmission whose one-line message names the file,
the line (and the data row, counted from 1 without the header, as the validators count) and
the column, and says what to fix; never a pandas traceback.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import InvalidSubmission, Task
from harness.kit.stats import GroupResamples, group_resamples, percentile_interval, resampled_scores

CI_SEED = 0
"""Fixed so that every score on the same holdout sees the same resamples (paired comparisons)."""

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class ScoreResult:
    """The metric of one submission and its 95% bootstrap interval (None without bootstrap)."""

    score: float
    ci_low: float | None = None
    ci_high: float | None = None
    resampled: np.ndarray | None = None
    """The score on each resample (drawn with ``CI_SEED``); None without bootstrap."""


@dataclass(frozen=True)
class Holdout:
    """A task's holdout answers with the fixed resamples every submission is scored on.

    The resamples come from ``CI_SEED``, so two submissions scored on the same answers see the
    same ones: a run's CI, and the report's paired comparisons between runs, agree.
    """

    task: Task
    answers: pd.DataFrame
    resamples: GroupResamples

    @classmethod
    def resampled(cls, task: Task, answers: pd.DataFrame, n: int) -> Holdout:
        """``answers`` with ``n`` resamples of the task's groups."""
        return cls(task, answers, group_resamples(task.groups(answers), n, CI_SEED))

    def align(self, submission: pd.DataFrame) -> pd.DataFrame:
        """The submission validated and aligned row for row with the answers."""
        return self.task.validate(submission, self.answers)

    def score(self, aligned: Sequence[pd.DataFrame]) -> tuple[list[float], np.ndarray]:
        """Each aligned submission's score on the whole holdout, and their mean per resample."""
        full = [self.task.score(a, self.answers) for a in aligned]
        resampled = resampled_scores(
            self.task.score, aligned, self.answers, self.resamples, self.task.bootstrap_statistics
        )
        return full, resampled


def score_submission(
    task: Task, submission_path: Path, answers: pd.DataFrame, bootstrap: int
) -> ScoreResult:
    """Read, validate and score a submission file against ``answers``.

    ``bootstrap`` resamples of the task's groups give the CI (0: no CI). Raises
    InvalidSubmission, its message starting with the file, for any file that cannot be scored.
    """
    submission = read_submission(submission_path, task.submission_columns)
    try:
        aligned = task.validate(submission, answers)
    except InvalidSubmission as exc:
        raise InvalidSubmission(f"{submission_path}: {exc}") from exc
    if bootstrap <= 0:
        return ScoreResult(task.score(aligned, answers))
    (value,), resampled = Holdout.resampled(task, answers, bootstrap).score([aligned])
    low, high = percentile_interval(resampled)
    return ScoreResult(value, low, high, resampled)


def read_submission(path: Path, columns: Sequence[str] = ()) -> pd.DataFrame:
    """The submission CSV as pandas reads it, or InvalidSubmission saying what is wrong.

    ``columns`` (the task's submission columns) only serve the messages. A UTF-8 byte-order
    mark is accepted, as Excel writes one.
    """
    header_hint = f" ({','.join(columns)})" if columns else ""
    if not path.exists():
        raise InvalidSubmission(f"{path}: no such file; pass submission=<the CSV to grade>")
    if not path.is_file():
        raise InvalidSubmission(f"{path} is not a file; pass submission=<the CSV to grade>")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidSubmission(f"{path} cannot be read: {exc.strerror}") from exc
    if not raw.strip():
        raise InvalidSubmission(
            f"{path} is empty: write a header row{header_hint}, then one row per case"
        )
    text = _decode(path, raw)
    problem = _shape_problem(path, text)
    if problem:
        raise InvalidSubmission(problem)
    try:
        # index_col=False: rows one value longer than the header never turn into an index.
        frame = pd.read_csv(io.StringIO(text), index_col=False)
    except (pd.errors.ParserError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise InvalidSubmission(f"{path} is not a readable CSV file: {detail}") from exc
    header = str(frame.columns[0]) if len(frame.columns) == 1 else ""
    separator = next((sep for sep in (";", "\t", "|") if sep in header), None)
    if separator is not None:
        raise InvalidSubmission(
            f"{path}, line 1 (the header): columns separated by {separator!r}; a submission is "
            f"comma-separated{header_hint}"
        )
    return frame


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith(_UTF16_BOMS):
        raise InvalidSubmission(
            f"{path}, line 1 (the header), column 1: the file is UTF-16 (it starts with a "
            "UTF-16 byte-order mark); save it as UTF-8"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSubmission(
            f"{path}, {_where(raw, exc.start)}: byte 0x{raw[exc.start]:02x} is not "
            "UTF-8; save the file as UTF-8 (ids and numbers are plain ASCII)"
        ) from exc
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InvalidSubmission(
            f"{path}, {_where(raw, nul)}: a NUL byte; a submission is plain text (a binary or "
            "truncated file?)"
        )
    return text


def _where(raw: bytes, offset: int) -> str:
    """'line L (row R), column C' of a byte offset; C is the CSV field, counted from 1."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    column = raw.count(b",", line_start, offset) + 1
    earlier = sum(1 for text in raw[:line_start].splitlines() if text.strip())
    row = f"row {earlier}" if earlier else "the header"
    return f"line {line} ({row}), column {column}"


def _shape_problem(path: Path, text: str) -> str:
    """The first row longer than the header or an unclosed quote, located; '' if none.

    pandas would stop on the first with a message naming neither file nor column, or, when
    the first row has one value too many, silently read the ids as an index. Blank lines are
    skipped, as pandas skips them, so row numbers match the validators'.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] = []
    rows = 0
    last_line = 0
    try:
        for record in reader:
            if record and not header:
                header = record
            elif record:
                rows += 1
                if len(record) > len(header):
                    return (
                        f"{path}, line {reader.line_num} (row {rows}), column {len(header) + 1}: "
                        f"{len(record)} values where the header has {len(header)} "
                        f"({','.join(header)}); remove the extra values, or quote a value that "
                        "contains a comma"
                    )
            last_line = reader.line_num
    except csv.Error:
        line = last_line + 1
        column = _quote_column(text, line)
        name = f" ({header[column - 1]})" if header and column <= len(header) else ""
        where = f"row {rows + 1}" if header else "the header"
        return (
            f"{path}, line {line} ({where}), column {column}{name}: a quoted value opens with "
            '" and never closes; close the quote or remove it'
        )
    return ""


def _quote_column(text: str, line: int) -> int:
    """The field (from 1) where the unclosed quote of ``line`` opens."""
    content = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
    opening = max(
        (i for i, char in enumerate(content) if char == '"' and (i == 0 or content[i - 1] == ",")),
        default=0,
    )
    return content.count(",", 0, opening) + 1
