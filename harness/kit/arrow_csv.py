"""A plain CSV of known column types read by Arrow, where that gives what pandas gives.

pandas' reader turned each of rsna-ich's 4.5M label IDs into a Python string before storing
it as an Arrow string: half a gigabyte at the peak of ``harness data check``, and most of the
read's time. Arrow's reader stores the strings directly. Its rules differ from pandas' at the
edges (which cells are missing, what a malformed row is, how an error is worded), so
``read_plain_csv`` only answers for a file where the two must agree: exactly the expected
header, every value converted to its type, no missing value, no string pandas would read as
missing. For anything else it answers None and the caller reads with pandas, which keeps
every message about a bad file as it was.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

PANDAS_NA_STRINGS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""The cells ``pd.read_csv`` reads as missing by default (pandas._libs.parsers.STR_NA_VALUES)."""


def read_plain_csv(path: Path, types: dict[str, pa.DataType]) -> pd.DataFrame | None:
    """The CSV at ``path`` as ``pd.read_csv(path, dtype=...)`` reads it, strings as
    ``string[pyarrow]``, when its header is exactly ``types``' names and Arrow converts every
    cell to its type without a missing value; else None (read it with pandas)."""
    options = pv.ConvertOptions(
        column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    try:
        table = pv.read_csv(path, convert_options=options)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.column_names != list(types) or table.num_rows == 0:
        return None
    for column in table.columns:
        if column.null_count:
            return None
        if pa.types.is_string(column.type) and _has_na_string(column):
            return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _has_na_string(column: pa.ChunkedArray) -> bool:
    return bool(pc.any(pc.is_in(column, pa.array(PANDAS_NA_STRINGS))).as_py())
