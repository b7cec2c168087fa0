"""Synthetic rsna-cervical data in the real Kaggle layout, for tests and quick runs on a CPU.

    <root>/train.csv                        StudyInstanceUID, patient_overall, C1..C7
    <root>/train_images/<UID>/<n>.dcm       axial CT slices, 12-16 bit, rescaled to HU
    <root>/segmentations/<UID>.nii          labels for a subset of studies, Kaggle orientation
    <root>/train_bounding_boxes.csv         fracture boxes for a subset of fractured studies

Each study is a neck in soft tissue: from the feet up two thoracic vertebrae (labels 8, 9),
C7 .. C1 (labels 7 .. 1, C2 the tallest, C1 the shortest) separated by discs, then the skull
base. A vertebra is an elliptical body (cortical rim, cancellous core) with a posterior arch
around the spinal canal; the spine drifts and tilts a little along the neck. A fractured
vertebra has a dark cleft (soft-tissue HU, a few pixels wide) cutting across its body and arch
on most of its slices: plainly visible in the bone window, so a small model can learn it.

The DICOM variety of the real data is reproduced: signed int16 (Explicit VR Little Endian or
JPEG 2000 lossless) and unsigned 12-bit (JPEG Lossless SV1) slices, all with RescaleIntercept
-1024, padding of -2000 HU outside a circular field of view, file numbers that run from the head
down in most studies and from the feet up in some (``reversed_numbering_fraction``): only
ImagePositionPatient gives the order. Segmentations are written as the Kaggle files are
oriented (``volume.to_nifti_array``), with their LAS affine.

Everything is drawn from ``seed``: the same seed gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1, generate_uid

from harness.kit.imaging.ct import AXIAL
from harness.kit.imaging.synth_dicom import write_dicom
from harness.kit.synthetic import OptionCheck
from harness.kit.task import Synthetic
from tasks.rsna_cervical.layout import (
    BOX_COLUMNS,
    BOXES_CSV,
    COLUMNS,
    IMAGE_DIR,
    SEGMENTATION_DIR,
    TRAIN_CSV,
    VERTEBRAE,
)
from tasks.rsna_cervical.volume import NIFTI_AFFINE, to_nifti_array

_INTERCEPT = -1024.0
_PADDING_HU = -2000.0
_AIR, _SOFT, _DISC, _CANAL = -1000.0, 40.0, 90.0, 15.0
_CORTEX, _MARROW, _ARCH, _SKULL = 900.0, 280.0, 650.0, 750.0
# From the feet up: T2, T1, C7 .. C1 (labels and relative heights), then the skull base.
_STACK: tuple[tuple[int, float], ...] = (
    (9, 1.0),
    (8, 1.0),
    (7, 1.0),
    (6, 1.0),
    (5, 1.0),
    (4, 1.0),
    (3, 1.0),
    (2, 1.5),
    (1, 0.7),
)
_DISC_HEIGHT = 0.3
_SKULL_HEIGHT = 1.2
_FRACTURE_WEIGHTS = np.asarray([0.12, 0.2, 0.08, 0.08, 0.12, 0.2, 0.2])
"""Which of C1..C7 breaks, roughly as often as in the real data (C2, C6 and C7 most)."""


@dataclass
class CervicalSynthConfig:
    """Parameters of ``synthesize``; the defaults suit the smoke budget on two CPU cores."""

    n_studies: int = 64
    size: int = 64
    """Rows and columns of a slice; the real slices are 512 x 512."""
    min_slices: int = 32
    max_slices: int = 44
    """Slices per study, drawn uniformly; real studies have ~200-700."""
    prevalence: float = 0.5
    """Fraction of studies with a fracture (the real data has ~48%)."""
    segmentation_fraction: float = 0.5
    """Fraction of studies with a segmentation NIfTI (87 of 2019 in the real data)."""
    box_fraction: float = 0.5
    """Fraction of fractured studies with bounding boxes (235 of 961 in the real data)."""
    jpeg2000_fraction: float = 0.15
    jpeg_lossless_fraction: float = 0.15
    """JPEG 2000 lossless and JPEG Lossless SV1 studies; the rest are uncompressed."""
    reversed_numbering_fraction: float = 0.25
    """Studies whose 1.dcm is the lowest slice instead of the highest."""


@dataclass(frozen=True)
class _Study:
    uid: str
    n_slices: int
    fractured: tuple[int, ...]
    """Labels (1..7) of the fractured vertebrae."""
    segmented: bool
    boxed: bool
    transfer_syntax: str
    reversed_numbering: bool


def synthesize(root: str | Path, config: CervicalSynthConfig, seed: int) -> pd.DataFrame:
    """Write the dataset under ``root`` and return the train.csv table written."""
    _validate(config)
    root = Path(root)
    rng = np.random.default_rng(seed)
    studies = _draw_studies(rng, config)
    boxes: list[dict[str, object]] = []
    for index, study in enumerate(studies):
        study_rng = np.random.default_rng([seed, index])
        boxes.extend(_write_study(root, study, study_rng, config.size))
    table = pd.DataFrame(
        [
            {
                "StudyInstanceUID": s.uid,
                "patient_overall": int(bool(s.fractured)),
                **{v: int(i + 1 in s.fractured) for i, v in enumerate(VERTEBRAE)},
            }
            for s in studies
        ],
        columns=list(COLUMNS),
    )
    table.to_csv(root / TRAIN_CSV, index=False)
    pd.DataFrame(boxes, columns=list(BOX_COLUMNS)).to_csv(root / BOXES_CSV, index=False)
    return table


def _validate(config: CervicalSynthConfig) -> None:
    check = OptionCheck(config)
    check.at_least("n_studies", 1)
    check.at_least("size", 32, " (JPEG 2000 needs it)")
    check.require(
        24 <= config.min_slices <= config.max_slices,
        f"need 24 <= min_slices <= max_slices (every vertebra needs slices), got "
        f"{config.min_slices} and {config.max_slices}",
    )
    check.fractions(
        "prevalence",
        "segmentation_fraction",
        "box_fraction",
        "jpeg2000_fraction",
        "jpeg_lossless_fraction",
        "reversed_numbering_fraction",
    )
    check.shares("jpeg2000_fraction", "jpeg_lossless_fraction")
    check.raise_problems()


def _draw_studies(rng: np.random.Generator, config: CervicalSynthConfig) -> list[_Study]:
    n = config.n_studies
    numbers = 10_000 + rng.choice(90_000, size=n, replace=False)
    fractured_studies = set(
        rng.choice(n, size=round(config.prevalence * n), replace=False).tolist()
    )
    segmented = set(
        rng.choice(n, size=round(config.segmentation_fraction * n), replace=False).tolist()
    )
    studies = []
    for k in range(n):
        fractured: tuple[int, ...] = ()
        if k in fractured_studies:
            count = 1 + int(rng.random() < 0.3)
            picked = rng.choice(7, size=count, replace=False, p=_FRACTURE_WEIGHTS)
            fractured = tuple(sorted(int(v) + 1 for v in picked))
        draw = rng.random()
        if draw < config.jpeg2000_fraction:
            syntax = JPEG2000Lossless
        elif draw < config.jpeg2000_fraction + config.jpeg_lossless_fraction:
            syntax = JPEGLosslessSV1
        else:
            syntax = ExplicitVRLittleEndian
        studies.append(
            _Study(
                uid=f"1.2.826.0.1.3680043.{numbers[k]}",
                n_slices=int(rng.integers(config.min_slices, config.max_slices + 1)),
                fractured=fractured,
                segmented=k in segmented,
                boxed=bool(fractured) and rng.random() < config.box_fraction,
                transfer_syntax=syntax,
                reversed_numbering=bool(rng.random() < config.reversed_numbering_fraction),
            )
        )
    return studies


def _levels(rng: np.random.Generator, n_slices: int) -> np.ndarray:
    """The structure at each slice (ascending position): a vertebra label, 0 = disc or neck
    below, -1 = skull base."""
    heights = np.asarray([h for _, h in _STACK]) * rng.uniform(0.85, 1.15, size=len(_STACK))
    below = rng.uniform(0.2, 0.6)
    total = below + heights.sum() + _DISC_HEIGHT * (len(_STACK) - 1) + _SKULL_HEIGHT
    scale = n_slices / total
    levels = np.zeros(n_slices, dtype=np.int64)
    z = below
    for i, (label, _) in enumerate(_STACK):
        start, end = round(z * scale), round((z + heights[i]) * scale)
        levels[start:end] = label
        z += heights[i] + _DISC_HEIGHT
    levels[round((z - _DISC_HEIGHT + 0.15) * scale) :] = -1
    return levels


def _write_study(
    root: Path, study: _Study, rng: np.random.Generator, size: int
) -> list[dict[str, object]]:
    """Render one study, write its slices (and segmentation), return its bounding boxes."""
    n = study.n_slices
    levels = _levels(rng, n)
    spacing = rng.uniform(0.5, 0.8) * 512 / size  # mm per pixel, as a 512-pixel field of view
    thickness = rng.uniform(1.8, 2.6)
    origin = np.asarray([-spacing * size / 2, -spacing * size / 2, rng.uniform(-400, -200)])
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    hu = np.empty((n, size, size), dtype=np.float32)
    labels = np.zeros((n, size, size), dtype=np.uint8)
    clefts = _cleft_lines(rng, study.fractured, size)
    drift = rng.uniform(-0.04, 0.04, size=2) * size
    body_radii = (rng.uniform(0.085, 0.1) * size, rng.uniform(0.1, 0.12) * size)
    numbers = [k + 1 if study.reversed_numbering else n - k for k in range(n)]
    boxes: list[dict[str, object]] = []
    for k in range(n):
        t = k / max(n - 1, 1)
        center = np.asarray([0.47 * size, 0.5 * size]) + drift * np.sin(np.pi * t)
        image, bone = _render_slice(rng, rows, cols, size, int(levels[k]), center, body_radii)
        label = int(levels[k])
        if label > 0:
            labels[k][bone] = label
            cleft = clefts.get(label)
            if cleft is not None and _in_fracture(levels, k, label):
                crack = _draw_cleft(size, center, cleft) & bone
                image[crack] = _SOFT + rng.normal(0, 15, size=int(crack.sum()))
                if study.boxed:
                    ys, xs = np.nonzero(crack)
                    boxes.append(
                        {
                            "StudyInstanceUID": study.uid,
                            "x": float(xs.min()),
                            "y": float(ys.min()),
                            "width": float(xs.max() - xs.min() + 1),
                            "height": float(ys.max() - ys.min() + 1),
                            "slice_number": numbers[k],
                        }
                    )
        hu[k] = image
    study_dir = root / IMAGE_DIR / study.uid
    study_dir.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        position = origin + np.asarray([0.0, 0.0, k * thickness])
        _write_slice(
            study_dir / f"{numbers[k]}.dcm", hu[k], study, numbers[k], position, spacing, thickness
        )
    if study.segmented:
        _write_segmentation(
            root / SEGMENTATION_DIR / f"{study.uid}.nii", labels, spacing, thickness, origin
        )
    return boxes


def _render_slice(
    rng: np.random.Generator,
    rows: np.ndarray,
    cols: np.ndarray,
    size: int,
    level: int,
    center: np.ndarray,
    body_radii: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """HU image of one axial slice and the mask of its vertebra's bone (empty off vertebrae).

    Besides the vertebra, each level has the landmarks that tell levels apart on a real CT:
    the mandible in front of C1-C2, the hyoid at C3, the thyroid cartilage at C4-C5, the
    cricoid at C6, the shoulders from C7 down and the lungs beside the thoracic vertebrae.
    Vertebral bodies grow from C2 down; C1 is a ring without a body.
    """
    cy, cx = center
    radius = np.hypot(rows - size / 2, cols - size / 2)
    neck_width = 0.34 + (0.08 if level in (7, 8, 9) else 0.0) + 0.005 * max(level, 0)
    neck = ((rows - 0.5 * size) / (0.36 * size)) ** 2 + (
        (cols - 0.5 * size) / (neck_width * size)
    ) ** 2
    image = np.where(neck < 1.0, _SOFT, _AIR).astype(np.float32)
    bone = np.zeros(rows.shape, dtype=bool)
    growth = 0.8 + 0.06 * min(max(level, 2), 8)  # C2 smallest body, thoracic largest
    ry, rx = body_radii[0] * growth, body_radii[1] * growth
    body = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2
    canal_y = cy + ry + 0.09 * size
    canal = np.hypot(rows - canal_y, cols - cx)
    front = ((rows - (cy - 0.2 * size)) / (0.12 * size)) ** 2 + ((cols - cx) / (0.2 * size)) ** 2
    if level == 1:  # atlas: a ring around the canal and the dens' place
        ring = np.hypot((rows - (cy + 0.05 * size)) / 1.1, cols - cx)
        bone = (ring >= 0.11 * size) & (ring < 0.16 * size)
        image[bone] = _ARCH
        image[(front < 1.0) & (front > 0.6) & (rows < cy - 0.2 * size)] = _SKULL  # mandible
    elif level > 0:
        core = ((rows - cy) / (ry - 1.5)) ** 2 + ((cols - cx) / (rx - 1.5)) ** 2
        image[body < 1.0] = _CORTEX
        image[core < 1.0] = _MARROW
        if level == 2:
            image[np.hypot(rows - cy, cols - cx) < 0.35 * rx] = _CORTEX  # the dens
            image[(front < 1.0) & (front > 0.6) & (rows < cy - 0.2 * size)] = _SKULL
        arch = (canal >= 0.07 * size) & (canal < 0.11 * size) & (rows > cy)
        image[arch] = _ARCH
        bone = (body < 1.0) | arch
        _add_landmark(image, rows, cols, size, level, cy - ry, cx)
    elif level == 0:
        image[body < 1.0] = _DISC
    else:
        skull = ((rows - 0.55 * size) / (0.25 * size)) ** 2 + ((cols - cx) / (0.3 * size)) ** 2
        image[(skull < 1.0) & (skull > 0.55)] = _SKULL
    image[(canal < 0.07 * size) & ~bone] = _CANAL
    image += rng.normal(0.0, 18.0, size=image.shape).astype(np.float32)
    image[radius > 0.5 * size] = _PADDING_HU
    return image, bone


def _add_landmark(
    image: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    size: int,
    level: int,
    top: float,
    cx: float,
) -> None:
    """The level's anterior neck landmark, or shoulders and lungs from C7 down."""
    ahead = np.hypot(rows - (top - 0.12 * size), cols - cx)
    if level == 3:  # hyoid: a thin bony arc
        image[(ahead > 0.08 * size) & (ahead < 0.1 * size) & (rows < top - 0.12 * size)] = _ARCH
    elif level in (4, 5):  # thyroid cartilage: a V of calcified cartilage
        v = np.abs(cols - cx) * 0.8 - (top - 0.05 * size - rows)
        image[(np.abs(v) < 1.0) & (rows < top - 0.05 * size) & (rows > top - 0.2 * size)] = 250.0
    elif level == 6:  # cricoid: a small ring
        image[(ahead > 0.05 * size) & (ahead < 0.07 * size)] = 250.0
    elif level >= 7:  # C7 and thoracic: lungs beside the spine
        for side in (-1, 1):
            lung = ((rows - 0.5 * size) / (0.2 * size)) ** 2 + (
                (cols - cx - side * 0.27 * size) / (0.1 * size)
            ) ** 2
            image[lung < (0.5 if level == 7 else 1.0)] = -800.0


