"""The label csv's IDs as codes, a slice of rows at a time: what one pass over all gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from harness.api import DataError
from tasks.rsna_ich.label_ids import split_ids
from tasks.rsna_ich.layout import _ID_GROUPS, ID_PATTERN, SUBTYPES, _unique_rows, read_labels

from .conftest import label_rows


def _ids(seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    images = [f"ID_{x:x}" for x in rng.choice(4096, 40, replace=False)]
    rows = [f"{image}_{subtype}" for image in images for subtype in SUBTYPES]
    rows += list(rng.choice(rows, 9))  # repeats
    return list(rng.permutation(rows))


@pytest.mark.parametrize("slice_rows", [1, 5, 64, 10_000])
@pytest.mark.parametrize("chunked", [False, True])
def test_codes_are_the_sorted_factorization_of_the_images(slice_rows: int, chunked: bool) -> None:
    ids = _ids(slice_rows)
    array = pa.chunked_array([ids[:17], ids[17:]]) if chunked else pa.array(ids)
    image_codes, images, subtype_codes = split_ids(array, _ID_GROUPS, SUBTYPES, slice_rows)
    parts = pd.Series(ids).str.extract(ID_PATTERN)
    expected_codes, expected_images = pd.factorize(parts[0], sort=True)
    assert image_codes.tolist() == expected_codes.tolist()
    assert images.tolist() == expected_images.tolist()
    assert subtype_codes.tolist() == [SUBTYPES.index(s) for s in parts[1]]


def test_no_ids() -> None:
    image_codes, images, subtype_codes = split_ids(pa.array([], pa.string()), _ID_GROUPS, SUBTYPES)
    assert (len(image_codes), len(images), len(subtype_codes)) == (0, 0, 0)


def test_conflicts_are_named_as_a_sort_of_every_row_names_them(tmp_path: Path) -> None:
    rows = label_rows({"ID_a1": {"any": 1}, "ID_b1": {}, "ID_c1": {}})
    extra = pd.DataFrame(
        {
            "ID": ["ID_b1_any", "ID_a1_any", "ID_b1_any", "ID_c1_epidural", "ID_a1_any"],
            "Label": [1, 1, 0, 0, 0],
        }
    )
    frame = pd.concat([rows, extra], ignore_index=True)
    csv = tmp_path / "l.csv"
    frame.to_csv(csv, index=False)
    codes, _ = pd.factorize(frame["ID"])
    with pytest.raises(DataError) as everything:
        _unique_rows(frame, codes, str(csv))
    with pytest.raises(DataError) as labels:
        read_labels(csv)
    assert str(labels.value) == str(everything.value)
    assert "line 20" in str(labels.value) and "ID_c1" not in str(labels.value)
