"""Synthetic rsna-breast data in the real Kaggle layout, for tests and quick runs on a CPU.

    <root>/train.csv                                   Kaggle's 14 columns, in order
    <root>/train_images/<patient_id>/<image_id>.dcm    4 views per patient: L/R x CC/MLO

Each image is a 12-bit mammogram-like picture: dark noisy background, a half-ellipse breast
against the chest-wall edge of its laterality ('L': left edge, 'R': right edge), smooth
fibroglandular texture, a pectoral muscle on MLO views, a burned-in marker (bright rectangle
with dark text such as 'L CC') in a top corner away from the breast, and, on both views of the
cancer side of a cancer patient, a bright spiculated lesion. The DICOM variety of the real
data is reproduced: JPEG 2000 lossless, JPEG Lossless SV1 and uncompressed pixel data,
MONOCHROME1 stored inverted, single and multi-valued windows, LINEAR and SIGMOID VOI functions.

Everything is drawn from ``seed``: the same seed gives the same csv and the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1, generate_uid

from harness.kit.imaging.synth_dicom import write_dicom
from harness.kit.synthetic import OptionCheck, smooth_noise
from harness.kit.task import Synthetic
from tasks.rsna_breast.layout import COLUMNS

BITS_STORED = 12
_MAX_VALUE = 2**BITS_STORED - 1
_MACHINE_IDS = (21, 29, 48, 49, 93, 120, 170, 190, 197, 210, 216)
"""machine_id values seen in the real train.csv; more machines get ids above these."""
_DENSITIES = ("A", "B", "C", "D")

# Display-space levels (MONOCHROME2 stored values before the per-machine gain).
_BACKGROUND = 80.0
_FAT = 900.0
_TISSUE_MAX = 3000.0
_LESION = 3950.0
_MARKER = 3700.0
_MARKER_TEXT = 300.0
_WINDOW = (2100.0, 3000.0)
"""(center, width) covering fat to dense tissue: the lesion saturates, the background is 0."""


@dataclass
class BreastSynthConfig:
    """Parameters of ``synthesize``; the defaults make a dataset a small CNN learns in minutes."""

    n_patients: int = 160
    height: int = 256
    """Image rows; real images are up to 5355 x 4915, typically 3328 x 2560 or 2294 x 1914."""
    width: int = 208
    prevalence: float = 0.25
    """Fraction of patients with cancer (on one breast); the real data has ~2%."""
    jpeg2000_fraction: float = 0.4
    """JPEG 2000 lossless files (1.2.840.10008.1.2.4.90), as most of the Kaggle images."""
    jpeg_lossless_fraction: float = 0.3
    """JPEG Lossless SV1 files (1.2.840.10008.1.2.4.70, written with imagecodecs); the rest
    are uncompressed."""
    monochrome1_fraction: float = 0.2
    sigmoid_fraction: float = 0.2
    multi_window_fraction: float = 0.3
    n_sites: int = 2
    n_machines: int = 4


def synthesize(root: str | Path, config: BreastSynthConfig, seed: int) -> pd.DataFrame:
    """Write ``root/train.csv`` and ``root/train_images/`` and return the table written."""
    _validate(config)
    root = Path(root)
    rng = np.random.default_rng(seed)
    machine_ids = _machine_ids(config.n_machines)
    # Each machine has its own detector gain (and window): a mild domain shift between sites.
    gains = dict(zip(machine_ids, 0.9 + 0.18 * rng.random(len(machine_ids)), strict=True))
    table, lesion_sides = _make_table(rng, config, machine_ids)
    image_dir = root / "train_images"
    for index, row in enumerate(table.to_dict("records")):
        image_rng = np.random.default_rng([seed, index])
        patient_dir = image_dir / str(row["patient_id"])
        patient_dir.mkdir(parents=True, exist_ok=True)
        _write_image(
            patient_dir / f"{row['image_id']}.dcm",
            image_rng,
            config,
            patient_id=int(row["patient_id"]),
            image_id=int(row["image_id"]),
            laterality=str(row["laterality"]),
            view=str(row["view"]),
            density=row["density"] if isinstance(row["density"], str) else None,
            lesion=lesion_sides.get(int(row["patient_id"])) == row["laterality"],
            gain=float(gains[row["machine_id"]]),
        )
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "train.csv", index=False)
    return table


def _validate(config: BreastSynthConfig) -> None:
    check = OptionCheck(config)
    check.at_least("n_patients", 1)
    check.require(
        min(config.height, config.width) >= 32,
        f"height and width must be >= 32, got {config.height}x{config.width}",
    )
    check.fractions(
        "prevalence",
        "jpeg2000_fraction",
        "jpeg_lossless_fraction",
        "monochrome1_fraction",
        "sigmoid_fraction",
        "multi_window_fraction",
    )
    check.shares("jpeg2000_fraction", "jpeg_lossless_fraction")
    check.require(
        1 <= config.n_sites <= config.n_machines,
        f"need 1 <= n_sites <= n_machines, got {config.n_sites} sites and "
        f"{config.n_machines} machines",
    )
    check.raise_problems()


def _machine_ids(n_machines: int) -> list[int]:
    ids = list(_MACHINE_IDS[:n_machines])
    return ids + [_MACHINE_IDS[-1] + k for k in range(1, n_machines - len(ids) + 1)]


def _make_table(
    rng: np.random.Generator, config: BreastSynthConfig, machine_ids: list[int]
) -> tuple[pd.DataFrame, dict[int, str]]:
    """The train.csv table (sorted like Kaggle's) and the cancer side of each cancer patient."""
    n = config.n_patients
    patient_ids = 10_000 + rng.choice(max(55_535, 4 * n), size=n, replace=False)
    image_ids = 1 + rng.choice(2**31 - 2, size=4 * n, replace=False)
    # Machine k belongs to site k % n_sites + 1, so every site has at least one machine.
    sites_of_machines = [k % config.n_sites + 1 for k in range(config.n_machines)]
    n_cancer = round(config.prevalence * n)
    cancer_patients = set(rng.choice(n, size=n_cancer, replace=False).tolist())

    rows: list[dict[str, object]] = []
    lesion_sides: dict[int, str] = {}
    for p in range(n):
        patient_id = int(patient_ids[p])
        machine = int(rng.integers(config.n_machines))
        site = sites_of_machines[machine]
        age = float(np.clip(round(rng.normal(58, 10)), 26, 89)) if rng.random() > 0.05 else np.nan
        implant = int(rng.random() < 0.03)
        density = _DENSITIES[rng.choice(4, p=[0.1, 0.4, 0.4, 0.1])] if rng.random() > 0.4 else None
        cancer_side = str(rng.choice(["L", "R"])) if p in cancer_patients else None
        if cancer_side is not None:
            lesion_sides[patient_id] = cancer_side
        for laterality in ("L", "R"):
            cancer = int(laterality == cancer_side)
            biopsy = 1 if cancer else int(rng.random() < 0.03)
            invasive = int(cancer and rng.random() < 0.75)
            if site != 1:  # like the real site 2, which reports no BI-RADS
                birads = np.nan
            else:
                birads = 0.0 if cancer else float(rng.choice(3, p=[0.15, 0.6, 0.25]))
            difficult = bool(not cancer and (biopsy or rng.random() < 0.1))
            for view in ("CC", "MLO"):
                rows.append(
                    {
                        "site_id": site,
                        "patient_id": patient_id,
                        "image_id": int(image_ids[len(rows)]),
                        "laterality": laterality,
                        "view": view,
                        "age": age,
                        "cancer": cancer,
                        "biopsy": biopsy,
                        "invasive": invasive,
                        "BIRADS": birads,
                        "implant": implant,
                        "density": density,
                        "machine_id": machine_ids[machine],
                        "difficult_negative_case": difficult,
                    }
                )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table = table.sort_values(["patient_id", "image_id"], ignore_index=True)
    return table, lesion_sides


def _write_image(
    path: Path,
    rng: np.random.Generator,
    config: BreastSynthConfig,
    *,
    patient_id: int,
    image_id: int,
    laterality: str,
    view: str,
    density: str | None,
    lesion: bool,
    gain: float,
) -> None:
    """Draw one view and write it with randomly chosen DICOM encoding options."""
    density_level = _DENSITIES.index(density) if density else int(rng.integers(4))
    display = _render(
        rng,
        config.height,
        config.width,
        laterality=laterality,
        view=view,
        density_level=density_level,
        lesion=lesion,
        gain=gain,
    )
    center, width = _WINDOW[0] * gain, _WINDOW[1] * gain
    centers, widths = [center], [width]
    if rng.random() < config.multi_window_fraction:
        # Alternative windows come after the sensible one, as on real multi-window images.
        centers += [center + 250.0, center - 150.0]
        widths += [width * 0.75, width * 1.3]
        n_windows = int(rng.integers(2, 4))
        centers, widths = centers[:n_windows], widths[:n_windows]
    photometric = "MONOCHROME2"
    stored = display
    if rng.random() < config.monochrome1_fraction:
        # MONOCHROME1: stored values are inverted and so is the window center.
        photometric = "MONOCHROME1"
        stored = _MAX_VALUE - display
        centers = [_MAX_VALUE - c for c in centers]
    draw = rng.random()
    if draw < config.jpeg2000_fraction:
        transfer_syntax = JPEG2000Lossless
    elif draw < config.jpeg2000_fraction + config.jpeg_lossless_fraction:
        transfer_syntax = JPEGLosslessSV1
    else:
        transfer_syntax = ExplicitVRLittleEndian
    voi_function = "SIGMOID" if rng.random() < config.sigmoid_fraction else "LINEAR"
    write_dicom(
        path,
        stored,
        transfer_syntax=transfer_syntax,
        photometric=photometric,
        bits_stored=BITS_STORED,
        window=([round(c, 1) for c in centers], [round(w, 1) for w in widths]),
        voi_function=voi_function,
        patient_id=str(patient_id),
        extra={
            "SOPInstanceUID": generate_uid(entropy_srcs=["rsna-breast", str(image_id)]),
            "ImageLaterality": laterality,
            "ViewPosition": view,
            "BodyPartExamined": "BREAST",
            "BurnedInAnnotation": "YES",
            "InstanceNumber": 1,
        },
    )


def _render(
    rng: np.random.Generator,
    height: int,
    width: int,
    *,
    laterality: str,
    view: str,
    density_level: int,
    lesion: bool,
    gain: float,
) -> np.ndarray:
    """Display-space (MONOCHROME2) 12-bit image of one view, chest wall on the laterality's side.

    Drawn with the chest wall on the left, then mirrored for 'R' before the marker is added so
    that its text reads normally.
    """
    y = (np.arange(height, dtype=np.float32) / height)[:, None]
    x = (np.arange(width, dtype=np.float32) / width)[None, :]  # distance from the chest wall
    texture_cell = max(2, min(height, width) // 12)

    # Breast: half ellipse against the chest wall with a slightly wavy skin line.
    center_y = 0.5 + rng.uniform(-0.05, 0.05)
    semi_x, semi_y = rng.uniform(0.55, 0.72), rng.uniform(0.36, 0.44)
    radius2 = (x / semi_x) ** 2 + ((y - center_y) / semi_y) ** 2
    radius2 *= 1.0 + 0.04 * smooth_noise(rng, (height, width), max(4, height // 4))
    thickness = np.sqrt(np.clip(1.0 - radius2, 0.0, 1.0))
    inside = radius2 < 1.0

    amplitude = (200.0, 350.0, 500.0, 650.0)[density_level]
    texture = 0.65 * smooth_noise(rng, (height, width), texture_cell)
    texture += 0.35 * smooth_noise(rng, (height, width), max(2, texture_cell // 3))
    tissue = _FAT + 900.0 * np.sqrt(thickness) + amplitude * texture * thickness
    if view == "MLO":  # pectoral muscle: a bright triangle in the upper chest-wall corner
        reach_x, reach_y = rng.uniform(0.15, 0.3), rng.uniform(0.3, 0.5)
        muscle = (x / reach_x + y / reach_y) < 1.0
        tissue = np.where(muscle & inside, np.maximum(tissue, 2500.0 + 150.0 * texture), tissue)
    image = np.where(inside, np.clip(tissue, _FAT * 0.8, _TISSUE_MAX), _BACKGROUND)

    if lesion:
        _add_lesion(rng, image, (radius2 < 0.45) & (x > 0.08), width)
    image = image * gain + rng.normal(0.0, 20.0, size=image.shape)
    if laterality == "R":
        image = image[:, ::-1]
    image = np.ascontiguousarray(image, dtype=np.float32)
    _burn_in_marker(image, f"{laterality} {view}", away_from_left=laterality == "L")
    return np.clip(np.rint(image), 0, _MAX_VALUE).astype(np.uint16)


def _add_lesion(
    rng: np.random.Generator, image: np.ndarray, allowed: np.ndarray, width: int
) -> None:
    """Blend a bright round core with a few spicules into ``image`` at an ``allowed`` pixel."""
    rows, cols = np.nonzero(allowed)
    pick = rng.integers(len(rows))
    radius = rng.uniform(0.04, 0.08) * width
    reach = int(np.ceil(2.2 * radius)) + 1  # the longest spicule
    top, left = max(0, rows[pick] - reach), max(0, cols[pick] - reach)
    patch = image[top : rows[pick] + reach + 1, left : cols[pick] + reach + 1]
    row, col = rows[pick] - top, cols[pick] - left
    patch_rows, patch_cols = np.ogrid[0 : patch.shape[0], 0 : patch.shape[1]]
    distance = np.hypot(patch_rows - row, patch_cols - col)
    core = np.clip(1.0 - (distance / radius) ** 2, 0.0, 1.0) ** 0.3
    spicules = np.zeros(patch.shape, dtype=np.uint8)
    for angle in rng.uniform(0.0, 2 * np.pi, size=int(rng.integers(5, 10))):
        length = radius * rng.uniform(1.3, 2.2)
        end = (int(col + length * np.cos(angle)), int(row + length * np.sin(angle)))
        cv2.line(spicules, (int(col), int(row)), end, 1, thickness=max(1, round(radius / 6)))
    weight = np.maximum(core, 0.6 * spicules)
    patch[...] = patch * (1.0 - weight) + _LESION * weight


def _burn_in_marker(image: np.ndarray, text: str, *, away_from_left: bool) -> None:
    """Draw a bright label with dark text in the top corner opposite the chest wall."""
    height, width = image.shape
    box_w, box_h = max(12, round(0.2 * width)), max(6, round(0.07 * height))
    left = width - box_w - round(0.03 * width) if away_from_left else round(0.03 * width)
    top = round(0.03 * height)
    label = np.zeros((box_h, box_w), dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    (text_w, text_h), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = min(0.85 * box_w / text_w, 0.7 * box_h / text_h)
    baseline_y = (box_h + round(text_h * scale)) // 2
    cv2.putText(label, text, (round(0.07 * box_w), baseline_y), font, scale, 1, 1, cv2.LINE_8)
    image[top : top + box_h, left : left + box_w] = np.where(label > 0, _MARKER_TEXT, _MARKER)


SYNTHETIC = Synthetic(
    config=BreastSynthConfig,
    generate=synthesize,
    contract={"n_patients": 12, "height": 48, "width": 40, "prevalence": 0.5},
)
