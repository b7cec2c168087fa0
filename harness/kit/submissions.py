"""Checks every task's submission validator makes, with messages that name the rows.

A validator collects every problem before raising, so that one pass over a bad file says all
that is wrong with it. Rows are numbered from 1, header excluded, as a spreadsheet shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from harness.api import InvalidSubmission

MAX_EXAMPLES = 5
"""How many rows or ids a message shows before '... and N more'."""


def more(count: int) -> str:
    """The tail of a list cut at MAX_EXAMPLES: ' and 7 more', or nothing."""
    return f" and {count - MAX_EXAMPLES} more" if count > MAX_EXAMPLES else ""


def rows(mask: pd.Series | np.ndarray) -> str:
    """The 1-based row numbers (header excluded) of the first rows where ``mask`` holds."""
    where = np.flatnonzero(np.asarray(mask))
    return ", ".join(str(i + 1) for i in where[:MAX_EXAMPLES]) + more(len(where))


def require_columns(submission: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise InvalidSubmission when a column is missing: nothing else can be checked then."""
    missing = [c for c in columns if c not in submission.columns]
    if missing:
        raise InvalidSubmission(
            f"submission lacks column(s) {', '.join(missing)}; found columns: "
            f"{', '.join(map(str, submission.columns)) or '(none)'}; "
            f"expected {', '.join(columns)}"
        )


def id_problems(
    ids: pd.Series,
    no_id: np.ndarray,
    expected: pd.Series,
    *,
    name: str,
    missing_hint: str = "",
    unknown_hint: str = "",
) -> list[str]:
    """Empty, repeated, missing and unknown ids of a submission against the answers' ids.

    ``ids`` are the submission's ids as text (0-based positions), ``no_id`` marks the empty
    ones; ``name`` is the id column as messages call it; the hints end the missing and unknown
    messages (e.g. what an id looks like).
    """
    problems: list[str] = []
    if no_id.any():
        problems.append(f"{int(no_id.sum())} row(s) have no {name}: rows {rows(no_id)}")
    present = ids[~no_id]

    def named(where: np.ndarray) -> str:
        shown = ", ".join(f"row {i + 1} ({name} {ids.iloc[i]})" for i in where[:MAX_EXAMPLES])
        return shown + more(len(where))

    repeated = np.flatnonzero(ids.duplicated(keep="first").to_numpy() & ~no_id)
    if len(repeated):
        problems.append(
            f"{len(repeated)} row(s) repeat the {name} of an earlier row: {named(repeated)}"
        )
    absent = sorted(set(expected) - set(present))
    if absent:
        problems.append(
            f"{len(absent)} {name}(s) of the answers are missing from the submission, e.g. "
            f"{', '.join(absent[:MAX_EXAMPLES])}{more(len(absent))}{missing_hint}"
        )
    unknown = np.flatnonzero(~ids.isin(set(expected)).to_numpy() & ~no_id)
    if len(unknown):
        problems.append(
            f"{len(unknown)} row(s) have a {name} that is not in the answers: "
            f"{named(unknown)}{unknown_hint}"
        )
    return problems


def probability_problems(
    raw: pd.Series, ids: pd.Series, *, column: str, name: str, clip_note: str
) -> tuple[list[str], pd.Series]:
    """Values of ``column`` that are not numbers, not finite or outside [0, 1], and the values.

    ``raw`` is the column as read, ``ids`` the rows' ids (messages say ``row 3 (<name> x)``);
    ``clip_note`` ends the out-of-range message (what the metric would do with such values).
    """

    problems: list[str] = []

    def flag(
        mask: np.ndarray, rule: str, rows_are: str, show: Callable[[int], object], note: str = ""
    ) -> None:
        """A problem naming the first rows of ``mask``, each with ``show`` of its position."""
        if not mask.any():
            return
        where = np.flatnonzero(mask)
        shown = ", ".join(
            f"row {i + 1} ({name} {ids.iloc[i]}): {show(i)}" for i in where[:MAX_EXAMPLES]
        )
        problems.append(
            f"{column} must {rule}: {len(where)} row(s) {rows_are}, e.g. {shown}"
            f"{more(len(where))}{note}"
        )

    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    not_number = (values.isna() & raw.notna()).to_numpy()
    flag(not_number, "be a number", "are not", lambda i: repr(raw.iloc[i]))
    not_finite = ~np.isfinite(values.to_numpy()) & ~not_number
    flag(not_finite, "be finite", "are empty, NaN or infinite", lambda i: values.iloc[i])
    out_of_range = ((values < 0.0) | (values > 1.0)).to_numpy() & ~not_finite
    flag(out_of_range, "lie in [0, 1]", "are outside", lambda i: values.iloc[i], f"; {clip_note}")
    return problems, values


def validate_probabilities(
    submission: pd.DataFrame,
    answers: pd.DataFrame,
    *,
    id_column: str,
    value_column: str,
    clip_note: str,
    missing_hint: str = "",
    unknown_hint: str = "",
) -> pd.DataFrame:
    """A submission of one probability per id, aligned row for row with ``answers``: the id as
    text and the probability as float64. Other columns are ignored.

    Raises InvalidSubmission listing every problem: missing columns first (nothing else can be
    checked without them), then ids (``id_problems``, with the hints) and values
    (``probability_problems``, with ``clip_note``).
    """
    require_columns(submission, (id_column, value_column))
    raw_ids = submission[id_column].reset_index(drop=True)
    no_id = raw_ids.isna().to_numpy()
    ids = raw_ids.astype(str)
    expected = answers[id_column].astype(str)
    problems = id_problems(
        ids,
        no_id,
        expected,
        name=id_column,
        missing_hint=missing_hint,
        unknown_hint=unknown_hint,
    )
    value_problems, values = probability_problems(
        submission[value_column].reset_index(drop=True),
        ids,
        column=value_column,
        name=id_column,
        clip_note=clip_note,
    )
    raise_problems(problems + value_problems)
    aligned = pd.Series(values.to_numpy(), index=ids.to_numpy()).loc[expected.tolist()]
    return pd.DataFrame(
        {id_column: expected.to_numpy(), value_column: aligned.to_numpy(dtype=np.float64)}
    )


def rle_problems(
    ids: pd.Series,
    masks: pd.Series,
    shapes: dict[str, tuple[int, int]],
    decode: Callable[[str, tuple[int, int]], object],
    *,
    row_label: str,
) -> list[str]:
    """Rows whose RLE ``decode`` rejects for its image's (height, width) in ``shapes``.

    ``decode`` is the task's RLE reader (it raises ValueError saying what is wrong); rows whose
    id is not in ``shapes`` are skipped (the id checks report them). ``row_label`` formats a
    row's id in the message, e.g. ``"ImageId {}"``.
    """
    bad: list[str] = []
    for position, (key, rle) in enumerate(zip(ids, masks, strict=True)):
        if key not in shapes:
            continue
        height, width = shapes[key]
        try:
            decode(rle, (int(height), int(width)))
        except ValueError as err:
            bad.append(f"row {position + 1} ({row_label.format(key)}): {err}")
    if not bad:
        return []
    return [
        f"{len(bad)} row(s) have a malformed EncodedPixels:\n  "
        + "\n  ".join(bad[:MAX_EXAMPLES])
        + more(len(bad))
    ]


def raise_problems(problems: list[str]) -> None:
    """Raise one InvalidSubmission listing every problem, if there is any."""
    if problems:
        raise InvalidSubmission("invalid submission:\n- " + "\n- ".join(problems))