def _cleft_lines(
    rng: np.random.Generator, fractured: tuple[int, ...], size: int
) -> dict[int, tuple[float, float, int]]:
    """Per fractured vertebra: the cleft's angle, its offset from the body centre, its width."""
    width = max(2, round(size / 24))
    return {
        label: (rng.uniform(0, np.pi), rng.uniform(-0.04, 0.04) * size, width)
        for label in fractured
    }


def _in_fracture(levels: np.ndarray, k: int, label: int) -> bool:
    """The cleft spans the vertebra's slices except its first and last."""
    span = np.flatnonzero(levels == label)
    return bool(span[0] < k < span[-1]) if len(span) > 2 else True


def _draw_cleft(size: int, center: np.ndarray, cleft: tuple[float, float, int]) -> np.ndarray:
    angle, offset, width = cleft
    direction = np.asarray([np.cos(angle), np.sin(angle)])
    normal = np.asarray([-direction[1], direction[0]])
    mid = np.asarray([center[1], center[0]]) + offset * normal  # (x, y)
    ends = [mid - size * direction, mid + size * direction]
    canvas = np.zeros((size, size), dtype=np.uint8)
    p0, p1 = (tuple(round(float(v)) for v in end) for end in ends)
    cv2.line(canvas, p0, p1, 1, thickness=width)
    return canvas.astype(bool)


