"""Synthetic siim-pneumothorax data in the real Kaggle layout, for tests and quick CPU runs.

    <root>/train-rle.csv     "ImageId, EncodedPixels", values with a leading space, " -1" empty
    <root>/dicom-images-train/<StudyInstanceUID>/<SeriesInstanceUID>/<ImageId>.dcm

Each image is a chest-radiograph-like 8-bit Computed Radiography DICOM (MONOCHROME2,
uncompressed, like the competition's): dark air around a grey body, two dark lung fields with
vessel-like texture, a bright mediastinum and heart, rib arcs and noise. A pneumothorax is a
crescent of lung collapsed away from the chest wall along the lateral and apical edge of a lung:
black, without lung markings, bounded medially by a thin bright pleural line. Its mask is
written as a SIIM relative RLE; an image with pneumothorax in both lungs has two rows, as the
real file has one row per region. Some patients have several images (a grouped split matters).

Everything is drawn from ``seed``: the same seed gives the same csv and the same files.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from harness.kit.imaging.synth_dicom import write_dicom
from harness.kit.segmentation.rle import EMPTY_RELATIVE, encode_relative
from harness.kit.synthetic import OptionCheck
from harness.kit.task import Synthetic
from tasks.siim_pneumothorax.layout import IMAGE_DIR, TRAIN_CSV

_UID_ROOT = "1.2.276.0.7230010.3.1."
"""The UID root of the competition's files (study .2., series .3., instance .4.)."""
_MIN_REGION_PIXELS = 0.0015
"""Smallest crescent kept, as a fraction of the image (smaller draws are redrawn thicker)."""


@dataclass
class PneumothoraxSynthConfig:
    """Parameters of ``synthesize``; the defaults fit a small U-Net's smoke budget on a CPU."""

    n_images: int = 300
    height: int = 256
    """Image rows; the competition's images are 1024 x 1024."""
    width: int = 256
    prevalence: float = 0.22
    """Fraction of images with a pneumothorax (the real training set: ~22%)."""
    two_region_fraction: float = 0.2
    """Fraction of positive images with a crescent in both lungs (two CSV rows)."""
    repeat_patient_fraction: float = 0.15
    """Fraction of patients with two or three images."""


@dataclass(frozen=True)
class _Lung:
    center: tuple[float, float]
    axes: tuple[float, float]
    lateral: int
    """-1 when the chest wall is towards x = 0 (the patient's right lung), +1 otherwise."""


def synthesize(root: str | Path, config: PneumothoraxSynthConfig, seed: int) -> pd.DataFrame:
    """Write ``root/train-rle.csv`` and ``root/dicom-images-train/``; return the CSV's rows."""
    _validate(config)
    root = Path(root)
    rng = np.random.default_rng(seed)
    patients = _patients(rng, config)
    n_positive = round(config.prevalence * config.n_images)
    positive = np.zeros(config.n_images, dtype=bool)
    positive[rng.choice(config.n_images, size=n_positive, replace=False)] = True

    rows: list[tuple[str, str]] = []
    for index in range(config.n_images):
        image_rng = np.random.default_rng([seed, index])
        n_regions = 0
        if positive[index]:
            n_regions = 2 if image_rng.random() < config.two_region_fraction else 1
        pixels, regions = _radiograph(image_rng, config.height, config.width, n_regions)
        uids = {
            kind: generate_uid(prefix=f"{_UID_ROOT}{number}.", entropy_srcs=[str(seed), str(index)])
            for kind, number in (("study", 2), ("series", 3), ("instance", 4))
        }
        folder = root / IMAGE_DIR / uids["study"] / uids["series"]
        folder.mkdir(parents=True, exist_ok=True)
        write_dicom(
            folder / f"{uids['instance']}.dcm",
            pixels,
            transfer_syntax=ExplicitVRLittleEndian,
            bits_stored=8,
            patient_id=patients[index],
            modality="CR",
            extra={
                "SOPInstanceUID": uids["instance"],
                "StudyInstanceUID": uids["study"],
                "SeriesInstanceUID": uids["series"],
                "PatientSex": str(image_rng.choice(["M", "F"])),
                "PatientAge": f"{int(image_rng.integers(18, 90)):03d}Y",
                "ViewPosition": str(image_rng.choice(["PA", "AP"])),
                "BodyPartExamined": "CHEST",
            },
        )
        masks = [encode_relative(region) for region in regions] or [EMPTY_RELATIVE]
        rows += [(uids["instance"], rle) for rle in masks]

    order = rng.permutation(len(rows))
    table = pd.DataFrame([rows[i] for i in order], columns=["ImageId", "EncodedPixels"])
    with (root / TRAIN_CSV).open("w") as csv:
        csv.write("ImageId, EncodedPixels\n")
        csv.writelines(f"{image_id}, {rle}\n" for image_id, rle in table.itertuples(index=False))
    return table


def _validate(config: PneumothoraxSynthConfig) -> None:
    check = OptionCheck(config)
    check.at_least("n_images", 2)
    check.require(
        min(config.height, config.width) >= 32,
        f"height and width must be >= 32, got {config.height}x{config.width}",
    )
    check.fractions("prevalence", "two_region_fraction", "repeat_patient_fraction")
    check.raise_problems()


