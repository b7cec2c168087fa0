"""Writers of small rsna-ich datasets: real CT DICOM files and a Kaggle-format label csv."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from harness.kit.imaging.synth_dicom import write_dicom
from tasks.rsna_ich.layout import SUBTYPES

SliceWriter = Callable[..., Path]


def write_slice(
    root: Path,
    image_id: str,
    *,
    patient: str = "ID_p0",
    study: str = "1.2.3.1",
    series: str = "1.2.3.1.1",
    z: float = 0.0,
    instance: int = 1,
    pixels: np.ndarray | None = None,
    bits_stored: int = 16,
    rescale: tuple[float, float] = (1.0, -1024.0),
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
) -> Path:
    """One CT slice ``stage_2_train/<image_id>.dcm`` (8x8 of stored 1064 = 40 HU by default)."""
    path = root / "stage_2_train" / f"{image_id}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_dicom(
        path,
        np.full((8, 8), 1064, np.int16) if pixels is None else pixels,
        transfer_syntax=ExplicitVRLittleEndian,
        bits_stored=bits_stored,
        rescale=rescale,
        patient_id=patient,
        modality="CT",
        extra={
            "StudyInstanceUID": study,
            "SeriesInstanceUID": series,
            "SOPInstanceUID": f"1.2.3.9.{abs(hash(image_id)) % 10**8}",
            "ImagePositionPatient": [-100.0, -100.0, z],
            "ImageOrientationPatient": list(orientation),
            "InstanceNumber": instance,
        },
    )
    return path


def label_rows(labels: dict[str, dict[str, int]]) -> pd.DataFrame:
    """Kaggle's ID,Label rows for ``{image_id: {subtype: label}}`` (absent subtypes are 0)."""
    rows = [
        (f"{image_id}_{subtype}", int(per_image.get(subtype, 0)))
        for image_id, per_image in labels.items()
        for subtype in SUBTYPES
    ]
    return pd.DataFrame(rows, columns=["ID", "Label"])


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """Two patients; patient A has two studies. File names do not follow slice order."""
    root = tmp_path / "ich"
    slices = {
        # image id: (patient, study, z, instance, labels)
        "ID_c0": ("ID_pa", "1.2.3.1", 10.0, 3, {"subdural": 1, "any": 1}),
        "ID_a0": ("ID_pa", "1.2.3.1", 0.0, 1, {}),
        "ID_b0": ("ID_pa", "1.2.3.1", 5.0, 2, {"subdural": 1, "any": 1}),
        "ID_d0": ("ID_pa", "1.2.3.2", -5.0, 1, {}),
        "ID_e0": ("ID_pb", "1.2.3.3", 20.0, 1, {"epidural": 1, "any": 1}),
        "ID_f0": ("ID_pb", "1.2.3.3", 15.0, 2, {}),
    }
    for image_id, (patient, study, z, instance, _) in slices.items():
        write_slice(
            root,
            image_id,
            patient=patient,
            study=study,
            series=study + ".1",
            z=z,
            instance=instance,
        )
    label_rows({k: v[4] for k, v in slices.items()}).to_csv(root / "stage_2_train.csv", index=False)
    return root