def _write_slice(
    path: Path,
    hu: np.ndarray,
    study: _Study,
    number: int,
    position: np.ndarray,
    spacing: float,
    thickness: float,
) -> None:
    stored = np.rint(hu - _INTERCEPT)
    if study.transfer_syntax == JPEGLosslessSV1:
        pixels = np.clip(stored, 0, 4095).astype(np.uint16)
        bits = 12
    else:
        pixels = np.clip(stored, -32768, 32767).astype(np.int16)
        bits = 16
    write_dicom(
        path,
        pixels,
        transfer_syntax=study.transfer_syntax,
        bits_stored=bits,
        rescale=(1.0, _INTERCEPT),
        window=([400.0], [1800.0]),
        patient_id=study.uid,
        modality="CT",
        extra={
            "StudyInstanceUID": study.uid,
            "SeriesInstanceUID": generate_uid(entropy_srcs=["series", study.uid]),
            "SOPInstanceUID": generate_uid(entropy_srcs=["slice", study.uid, str(number)]),
            "InstanceNumber": number,
            "ImagePositionPatient": [round(float(v), 3) for v in position],
            "ImageOrientationPatient": list(AXIAL),
            "PixelSpacing": [round(spacing, 4), round(spacing, 4)],
            "SliceThickness": round(thickness, 3),
            "BodyPartExamined": "CSPINE",
        },
    )


def _write_segmentation(
    path: Path, labels: np.ndarray, spacing: float, thickness: float, origin: np.ndarray
) -> None:
    import nibabel as nib

    affine = NIFTI_AFFINE @ np.diag([spacing, spacing, thickness, 1.0])
    # Voxel (0, 0, 0) is DICOM column 0, the last row and the lowest slice; LPS to RAS.
    last_row_y = origin[1] + (labels.shape[1] - 1) * spacing
    affine[:3, 3] = [-origin[0], -last_row_y, origin[2]]
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(to_nifti_array(labels), affine), str(path))


SYNTHETIC = Synthetic(
    config=CervicalSynthConfig,
    generate=synthesize,
    contract={
        "n_studies": 10,
        "size": 32,
        "min_slices": 24,
        "max_slices": 28,
        "segmentation_fraction": 0.6,
    },
)
