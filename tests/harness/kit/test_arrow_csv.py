"""Arrow's CSV reader, only for files where it reads what pandas reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
from pandas._libs.parsers import STR_NA_VALUES

from harness.kit.arrow_csv import PANDAS_NA_STRINGS, read_plain_csv

TYPES = {"name": pa.string(), "count": pa.int64()}


def test_the_missing_cells_are_pandas_own() -> None:
    assert set(PANDAS_NA_STRINGS) == set(STR_NA_VALUES)


def test_a_plain_file_reads_as_pandas_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('name,count\na,1\n b ,20\n\n"c,d",-3\n')
    expected = pd.read_csv(path, dtype={"name": "string[pyarrow]"})
    found = read_plain_csv(path, TYPES)
    assert found is not None
    pd.testing.assert_frame_equal(found, expected)


def test_anything_else_is_left_to_pandas(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    for text in ("name,count\nNaN,1\n", "name,count\na,\n", "count,name\n1,a\n", "name\na\n"):
        path.write_text(text)
        assert read_plain_csv(path, TYPES) is None, text
    assert read_plain_csv(tmp_path / "missing.csv", TYPES) is None
