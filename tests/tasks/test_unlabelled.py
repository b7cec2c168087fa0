"""Every task reads its competition's unlabelled test folder (``harness predict rows=test``); a
root without one is refused naming what is missing and how to get it. That each folder reads as
its holdout's public view is tested per task (``tests/tasks/*/test_layout.py``, and rsna-breast's
in ``tests/harness/engine/test_predict_again.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.api import DataError
from harness.engine.registry import load_task

MISSING = {
    # task: what an empty root lacks
    "rsna-breast": "test.csv",
    "rsna-cervical": "test.csv",
    "rsna-ich": "stage_2_test",
    "severstal-steel": "test_images",
    "siim-pneumothorax": "dicom-images-test",
}


@pytest.mark.parametrize("name", MISSING)
def test_a_root_without_the_test_folder_names_it_and_the_download(
    name: str, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match=rf"{MISSING[name]}.*not found") as err:
        load_task(name).load_unlabelled(tmp_path)
    # The fix is about the test folder, not the training files a labelled run needs.
    assert "Kaggle" in str(err.value) and "train" not in str(err.value).replace(str(tmp_path), "")


@pytest.mark.parametrize("name", MISSING)
def test_a_data_root_that_is_not_there_is_answered_with_the_test_download(
    name: str, tmp_path: Path
) -> None:
    root = tmp_path / "nowhere"
    with pytest.raises(DataError, match=rf"{root} is not a folder") as err:
        load_task(name).load_unlabelled(root)
    # Not the training download's fix (train.csv, stage_2_train/ ...): what rows=test reads.
    fix = str(err.value).replace(str(root), "")
    assert MISSING[name] in fix and "train" not in fix


def test_an_empty_test_folder_names_the_files_it_should_hold(tmp_path: Path) -> None:
    (tmp_path / "dicom-images-test").mkdir()
    with pytest.raises(DataError, match=r"dicom-images-test holds no \.dcm file; unpack"):
        load_task("siim-pneumothorax").load_unlabelled(tmp_path)
