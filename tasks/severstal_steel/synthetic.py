"""Synthetic severstal-steel data in the real Kaggle layout, for tests and quick CPU runs.

    <root>/train.csv                ImageId,ClassId,EncodedPixels: defect rows only
    <root>/train_images/<ImageId>   9 hex digits + .jpg, a 3-channel JPEG of a grey steel strip

Each image is a strip of rolled steel: a grey level, grain stretched along the rolling
direction (horizontal), bright and dark vertical bands from the lighting, sensor noise, and
on some images a black margin beyond the strip's edge. Defects of the four classes differ by
shape and texture, loosely after the competition's:

1. pits: a cluster of small dark round spots;
2. cracks: a thin dark line running top to bottom, wavering;
3. scratches: one to three long, thin, bright parallel lines near the rolling direction;
4. patches: a large dark blotch with a rough texture and a ragged edge.

Each class's mask (the defect widened by a margin, as annotators outline a defect rather than
trace it) is written as an absolute RLE row; images without defects have no row. The default
size keeps the real 1:6.25 aspect at a quarter of the real height (64 x 400).

Everything is drawn from ``seed``: the same seed gives the same csv and the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from harness.kit.segmentation.rle import encode_absolute
from harness.kit.synthetic import OptionCheck
from harness.kit.task import Synthetic
from tasks.severstal_steel.layout import CLASS_IDS, CSV_COLUMNS, IMAGE_DIR, TRAIN_CSV


@dataclass
class SteelSynthConfig:
    """Parameters of ``synthesize``; the defaults fit the smoke budget on a CPU."""

    n_images: int = 200
    height: int = 32
    """Image rows; the competition's images are 256 x 1600 (the default keeps their 1:6.25)."""
    width: int = 200
    defect_fraction: float = 0.55
    """Fraction of images with at least one defect (the real training set: ~53%)."""
    class_weights: list[float] = field(default_factory=lambda: [0.25, 0.15, 0.4, 0.2])
    """Relative frequency of classes 1-4 among defects (real: 0.13, 0.03, 0.73, 0.11; rarer
    classes are boosted so that a small dataset has examples of each)."""
    second_class_fraction: float = 0.2
    """Fraction of defective images with a defect of a second class."""
    dark_margin_fraction: float = 0.15
    """Fraction of images with a black margin beyond the strip's edge."""
    jpeg_quality: int = 92


@dataclass(frozen=True)
class _Strip:
    """The columns [left, right) where the steel is (outside: the black margin)."""

    left: int
    right: int


Drawer = Callable[[np.random.Generator, np.ndarray, _Strip], np.ndarray]


def synthesize(root: str | Path, config: SteelSynthConfig, seed: int) -> pd.DataFrame:
    """Write ``root/train.csv`` and ``root/train_images/``; return the CSV's rows."""
    _validate(config)
    root = Path(root)
    image_dir = root / IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    image_ids = _image_ids(rng, config.n_images)
    defect_classes = _defect_classes(rng, config)

    rows: list[tuple[str, int, str]] = []
    for index, (image_id, classes) in enumerate(zip(image_ids, defect_classes, strict=True)):
        image_rng = np.random.default_rng([seed, index])
        pixels, masks = _render(image_rng, config, classes)
        ok, encoded = cv2.imencode(
            ".jpg", cv2.merge([pixels] * 3), [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality]
        )
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {image_id} as JPEG")
        (image_dir / image_id).write_bytes(encoded.tobytes())
        rows += [(image_id, k, encode_absolute(masks[k])) for k in sorted(masks)]

    table = pd.DataFrame(rows, columns=list(CSV_COLUMNS)).sort_values(
        ["ImageId", "ClassId"], ignore_index=True
    )
    table.to_csv(root / TRAIN_CSV, index=False)
    return table


