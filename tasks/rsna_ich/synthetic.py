"""Synthetic rsna-ich data in the real Kaggle layout, for tests and quick runs on a CPU.

    <root>/stage_2_train.csv             ID,Label: six rows per image, images in random order,
                                         a few images' rows repeated verbatim (as in Kaggle's)
    <root>/stage_2_train/ID_<image>.dcm  one axial CT slice per file, random hex names

Patients have one study (some a second, follow-up study) of ``slices_per_study`` +- 2 slices
5 mm apart, bottom to top of a head: air, a skull ring (~1000 HU), brain (~30 HU) with smooth
grey/white texture, lateral ventricles (~6 HU) in the middle slices. Bleeding studies carry 1-3
hyperdense (60-88 HU) hemorrhages, each spanning a few neighbouring slices and shrinking away
from its central slice, told apart by where and what shape they are:

- epidural: a thick, short biconvex lens against the inner skull;
- subdural: a thin, long crescent along the inner skull;
- subarachnoid: a thin streak in the anterior midline (interhemispheric fissure);
- intraparenchymal: a round clot inside a hemisphere with a dark oedema rim;
- intraventricular: blood layering in the posterior part of the ventricles.

A slice's label is 1 for a subtype whose region covers at least one of its pixels; ``any`` is
the union. The DICOM headers carry what the real ones do for a sequence model: PatientID,
StudyInstanceUID, SeriesInstanceUID, ImagePositionPatient, ImageOrientationPatient (some studies
with a gantry tilt) and InstanceNumber (some series numbered top to bottom). Three encodings of
stored values are used per study: signed 16-bit with intercept -1024 (some with -2000 padding
outside the scan field), signed 12-bit with intercept 0, and 12-bit unsigned with the RSNA
intercept quirk (HU stored modulo 4096 with intercept 0, see harness.kit.imaging.ct).

Everything is drawn from ``seed``: the same seed gives the same csv and the same files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from harness.kit.imaging.synth_dicom import write_dicom
from harness.kit.synthetic import OptionCheck, smooth_noise
from harness.kit.task import Synthetic
from tasks.rsna_ich.layout import IMAGE_DIR, LABEL_CSV, SUBTYPES, image_path, label_id

HEMORRHAGES: tuple[str, ...] = SUBTYPES[:-1]
_LESION_PROBABILITIES = (0.15, 0.25, 0.2, 0.2, 0.2)
"""How often each of HEMORRHAGES is drawn for a lesion of a bleeding study."""
_SLICE_SPACING_MM = 5.0
_PIXEL_SPACING_MM = 0.45 * 512
"""Field of view (mm) covered by the image side, whatever ``size``."""
_AIR, _BONE, _BRAIN, _CSF = -1000.0, 1000.0, 32.0, 6.0
_ENCODINGS = ("signed", "signed12", "quirk")


@dataclass
class IchSynthConfig:
    """Parameters of ``synthesize``; the defaults make a dataset a small CNN learns in a minute."""

    n_patients: int = 40
    followup_fraction: float = 0.25
    """Patients with a second study (so that grouping by patient, not study, matters)."""
    slices_per_study: int = 10
    """Mean slices per study (each study has this +- 2, at least 3); real head CTs have ~30-40."""
    size: int = 64
    """Image side in pixels; real slices are 512 x 512."""
    bleeding_fraction: float = 0.6
    """Studies with at least one hemorrhage."""
    quirk_fraction: float = 0.2
    """Studies stored as 12-bit unsigned with the shifted-intercept quirk."""
    signed12_fraction: float = 0.2
    """Studies stored as signed 12-bit HU with intercept 0; the rest signed 16-bit, -1024."""
    tilt_fraction: float = 0.2
    """Studies acquired with a gantry tilt (10-25 degrees): position must follow the normal."""
    reversed_numbering_fraction: float = 0.3
    """Series whose InstanceNumber counts from the top slice down."""
    duplicate_images: int = 3
    """Images whose six csv rows appear twice, verbatim."""


def synthesize(root: str | Path, config: IchSynthConfig, seed: int) -> pd.DataFrame:
    """Write ``root/stage_2_train.csv`` and ``root/stage_2_train/``; return one row per image
    with its header values (PatientID, StudyInstanceUID, SeriesInstanceUID, slice, encoding)
    and its six labels, in slice order."""
    _validate(config)
    root = Path(root)
    (root / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_studies = config.n_patients + int(
        (rng.random(config.n_patients) < config.followup_fraction).sum()
    )
    patients = list(range(config.n_patients)) + list(
        rng.choice(config.n_patients, n_studies - config.n_patients, replace=False)
    )
    hex_ids = _unique_hex(rng, n_studies * (config.slices_per_study + 2) + config.n_patients)
    patient_ids = [f"ID_{h[:8]}" for h in hex_ids[: config.n_patients]]
    image_ids = iter(f"ID_{h[:9]}" for h in hex_ids[config.n_patients :])

    rows: list[dict[str, object]] = []
    for study, patient in enumerate(patients):
        rows.extend(_write_study(root, rng, config, study, patient_ids[patient], image_ids))
    table = pd.DataFrame(rows)
    _write_csv(root / LABEL_CSV, table, rng, config.duplicate_images)
    return table


def _validate(config: IchSynthConfig) -> None:
    check = OptionCheck(config)
    check.at_least("n_patients", 2, " (one per split side)")
    check.at_least("slices_per_study", 3)
    check.at_least("size", 32)
    check.at_least("duplicate_images", 0)
    check.fractions(
        "followup_fraction",
        "bleeding_fraction",
        "quirk_fraction",
        "signed12_fraction",
        "tilt_fraction",
        "reversed_numbering_fraction",
    )
    check.shares("quirk_fraction", "signed12_fraction")
    check.raise_problems()


def _unique_hex(rng: np.random.Generator, n: int) -> list[str]:
    values = rng.choice(16**9, size=n, replace=False)
    return [f"{int(v):09x}" for v in values]


@dataclass(frozen=True)
class _Lesion:
    subtype: str
    center: int
    """Slice index of the largest cross-section."""
    half_extent: int
    """Slices on each side of ``center`` that still show it (shrinking)."""
    angle: float
    """Where along the skull (epidural, subdural) or in the brain (intraparenchymal)."""
    depth: float
    """Intraparenchymal: distance from the centre as a fraction of the brain radius."""
    scale: float

    def size_at(self, index: int) -> float:
        """1 at the central slice, shrinking to 0 past ``half_extent`` slices away."""
        return float(np.sqrt(max(0.0, 1.0 - ((index - self.center) / (self.half_extent + 1)) ** 2)))


def _draw_lesions(
    rng: np.random.Generator, n_slices: int, ventricle_slices: range
) -> list[_Lesion]:
    lesions = []
    for _ in range(int(rng.integers(1, 4))):
        subtype = str(rng.choice(HEMORRHAGES, p=_LESION_PROBABILITIES))
        if subtype == "intraventricular" and len(ventricle_slices):
            center = int(rng.choice(ventricle_slices))
        else:
            center = int(rng.integers(1, n_slices - 1))
        lesions.append(
            _Lesion(
                subtype=subtype,
                center=center,
                half_extent=int(rng.integers(1, 4)),
                angle=float(rng.uniform(0, 2 * np.pi)),
                depth=float(rng.uniform(0.3, 0.55)),
                scale=float(rng.uniform(0.8, 1.2)),
            )
        )
    return lesions


def _write_study(
    root: Path,
    rng: np.random.Generator,
    config: IchSynthConfig,
    study: int,
    patient_id: str,
    image_ids: Iterator[str],
) -> list[dict[str, object]]:
    n_slices = max(3, config.slices_per_study + int(rng.integers(-2, 3)))
    levels = np.linspace(rng.uniform(0.12, 0.25), rng.uniform(0.8, 0.92), n_slices)
    ventricle_slices = range(int(np.searchsorted(levels, 0.35)), int(np.searchsorted(levels, 0.65)))
    bleeding = rng.random() < config.bleeding_fraction
    lesions = _draw_lesions(rng, n_slices, ventricle_slices) if bleeding else []
    draw = rng.random()
    encoding = (
        "quirk"
        if draw < config.quirk_fraction
        else "signed12"
        if draw < config.quirk_fraction + config.signed12_fraction
        else "signed"
    )
    padded = encoding == "signed" and rng.random() < 0.5
    tilt = np.radians(rng.uniform(10, 25)) if rng.random() < config.tilt_fraction else 0.0
    row_cosines = np.array([1.0, 0.0, 0.0])
    column_cosines = np.array([0.0, np.cos(tilt), -np.sin(tilt)])
    normal = np.cross(row_cosines, column_cosines)
    origin = np.array([-115.0, -115.0, rng.uniform(-60.0, 0.0)])
    reversed_numbers = rng.random() < config.reversed_numbering_fraction
    study_uid = generate_uid(entropy_srcs=["rsna-ich", "study", str(study), patient_id])
    series_uid = generate_uid(entropy_srcs=["rsna-ich", "series", str(study), patient_id])
    shift = rng.uniform(-0.05, 0.05, size=2)
    texture = smooth_noise(rng, (config.size, config.size), max(3, config.size // 8))

    rows = []
    for index, level in enumerate(levels):
        image_id = next(image_ids)
        has_ventricles = index in ventricle_slices
        hu, present = _render_slice(
            rng, config.size, float(level), index, has_ventricles, lesions, shift, texture
        )
        position = origin + index * _SLICE_SPACING_MM * normal
        number = n_slices - index if reversed_numbers else index + 1
        _write_slice(
            image_path(root, image_id),
            hu,
            encoding,
            padded=padded,
            patient_id=patient_id,
            extra={
                "SOPInstanceUID": generate_uid(entropy_srcs=["rsna-ich", image_id]),
                "StudyInstanceUID": study_uid,
                "SeriesInstanceUID": series_uid,
                "ImagePositionPatient": [round(float(v), 4) for v in position],
                "ImageOrientationPatient": [
                    round(float(v), 6) for v in (*row_cosines, *column_cosines)
                ],
                "InstanceNumber": number,
                "PixelSpacing": [_PIXEL_SPACING_MM / config.size] * 2,
                "SliceThickness": _SLICE_SPACING_MM,
                "KVP": 120,
            },
        )
        labels = {s: int(s in present) for s in HEMORRHAGES}
        labels["any"] = int(bool(present))
        rows.append(
            {
                "image_id": image_id,
                "PatientID": patient_id,
                "StudyInstanceUID": study_uid,
                "SeriesInstanceUID": series_uid,
                "slice_index": index,
                "InstanceNumber": number,
                "encoding": encoding,
                **labels,
            }
        )
    return rows


def _render_slice(
    rng: np.random.Generator,
    size: int,
    level: float,
    index: int,
    has_ventricles: bool,
    lesions: list[_Lesion],
    shift: np.ndarray,
    texture: np.ndarray,
) -> tuple[np.ndarray, set[str]]:
    """HU image of one slice (``level`` 0 = skull base, 1 = vertex) and the subtypes it shows."""
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    y = coords[:, None] - shift[0]
    x = coords[None, :] - shift[1]
    head = float(np.sqrt(max(0.05, 1.0 - ((level - 0.5) / 0.55) ** 2)))
    semi_x, semi_y = 0.72 * head, 0.86 * head
    radius = np.sqrt((x / semi_x) ** 2 + (y / semi_y) ** 2)
    angle = np.arctan2(y / semi_y, x / semi_x)
    inner = 0.88  # inner skull surface, as a fraction of the head radius
    brain = radius < inner

    hu = np.full((size, size), _AIR, dtype=np.float32)
    hu[radius < 1.0] = _BONE
    hu[brain] = _BRAIN + 4.0 * texture[brain]
    if has_ventricles:
        ventricles = _ventricles(x, y, head)
        hu[ventricles] = _CSF
    else:
        ventricles = np.zeros_like(brain)

    present: set[str] = set()
    for lesion in lesions:
        scale = lesion.size_at(index) * lesion.scale
        if scale <= 0:
            continue
        mask = _lesion_mask(lesion, scale, x, y, radius, angle, inner, head, ventricles) & brain
        if not mask.any():
            continue
        present.add(lesion.subtype)
        if lesion.subtype == "intraparenchymal":
            rim = _iph_mask(lesion, 1.5 * scale, x, y, inner, semi_x, semi_y) & brain & ~mask
            hu[rim] = np.minimum(hu[rim], 20.0)
        hu[mask] = rng.uniform(60.0, 88.0)
    hu += rng.normal(0.0, 3.0, size=hu.shape).astype(np.float32)
    return hu, present


def _ventricles(x: np.ndarray, y: np.ndarray, head: float) -> np.ndarray:
    """Two lateral ventricles either side of the midline."""
    left = ((x + 0.13 * head) / (0.08 * head)) ** 2 + ((y + 0.02) / (0.26 * head)) ** 2 < 1
    right = ((x - 0.13 * head) / (0.08 * head)) ** 2 + ((y + 0.02) / (0.26 * head)) ** 2 < 1
    return np.asarray(left | right)


def _iph_mask(
    lesion: _Lesion,
    scale: float,
    x: np.ndarray,
    y: np.ndarray,
    inner: float,
    semi_x: float,
    semi_y: float,
) -> np.ndarray:
    cx = lesion.depth * inner * semi_x * np.cos(lesion.angle)
    cy = lesion.depth * inner * semi_y * np.sin(lesion.angle)
    return np.asarray(np.hypot(x - cx, y - cy) < 0.13 * scale)


def _lesion_mask(
    lesion: _Lesion,
    scale: float,
    x: np.ndarray,
    y: np.ndarray,
    radius: np.ndarray,
    angle: np.ndarray,
    inner: float,
    head: float,
    ventricles: np.ndarray,
) -> np.ndarray:
    """The pixels of one hemorrhage at ``scale`` (0-1.2) of its full size."""
    along = np.abs(np.angle(np.exp(1j * (angle - lesion.angle))))  # angular distance, 0..pi
    if lesion.subtype == "epidural":  # thick, short lens
        span = 0.5
        depth = 0.24 * scale * np.sqrt(np.clip(1 - (along / span) ** 2, 0, 1))
        return np.asarray((radius > inner - depth) & (along < span))
    if lesion.subtype == "subdural":  # thin, long crescent
        span = 1.4 * scale
        depth = 0.13 * np.cos(np.pi / 2 * np.clip(along / span, 0, 1))
        return np.asarray((radius > inner - depth) & (along < span))
    if lesion.subtype == "subarachnoid":  # anterior interhemispheric fissure
        top = -0.8 * head
        return np.asarray((np.abs(x) < 0.05) & (y > top) & (y < top + 0.55 * scale * head))
    if lesion.subtype == "intraparenchymal":
        semi_x, semi_y = 0.72 * head, 0.86 * head
        return _iph_mask(lesion, scale, x, y, inner, semi_x, semi_y)
    # intraventricular: blood layering in the dependent (posterior) part of the ventricles
    return np.asarray(ventricles & (y > 0.2 * head - 0.45 * scale * head))


def _write_slice(
    path: Path,
    hu: np.ndarray,
    encoding: str,
    *,
    padded: bool,
    patient_id: str,
    extra: dict[str, object],
) -> None:
    """Store HU values with one of the encodings of the real data."""
    hu = np.rint(hu)
    if encoding == "quirk":
        # The RSNA quirk: HU modulo 4096 in 12 unsigned bits, intercept 0 (fixed by to_hu).
        stored = np.mod(np.clip(hu, -1000, 3095), 4096).astype(np.uint16)
        bits, rescale = 12, (1.0, 0.0)
    elif encoding == "signed12":
        stored = np.clip(hu, -2048, 2047).astype(np.int16)
        bits, rescale = 12, (1.0, 0.0)
    else:
        stored = np.clip(hu + 1024, -2048, 4095).astype(np.int16)
        if padded:  # outside the circular scan field, as some scanners write
            side = hu.shape[0]
            grid = (np.arange(side) + 0.5) / side * 2 - 1
            stored[np.hypot(grid[:, None], grid[None, :]) > 0.98] = -2000
        bits, rescale = 16, (1.0, -1024.0)
    write_dicom(
        path,
        stored,
        transfer_syntax=ExplicitVRLittleEndian,
        bits_stored=bits,
        rescale=rescale,
        patient_id=patient_id,
        modality="CT",
        window=([40.0], [80.0]),
        extra=extra,
    )


def _write_csv(path: Path, table: pd.DataFrame, rng: np.random.Generator, duplicates: int) -> None:
    """Six rows per image in Kaggle's subtype order, images in random order, some repeated."""
    order = rng.permutation(len(table))
    repeated = rng.choice(len(table), size=min(duplicates, len(table)), replace=False)
    rows: list[tuple[str, int]] = []
    for position in [*order.tolist(), *repeated.tolist()]:
        record = table.iloc[position]
        rows.extend((label_id(str(record["image_id"]), s), int(record[s])) for s in SUBTYPES)
    pd.DataFrame(rows, columns=["ID", "Label"]).to_csv(path, index=False)


SYNTHETIC = Synthetic(
    config=IchSynthConfig,
    generate=synthesize,
    contract={"n_patients": 10, "slices_per_study": 5, "size": 32, "bleeding_fraction": 0.8},
)
