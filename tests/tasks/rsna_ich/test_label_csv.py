"""The label csv read by Arrow where it can be: exactly what pandas read, errors included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.kit.layout import read_label_csv
from tasks.rsna_ich.layout import _DOWNLOAD_FIX, _read_csv, check_layout

from .conftest import label_rows

GOOD = "".join(f"{row.ID},{row.Label}\n" for row in label_rows({"ID_a1": {"any": 1}}).itertuples())

CASES = {
    "good": b"ID,Label\n" + GOOD.encode(),
    "label 3": b"ID,Label\n" + GOOD.replace("any,1", "any,3").encode(),
    "label x": b"ID,Label\n" + GOOD.replace("any,1", "any,x").encode(),
    "label 1.0": b"ID,Label\n" + GOOD.replace("any,1", "any,1.0").encode(),
    "label +1": b"ID,Label\n" + GOOD.replace("any,1", "any,+1").encode(),
    "label space 1": b"ID,Label\n" + GOOD.replace("any,1", "any, 1").encode(),
    "empty label": b"ID,Label\n" + GOOD.replace("any,1", "any,").encode(),
    "NA id": b"ID,Label\nNA,0\n" + GOOD.encode(),
    "empty id": b"ID,Label\n,0\n" + GOOD.encode(),
    "null id": b"ID,Label\nnull,0\n" + GOOD.encode(),
    "extra field": b"ID,Label\n" + GOOD.replace("any,1", "any,1,2").encode(),
    "short row": b"ID,Label\n" + GOOD.replace("any,1", "any").encode(),
    "header only": b"ID,Label\n",
    "empty file": b"",
    "bom": b"\xef\xbb\xbfID,Label\n" + GOOD.encode(),
    "blank lines": b"ID,Label\n\n" + GOOD.replace("\n", "\n\n", 2).encode(),
    "crlf": b"ID,Label\r\n" + GOOD.replace("\n", "\r\n").encode(),
    "quoted": b'"ID","Label"\n' + b'"ID_a1_any","1"\n' + GOOD.encode(),
    "quoted newline": b'ID,Label\n"ID_a1\n_any",1\n' + GOOD.encode(),
    "extra column": b"ID,Label,x\n" + GOOD.replace("\n", ",0\n").encode(),
    "other header": b"Id,Label\n" + GOOD.encode(),
    "duplicate header": b"ID,ID\n" + GOOD.encode(),
    "not utf-8": b"ID,Label\nID_\xff_any,1\n" + GOOD.encode(),
}


def _outcome(read, path: Path) -> pd.DataFrame | tuple[type, str]:
    try:
        return read(path)
    except Exception as err:  # the outcome compared, whatever it is
        return type(err), str(err)


@pytest.mark.parametrize("case", list(CASES))
def test_the_csv_reads_as_pandas_read_it(tmp_path: Path, case: str) -> None:
    path = tmp_path / "stage_2_train.csv"
    path.write_bytes(CASES[case])
    ours = _outcome(_read_csv, path)
    pandas = _outcome(
        lambda p: read_label_csv(p, _DOWNLOAD_FIX, dtype={"ID": "string[pyarrow]"}), path
    )
    if isinstance(pandas, pd.DataFrame):
        assert isinstance(ours, pd.DataFrame)
        pd.testing.assert_frame_equal(ours, pandas)
    else:
        assert ours == pandas


def test_a_bad_row_is_named_by_its_line(tmp_path: Path) -> None:
    (tmp_path / "stage_2_train").mkdir()
    (tmp_path / "stage_2_train.csv").write_bytes(CASES["label 3"])
    problems = check_layout(tmp_path, decode=False)
    assert any("Label must be 0 or 1" in p.problem and "line(s) 7" in p.problem for p in problems)