def _validate(config: SteelSynthConfig) -> None:
    check = OptionCheck(config)
    check.at_least("n_images", 2)
    check.require(
        config.height >= 32 and config.width >= 64,
        f"height must be >= 32 and width >= 64, got {config.height}x{config.width}",
    )
    check.fractions("defect_fraction", "second_class_fraction", "dark_margin_fraction")
    weights = list(config.class_weights)
    check.require(
        len(weights) == len(CLASS_IDS) and min(weights) >= 0 and sum(weights) > 0,
        f"class_weights must be {len(CLASS_IDS)} non-negative numbers with a positive sum, "
        f"got {weights}",
    )
    check.require(
        1 <= config.jpeg_quality <= 100,
        f"jpeg_quality must be in 1..100, got {config.jpeg_quality}",
    )
    check.raise_problems()


def _image_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct ids like Kaggle's ``0002cc93b.jpg`` (9 hex digits), sorted."""
    ids: set[str] = set()
    while len(ids) < n:
        ids.add(rng.bytes(5).hex()[:9] + ".jpg")
    return sorted(ids)


def _defect_classes(rng: np.random.Generator, config: SteelSynthConfig) -> list[list[int]]:
    """Per image, the defect classes it shows (empty for a defect-free image)."""
    weights = np.asarray(config.class_weights, dtype=np.float64)
    weights = weights / weights.sum()
    n_defective = round(config.defect_fraction * config.n_images)
    defective = set(rng.choice(config.n_images, size=n_defective, replace=False).tolist())
    classes: list[list[int]] = []
    for index in range(config.n_images):
        if index not in defective:
            classes.append([])
            continue
        first = int(rng.choice(CLASS_IDS, p=weights))
        chosen = [first]
        others = weights.copy()
        others[first - 1] = 0.0
        if rng.random() < config.second_class_fraction and others.sum() > 0:
            chosen.append(int(rng.choice(CLASS_IDS, p=others / others.sum())))
        classes.append(sorted(chosen))
    return classes