def _patients(rng: np.random.Generator, config: PneumothoraxSynthConfig) -> list[str]:
    """A PatientID (a UUID, as in the real headers) per image; some patients have 2-3 images."""
    patients: list[str] = []
    while len(patients) < config.n_images:
        patient = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        repeats = int(rng.integers(2, 4)) if rng.random() < config.repeat_patient_fraction else 1
        patients += [patient] * repeats
    order = rng.permutation(config.n_images)
    return [patients[i] for i in order]


def _radiograph(
    rng: np.random.Generator, height: int, width: int, n_regions: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A uint8 chest radiograph and the boolean mask of each pneumothorax region drawn in it."""
    scale = np.array([width, height], dtype=np.float64)
    shift = rng.normal(0, 0.015, size=2)
    image = np.full((height, width), 25.0)
    body_center = scale * (np.array([0.5, 0.56]) + shift)
    _fill_ellipse(image, body_center, scale * [0.47, 0.56], 150.0)

    lungs = [
        _Lung(
            tuple(scale * (np.array([0.5 + side * 0.2, 0.44]) + shift + rng.normal(0, 0.01, 2))),
            tuple(scale * np.array([0.14, 0.29]) * rng.uniform(0.92, 1.08, 2)),
            side if side > 0 else -1,
        )
        for side in (-1, 1)
    ]
    texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width)), (0, 0), max(1.0, width / 150))
    texture = texture * (22.0 / max(float(texture.std()), 1e-6))
    lung_level = rng.uniform(55, 75)
    lung_area = np.zeros((height, width), dtype=bool)
    for lung in lungs:
        lung_area |= _ellipse_mask((height, width), lung.center, lung.axes)
    image[lung_area] = lung_level + texture[lung_area]

    heart_center = scale * (np.array([0.53, 0.63]) + shift)
    _fill_ellipse(image, heart_center, scale * [0.13, 0.17], 185.0)
    image[:, int(width * 0.47) : int(width * 0.53)] += 25.0  # spine over the mediastinum
    _draw_ribs(image, rng, lungs)

    regions = []
    for lung in rng.permutation(np.array(lungs, dtype=object))[:n_regions]:
        region = _pneumothorax(image, rng, lung)
        regions.append(region)

    image = image * rng.uniform(0.9, 1.1) + rng.normal(0, 4.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), regions


def _pneumothorax(image: np.ndarray, rng: np.random.Generator, lung: _Lung) -> np.ndarray:
    """Draw a crescent along the lateral/apical wall of ``lung`` into ``image``; its mask."""
    shape = image.shape
    lung_mask = _ellipse_mask(shape, lung.center, lung.axes)
    min_pixels = _MIN_REGION_PIXELS * image.size
    thickness = rng.uniform(0.12, 0.3)
    while True:
        # The collapsed lung: smaller, pulled towards the hilum (medially and down).
        axes = (lung.axes[0] * (1 - thickness), lung.axes[1] * (1 - 0.5 * thickness))
        center = (
            lung.center[0] - lung.lateral * lung.axes[0] * thickness * 0.9,
            lung.center[1] + lung.axes[1] * thickness * 0.4,
        )
        collapsed = _ellipse_mask(shape, center, axes)
        region = lung_mask & ~collapsed
        rows = np.arange(shape[0])[:, None]
        region &= rows < lung.center[1] + lung.axes[1] * rng.uniform(0.2, 0.6)
        if region.sum() >= min_pixels or thickness >= 0.6:
            break
        thickness *= 1.3
    image[region] = rng.uniform(15, 30) + rng.normal(0, 2.0, int(region.sum()))
    pleural_line = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    pleural_line &= collapsed & lung_mask
    image[pleural_line] += 45.0
    return region


def _draw_ribs(image: np.ndarray, rng: np.random.Generator, lungs: list[_Lung]) -> None:
    """Faint bright arcs across each lung field, like posterior ribs."""
    ribs = np.zeros_like(image)
    thickness = max(1, round(image.shape[0] / 90))
    for lung in lungs:
        for k in range(6):
            y = lung.center[1] - lung.axes[1] * 0.9 + k * lung.axes[1] * 0.33
            center = (round(lung.center[0]), round(y + lung.axes[1] * 0.25))
            axes = (round(lung.axes[0] * 1.1), round(lung.axes[1] * 0.3))
            cv2.ellipse(ribs, center, axes, 0, 180, 360, 1.0, thickness)
    image += ribs * rng.uniform(14, 24)


def _ellipse_mask(
    shape: tuple[int, ...], center: tuple[float, float], axes: tuple[float, float]
) -> np.ndarray:
    rows, columns = np.ogrid[: shape[0], : shape[1]]
    return ((columns - center[0]) / axes[0]) ** 2 + ((rows - center[1]) / axes[1]) ** 2 <= 1.0


def _fill_ellipse(image: np.ndarray, center: np.ndarray, axes: np.ndarray, value: float) -> None:
    image[_ellipse_mask(image.shape, (center[0], center[1]), (axes[0], axes[1]))] = value


SYNTHETIC = Synthetic(
    config=PneumothoraxSynthConfig,
    generate=synthesize,
    contract={"n_images": 24, "height": 64, "width": 64, "prevalence": 0.4},
)
