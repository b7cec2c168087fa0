"""The synthetic generator: Kaggle layout, CT encodings, slice geometry, lesions and labels."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from harness.api import HarnessError
from harness.kit.imaging.ct import to_hu
from harness.kit.imaging.dicom import read_dicom
from tasks.rsna_ich.layout import SUBTYPES, read_train_table
from tasks.rsna_ich.synthetic import IchSynthConfig, synthesize

TINY = IchSynthConfig(n_patients=10, slices_per_study=8, size=48, duplicate_images=2)
SEED = 5


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("ich")
    return root, synthesize(root, TINY, seed=SEED)


def _hu(path: str | Path) -> np.ndarray:
    image = read_dicom(path)
    return to_hu(image.pixels, image.header)


def test_csv_has_six_rows_per_image_in_random_order_with_verbatim_duplicates(dataset) -> None:
    root, table = dataset
    csv = pd.read_csv(root / "stage_2_train.csv")
    assert csv.columns.tolist() == ["ID", "Label"]
    assert len(csv) == 6 * (len(table) + 2)
    assert csv["ID"].iloc[:6].str.rsplit("_", n=1).str[1].tolist() == list(SUBTYPES)
    duplicated = csv[csv.duplicated(keep=False)]
    assert len(duplicated) == 2 * 12
    assert csv.drop_duplicates()["ID"].is_unique
    images = csv["ID"].str.rsplit("_", n=1).str[0].drop_duplicates().tolist()
    assert images != sorted(images)
    assert sorted(p.name for p in (root / "stage_2_train").iterdir()) == sorted(
        f"{i}.dcm" for i in table["image_id"]
    )


def test_same_seed_same_bytes(dataset, tmp_path: Path) -> None:
    root, table = dataset
    again = synthesize(tmp_path, TINY, seed=SEED)
    pd.testing.assert_frame_equal(table, again)
    for name in ["stage_2_train.csv", *(f"stage_2_train/{i}.dcm" for i in table["image_id"][:5])]:
        digest = [hashlib.sha256((r / name).read_bytes()).hexdigest() for r in (root, tmp_path)]
        assert digest[0] == digest[1], name


def test_all_three_encodings_give_the_same_hu_scale(dataset) -> None:
    root, table = dataset
    assert set(table["encoding"]) == {"signed", "signed12", "quirk"}
    for encoding, rows in table.groupby("encoding"):
        path = rows["image_id"].iloc[len(rows) // 2]
        header = pydicom.dcmread(root / "stage_2_train" / f"{path}.dcm", stop_before_pixels=True)
        hu = _hu(root / "stage_2_train" / f"{path}.dcm")
        assert np.median(hu) == pytest.approx(-1000, abs=10)  # air around the head
        brain = hu[(hu > 0) & (hu < 100)]
        assert np.median(brain) == pytest.approx(32, abs=6), encoding
        assert hu.max() == pytest.approx(1000, abs=20)  # skull
        if encoding == "quirk":
            assert (header.BitsStored, header.PixelRepresentation) == (12, 0)
            assert float(header.RescaleIntercept) == 0.0
            raw = pydicom.dcmread(root / "stage_2_train" / f"{path}.dcm").pixel_array
            assert raw.max() > 3000  # read naively, air would be bone
        elif encoding == "signed12":
            assert (header.BitsStored, header.PixelRepresentation) == (12, 1)
        else:
            assert float(header.RescaleIntercept) == -1024.0


def test_hyperdense_pixels_exactly_on_positive_slices(dataset) -> None:
    root, table = dataset
    hyperdense = np.array(
        [
            int(((hu >= 55) & (hu <= 100)).sum())
            for hu in (_hu(root / "stage_2_train" / f"{i}.dcm") for i in table["image_id"])
        ]
    )
    positive = table["any"].to_numpy() == 1
    assert 0.2 < positive.mean() < 0.7
    assert (hyperdense[positive] > 0).all()
    assert (hyperdense[~positive] == 0).all()
    assert (table["any"] == table[list(SUBTYPES[:-1])].max(axis=1)).all()
    assert all(table[s].sum() > 0 for s in SUBTYPES)


def test_hemorrhages_span_neighbouring_slices(dataset) -> None:
    _, table = dataset
    runs = []
    for _, study in table.groupby("StudyInstanceUID"):
        for subtype in SUBTYPES[:-1]:
            flags = study.sort_values("slice_index")[subtype].to_numpy()
            edges = np.diff(np.concatenate([[0], flags, [0]]))
            runs.extend(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1))
    assert len(runs) > 5 and np.median(runs) >= 3


def test_headers_give_the_slice_order_not_file_names(dataset) -> None:
    root, table = dataset
    loaded = read_train_table(root)
    merged = loaded.merge(table, on="image_id", suffixes=("", "_written"))
    assert (merged["slice_index"] == merged["slice_index_written"]).all()
    assert loaded["PatientID"].nunique() == 10 and loaded["StudyInstanceUID"].nunique() > 10
    by_name = [
        (series["image_id"].sort_values().tolist() == series["image_id"].tolist())
        for _, series in loaded.groupby("SeriesInstanceUID", sort=False)
    ]
    assert not any(by_name)
    # some series are numbered top down, and some studies are tilted
    reversed_numbers = loaded.groupby("SeriesInstanceUID")["InstanceNumber"].first() > 1
    assert reversed_numbers.any() and not reversed_numbers.all()
    steps = loaded.groupby("SeriesInstanceUID")["position"].apply(lambda p: np.diff(p).mean())
    assert np.allclose(steps, 5.0)


def test_invalid_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match=r"size must be >= 32.*bleeding_fraction"):
        synthesize(tmp_path, IchSynthConfig(size=16, bleeding_fraction=1.5), seed=0)
