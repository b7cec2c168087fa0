"""The holdout split: whole patients per side, deterministic, versioned."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.rsna_ich.split import holdout_split


def _table(n_patients: int = 30) -> pd.DataFrame:
    """Two studies for every third patient, four slices each; every fourth patient bleeds."""
    rows = []
    for p in range(n_patients):
        for study in range(1 + (p % 3 == 0)):
            for k in range(4):
                rows.append(
                    {
                        "image_id": f"ID_{p:03d}{study}{k}",
                        "PatientID": f"ID_p{p:03d}",
                        "StudyInstanceUID": f"1.2.{p}.{study}",
                        "SeriesInstanceUID": f"1.2.{p}.{study}.1",
                        "slice_index": k,
                        "any": int(p % 4 == 0 and k == 2),
                    }
                )
    return pd.DataFrame(rows)


def test_patients_and_their_studies_stay_on_one_side() -> None:
    train, holdout = holdout_split(_table())
    assert set(train["PatientID"]).isdisjoint(holdout["PatientID"])
    assert set(train["StudyInstanceUID"]).isdisjoint(holdout["StudyInstanceUID"])
    assert len(train) + len(holdout) == len(_table())
    assert holdout["PatientID"].nunique() == 6  # 20% of 30 patients
    # stratified: 2 of the 8 bleeding patients, 4 of the 22 others
    bleeding = holdout.groupby("PatientID")["any"].max()
    assert bleeding.sum() == 2


def test_split_ignores_row_order_and_sorts_slices() -> None:
    table = _table()
    train, holdout = holdout_split(table)
    shuffled_train, shuffled_holdout = holdout_split(table.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(train, shuffled_train)
    pd.testing.assert_frame_equal(holdout, shuffled_holdout)
    first_series = holdout[holdout["SeriesInstanceUID"] == holdout["SeriesInstanceUID"].iloc[0]]
    assert first_series["slice_index"].tolist() == [0, 1, 2, 3]


def test_version_draws_another_split() -> None:
    _, v1 = holdout_split(_table(), version="v1")
    _, v2 = holdout_split(_table(), version="v2")
    assert set(v1["PatientID"]) != set(v2["PatientID"])


def test_one_bleeding_patient_on_each_side_when_there_are_two() -> None:
    table = _table(8)  # patients 0 and 4 bleed
    train, holdout = holdout_split(table)
    assert train["any"].max() == 1 and holdout["any"].max() == 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="PatientID"):
        holdout_split(_table().drop(columns="PatientID"))
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(_table(), fraction=1.0)