def _render(
    rng: np.random.Generator, config: SteelSynthConfig, classes: list[int]
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """A uint8 grey steel image and the 0/1 mask of each defect class drawn on it."""
    height, width = config.height, config.width
    image = _steel(rng, height, width)
    strip = _Strip(0, width)
    if rng.random() < config.dark_margin_fraction:
        margin = int(rng.uniform(0.05, 0.2) * width)
        strip = _Strip(margin, width) if rng.random() < 0.5 else _Strip(0, width - margin)
    masks = {k: _DRAWERS[k](rng, image, strip) for k in classes}
    outside = np.ones(width, dtype=bool)
    outside[strip.left : strip.right] = False
    image[:, outside] = rng.uniform(8, 20) + rng.normal(0.0, 2.0, (height, int(outside.sum())))
    image += rng.normal(0.0, 3.0, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), masks


def _steel(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Float32 background: grey level, horizontal grain, vertical lighting bands."""
    grain = _blurred_noise(rng, (height, width), max(2.0, width / 60), 0.7)
    coarse = rng.standard_normal((1, max(4, width // 40))).astype(np.float32)
    bands = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    level = rng.uniform(95, 135)
    return (level + 5.0 * grain + 10.0 * bands).astype(np.float32)


def _blurred_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma_x: float, sigma_y: float
) -> np.ndarray:
    """Gaussian noise blurred by (sigma_x, sigma_y) pixels, scaled to unit standard deviation."""
    noise = rng.standard_normal(shape).astype(np.float32)
    blurred = np.asarray(cv2.GaussianBlur(noise, (0, 0), sigmaX=sigma_x, sigmaY=sigma_y))
    return blurred / max(float(blurred.std()), 1e-6)


def _widen(drawn: np.ndarray, margin: int) -> np.ndarray:
    """The annotation of a drawn defect: dilated by ``margin`` pixels, as a 0/1 uint8 mask."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return (cv2.dilate(drawn, kernel) > 0).astype(np.uint8)


def _pits(rng: np.random.Generator, image: np.ndarray, strip: _Strip) -> np.ndarray:
    height, width = image.shape
    spots = np.zeros((height, width), dtype=np.float32)
    center_x = rng.uniform(strip.left + 0.1 * height, strip.right - 0.1 * height)
    center_y = rng.uniform(0.25, 0.75) * height
    spread = 0.15 * height
    for _ in range(int(rng.integers(4, 9))):
        x = int(np.clip(center_x + rng.normal(0, 1.5 * spread), strip.left, strip.right - 1))
        y = int(np.clip(center_y + rng.normal(0, spread), 0, height - 1))
        radius = max(1, round(rng.uniform(0.04, 0.08) * height))
        cv2.circle(spots, (x, y), radius, 1.0, -1)
    image -= 55.0 * cv2.GaussianBlur(spots, (0, 0), 0.6)
    return _widen((spots > 0).astype(np.uint8), max(1, round(0.04 * height)))


def _crack(rng: np.random.Generator, image: np.ndarray, strip: _Strip) -> np.ndarray:
    height, width = image.shape
    line = np.zeros((height, width), dtype=np.float32)
    top = rng.uniform(0.0, 0.3) * height
    bottom = min(height - 1.0, top + rng.uniform(0.55, 0.95) * height)
    ys = np.linspace(top, bottom, 12)
    x0 = rng.uniform(strip.left + 0.05 * height, strip.right - 0.05 * height)
    xs = np.clip(
        x0 + np.cumsum(rng.normal(0, 0.025 * height, ys.size)), strip.left, strip.right - 1
    )
    points = np.column_stack((xs, ys)).round().astype(np.int32)
    cv2.polylines(line, [points], False, 1.0, thickness=max(2, round(height / 16)))
    image -= 60.0 * line
    return _widen((line > 0).astype(np.uint8), max(1, round(0.05 * height)))


def _scratches(rng: np.random.Generator, image: np.ndarray, strip: _Strip) -> np.ndarray:
    height, width = image.shape
    lines = np.zeros((height, width), dtype=np.float32)
    angle = rng.uniform(-0.25, 0.25)
    length = min(rng.uniform(0.15, 0.4) * width, 0.9 * (strip.right - strip.left))
    dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
    center_x = rng.uniform(strip.left + abs(dx), strip.right - abs(dx))
    center_y = rng.uniform(0.2, 0.8) * height
    for k in range(int(rng.integers(1, 4))):
        y = center_y + k * 0.12 * height
        start = (round(center_x - dx), round(y - dy))
        end = (round(center_x + dx), round(y + dy))
        cv2.line(lines, start, end, 1.0, thickness=max(2, round(height / 25)))
    image += 45.0 * lines
    return _widen((lines > 0).astype(np.uint8), max(1, round(0.04 * height)))


def _patch(rng: np.random.Generator, image: np.ndarray, strip: _Strip) -> np.ndarray:
    height, width = image.shape
    semi_x = rng.uniform(0.4, 1.0) * height
    semi_y = rng.uniform(0.2, 0.4) * height
    center_x = rng.uniform(strip.left + 0.5 * semi_x, strip.right - 0.5 * semi_x)
    center_y = rng.uniform(0.3, 0.7) * height
    rows, columns = np.ogrid[:height, :width]
    radius2 = ((columns - center_x) / semi_x) ** 2 + ((rows - center_y) / semi_y) ** 2
    ragged = _blurred_noise(rng, (height, width), 3.0, 3.0)
    blob = radius2 * np.clip(1.0 + 0.3 * ragged, 0.5, None) < 1.0
    blob[:, : strip.left] = False
    blob[:, strip.right :] = False
    rough = _blurred_noise(rng, (height, width), 1.0, 1.0)
    image[blob] = 0.55 * image[blob] + 18.0 * rough[blob]
    return blob.astype(np.uint8)


_DRAWERS: dict[int, Drawer] = {1: _pits, 2: _crack, 3: _scratches, 4: _patch}


SYNTHETIC = Synthetic(
    config=SteelSynthConfig,
    generate=synthesize,
    contract={"n_images": 30, "height": 32, "width": 200, "defect_fraction": 0.6},
)
