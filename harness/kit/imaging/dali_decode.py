"""Batched DICOM decoding with NVIDIA DALI, pydicom wherever DALI cannot give pydicom's pixels.

Headers are read with pydicom; the compressed codestream of a single-frame file is taken out of
the encapsulated Pixel Data with ``pydicom.encaps.generate_frames`` and fed, a batch at a time,
to one DALI pipeline (``fn.external_source`` -> ``fn.decoders.image``) that is built once and
reused. What DALI decodes, per device, as measured with nvidia-dali-cuda120 2.4.0:

- JPEG 2000 lossless (1.2.840.10008.1.2.4.90): CPU (OpenJPEG through nvImageCodec's OpenCV
  extension) bit-exact against pydicom for 10..16-bit data; GPU with nvJPEG2000.
- JPEG Lossless SV1 (1.2.840.10008.1.2.4.70): the CPU decoder fails on every file ("Failed to
  decode sample"), so on CPU these go to pydicom (pylibjpeg-libjpeg); GPU with nvJPEG lossless.
- Uncompressed syntaxes: pydicom (there is nothing to decode).

Three ways DALI can return values that differ from pydicom's, and what this module does:

- Range stretching. ``dtype=UINT16`` converts "to the dynamic range of the requested type": an
  8-bit J2K codestream in a 16-bit DICOM comes back multiplied by 257 on CPU, and DALI's mixed
  backend stretches any precision below 16 bits (DALI's ``DynamicRangeMultiplier``). So the
  first DALI result of every (transfer syntax, BitsStored) is compared with pydicom's: equal,
  or equal once the stretch is undone (then it is undone for the following files), or else DALI
  is not used for that kind of file any more (logged as a warning).
- All-zero images: lossless-JPEG GPU decode of 9..15-bit data returned blank images on CUDA 12
  nvJPEG (nvImageCodec issue 50). Every DALI result that is blank (zero variance) is decoded
  again with pydicom (``DecodeStats.zero_guard``).
- A decode error anywhere in a DALI batch fails the whole batch: its files are then decoded one
  by one with pydicom, which reports the broken file as a DicomReadError.

Every pydicom fallback is logged: at INFO the first time per (syntax, reason), at DEBUG per
file, and with counts per syntax by ``close()``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.uid import UID, JPEG2000Lossless, JPEGLosslessSV1

from harness.api import HarnessError
from harness.kit.imaging.dicom import DicomImage, DicomReadError, read_dataset

try:
    from nvidia.dali import fn as dali_fn
    from nvidia.dali import types as dali_types
    from nvidia.dali.pipeline import Pipeline

    _DALI_IMPORT_ERROR: str | None = None
except (ImportError, OSError) as _err:  # nvidia-dali has wheels for Linux x86_64 only
    _DALI_IMPORT_ERROR = f"{type(_err).__name__}: {_err}"

log = logging.getLogger(__name__)

Device = Literal["cpu", "mixed"]
_DEVICES: tuple[Device, ...] = ("cpu", "mixed")
_DALI_SYNTAXES: dict[Device, frozenset[str]] = {
    "cpu": frozenset({JPEG2000Lossless}),
    "mixed": frozenset({JPEG2000Lossless, JPEGLosslessSV1}),
}
_SHORT_NAMES: dict[str, str] = {
    JPEG2000Lossless: "JPEG 2000 lossless",
    JPEGLosslessSV1: "JPEG Lossless SV1",
}
_INPUT = "encoded"
_U16_MAX = 2**16 - 1


def dali_available() -> bool:
    """Whether nvidia.dali imports on this machine (it has no wheels outside Linux x86_64)."""
    return _DALI_IMPORT_ERROR is None


@dataclass
class DecodeStats:
    """What a DicomDecoder did, counted per image."""

    dali: int = 0
    """Images decoded by DALI."""
    fallback: int = 0
    """Images decoded by pydicom: a syntax DALI does not decode on this device (uncompressed,
    JPEG lossless on CPU, ...), a DALI batch that failed, or a guard that tripped."""
    zero_guard: int = 0
    """DALI results rejected as blank, then decoded by pydicom (also counted in ``fallback``)."""
    failed: int = 0
    """Unreadable files, yielded as DicomReadError."""


@dataclass
class _Encoded:
    """A file bound for DALI: its dataset keeps Pixel Data until the image is accepted."""

    index: int
    """Position in the current chunk of paths."""
    path: Path
    dataset: pydicom.Dataset
    codestream: bytes

    @property
    def key(self) -> tuple[str, int]:
        return str(self.dataset.file_meta.TransferSyntaxUID), int(self.dataset.BitsStored)


class DicomDecoder:
    """Decode DICOM files in batches with DALI on ``device`` ('cpu' or 'mixed' = GPU).

    ``num_threads`` are DALI's decoding threads: a CPU batch is decoded in parallel, one image
    per thread. The 'cpu' pipeline is built without a device, so it runs on machines without a
    GPU or driver; 'mixed' uses GPU ``device_id`` (default 0). Without nvidia-dali every file is
    decoded by pydicom. Use as a context manager, or call ``close()`` to free the pipeline and
    log the per-syntax counts of pydicom fallbacks.
    """

    def __init__(
        self,
        device: str = "cpu",
        batch_size: int = 8,
        num_threads: int = 2,
        device_id: int | None = None,
    ) -> None:
        if device not in _DEVICES:
            raise ValueError(f"device must be one of {', '.join(_DEVICES)}, got {device!r}")
        if batch_size < 1 or num_threads < 1:
            raise ValueError(
                f"batch_size and num_threads must be >= 1, got {batch_size} and {num_threads}"
            )
        self.device: Device = "cpu" if device == "cpu" else "mixed"
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.device_id = device_id
        self.stats = DecodeStats()
        self._pipe: Pipeline | None = None
        self._stretched: dict[tuple[str, int], bool] = {}
        """Per (syntax, BitsStored) verified against pydicom: whether DALI stretches values."""
        self._refused: dict[tuple[str, int], str] = {}
        """(syntax, BitsStored) for which DALI disagreed with pydicom, and how."""
        self._fallbacks: Counter[tuple[str, str]] = Counter()
        if dali_available():
            self._pipe = self._build_pipeline()
        else:
            _log_missing_dali_once()

    def __enter__(self) -> DicomDecoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Free the DALI pipeline and log how many files pydicom decoded, per syntax and why."""
        self._pipe = None
        for (syntax, reason), count in sorted(self._fallbacks.items()):
            log.info("pydicom decoded %d %s file(s): %s", count, syntax, reason)
        self._fallbacks.clear()

    def decode(
        self, paths: Sequence[str | Path]
    ) -> Iterator[tuple[Path, DicomImage | DicomReadError]]:
        """Yields, in input order, each path with its decoded DicomImage or its DicomReadError.

        Pixels are the stored values exactly as pydicom gives them (uint16 for these files);
        ``header`` is the dataset without Pixel Data. Never raises for a bad file.
        """
        files = [Path(p) for p in paths]
        for start in range(0, len(files), self.batch_size):
            chunk = files[start : start + self.batch_size]
            results: dict[int, DicomImage | DicomReadError] = {}
            encoded: list[_Encoded] = []
            for index, path in enumerate(chunk):
                try:
                    dataset = read_dataset(path, stop_before_pixels=False)
                except DicomReadError as err:
                    results[index] = self._failed(err)
                    continue
                item = self._route(index, path, dataset)
                if isinstance(item, _Encoded):
                    encoded.append(item)
                else:
                    results[index] = item
            results.update(self._decode_with_dali(encoded))
            for index, path in enumerate(chunk):
                yield path, results[index]

    # Routing ---------------------------------------------------------------------------------

    def _route(
        self, index: int, path: Path, dataset: pydicom.Dataset
    ) -> _Encoded | DicomImage | DicomReadError:
        """The file's codestream bound for DALI, or its image decoded by pydicom."""
        if "PixelData" not in dataset:
            # A file cut inside encapsulated (compressed) pixel data is read without it.
            return self._failed(
                DicomReadError(path, "it has no Pixel Data element (no image, or a truncated file)")
            )
        reason = self._refusal(dataset)
        if reason is not None:
            return self._fallback(path, dataset, reason)
        try:
            codestream = next(generate_frames(dataset.PixelData, number_of_frames=1))
        except Exception as err:  # a malformed encapsulation; pydicom names the problem
            return self._fallback(
                path, dataset, f"no codestream in its Pixel Data ({type(err).__name__})"
            )
        return _Encoded(index, path, dataset, codestream)

    def _refusal(self, dataset: pydicom.Dataset) -> str | None:
        """Why DALI does not decode this file, or None when it does."""
        if not dali_available():
            return f"nvidia-dali is not available ({_DALI_IMPORT_ERROR})"
        syntax = UID(str(dataset.file_meta.TransferSyntaxUID))
        if not syntax.is_compressed:
            return "uncompressed"
        if syntax not in _DALI_SYNTAXES[self.device]:
            if syntax == JPEGLosslessSV1:
                return "DALI's CPU decoder cannot decode JPEG lossless"
            return f"DALI is not used for this syntax on device {self.device!r}"
        single_frame_u16_gray = (
            dataset.get("SamplesPerPixel", 1) == 1
            and dataset.get("BitsAllocated") == 16
            and dataset.get("PixelRepresentation", 0) == 0
            and int(dataset.get("NumberOfFrames") or 1) == 1
            and "BitsStored" in dataset
        )
        if not single_frame_u16_gray:
            return "not a single-frame unsigned 16-bit grayscale image"
        return self._refused.get((syntax, int(dataset.BitsStored)))

    # DALI ------------------------------------------------------------------------------------

    def _build_pipeline(self) -> Pipeline:
        # DALI's OpenCV logs "unknown color space, sRGB assumed" for every grayscale JPEG 2000;
        # silence its warnings unless the user chose a level. Read once, at its first message.
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        cpu = self.device == "cpu"
        try:
            pipe = Pipeline(
                batch_size=self.batch_size,
                num_threads=self.num_threads,
                device_id=None if cpu else (self.device_id or 0),
                prefetch_queue_depth=1,
            )
            with pipe:
                encoded = dali_fn.external_source(
                    name=_INPUT, dtype=dali_types.DALIDataType.UINT8, ndim=1
                )
                decoded = dali_fn.decoders.image(
                    encoded,
                    device=self.device,
                    output_type=dali_types.DALIImageType.ANY_DATA,
                    dtype=dali_types.DALIDataType.UINT16,
                )
                pipe.set_outputs(decoded)
            pipe.build()
        except RuntimeError as err:
            fix = (
                "reinstall nvidia-dali" if cpu else "check the GPU and driver, or use device='cpu'"
            )
            raise HarnessError(
                f"DALI cannot build a {self.device!r} decoding pipeline ({_first_line(err)}); {fix}"
            ) from err
        return pipe

    def _run_dali(self, codestreams: list[bytes]) -> list[np.ndarray]:
        """DALI's HxWx1 uint16 outputs for a batch; raises if any sample fails."""
        if self._pipe is None:
            self._pipe = self._build_pipeline()
        self._pipe.feed_input(_INPUT, [np.frombuffer(c, dtype=np.uint8) for c in codestreams])
        (batch,) = self._pipe.run()
        if self.device == "mixed":
            batch = batch.as_cpu()
        return [np.asarray(batch.at(i)) for i in range(len(codestreams))]

    def _decode_with_dali(
        self, encoded: list[_Encoded]
    ) -> Iterator[tuple[int, DicomImage | DicomReadError]]:
        if not encoded:
            return
        try:
            outputs = self._run_dali([item.codestream for item in encoded])
        except RuntimeError as err:
            # DALI documents a pipeline as no longer valid after an error: build a new one.
            self._pipe = None
            log.warning(
                "DALI failed on a batch of %d file(s) (%s); decoding them with pydicom: %s",
                len(encoded),
                _first_line(err),
                ", ".join(str(item.path) for item in encoded),
            )
            log.debug("DALI error: %s", err)
            for item in encoded:
                yield (
                    item.index,
                    self._fallback(item.path, item.dataset, "DALI failed on its batch"),
                )
            return
        for item, output in zip(encoded, outputs, strict=True):
            yield item.index, self._accept(item, output)

    def _accept(self, item: _Encoded, output: np.ndarray) -> DicomImage | DicomReadError:
        """DALI's image if it passes the guards, else pydicom's."""
        rows, columns = int(item.dataset.Rows), int(item.dataset.Columns)
        if output.shape != (rows, columns, 1) or output.dtype != np.uint16:
            return self._fallback(
                item.path,
                item.dataset,
                f"DALI returned {output.dtype} {output.shape}, not uint16 ({rows}, {columns}, 1)",
                warn=True,
            )
        pixels = output[:, :, 0]
        if _looks_blank(pixels):
            self.stats.zero_guard += 1
            return self._fallback(item.path, item.dataset, "zero guard: DALI's image was blank")
        key, bits_stored = item.key, int(item.dataset.BitsStored)
        stretched = self._stretched.get(key)
        if stretched is None:
            try:
                reference = _pydicom_pixels(item.path, item.dataset)
            except DicomReadError as err:
                return self._failed(err)
            stretched = self._verify(key, pixels, reference)
            if stretched is None:
                return self._fallback(item.path, item.dataset, self._refused[key], pixels=reference)
        if stretched:
            pixels = _undo_range_stretch(pixels, bits_stored)
        elif int(pixels.max()) >= 2**bits_stored:
            return self._fallback(
                item.path,
                item.dataset,
                f"DALI returned values above {bits_stored} bits (a stretched range?)",
                warn=True,
            )
        self.stats.dali += 1
        return _image(item.path, item.dataset, pixels)

    def _verify(
        self, key: tuple[str, int], pixels: np.ndarray, reference: np.ndarray
    ) -> bool | None:
        """Compare DALI's first image of a kind with pydicom's: is DALI's range stretched?

        Returns None, and refuses DALI for that kind of file, when neither reading matches.
        """
        syntax, bits_stored = _short_name(key[0]), key[1]
        if np.array_equal(pixels, reference):
            stretched = False
        elif np.array_equal(_undo_range_stretch(pixels, bits_stored), reference):
            stretched = True
        else:
            self._refused[key] = f"DALI's {bits_stored}-bit decode differed from pydicom's"
            log.warning(
                "DALI (%s) decoded a %d-bit %s file differently from pydicom; such files are "
                "decoded with pydicom from now on",
                self.device,
                bits_stored,
                syntax,
            )
            return None
        self._stretched[key] = stretched
        log.info(
            "DALI (%s) decode of %d-bit %s files matches pydicom%s",
            self.device,
            bits_stored,
            syntax,
            " once its stretch to 16 bits is undone" if stretched else " bit for bit",
        )
        return stretched

    # pydicom ---------------------------------------------------------------------------------

    def _fallback(
        self,
        path: Path,
        dataset: pydicom.Dataset,
        reason: str,
        *,
        pixels: np.ndarray | None = None,
        warn: bool = False,
    ) -> DicomImage | DicomReadError:
        """Decode with pydicom (unless ``pixels`` already holds pydicom's result) and log why."""
        if pixels is None:
            try:
                pixels = _pydicom_pixels(path, dataset)
            except DicomReadError as err:
                return self._failed(err)
        syntax = _short_name(str(dataset.file_meta.TransferSyntaxUID))
        self.stats.fallback += 1
        self._fallbacks[syntax, reason] += 1
        if warn:
            log.warning("%s decoded with pydicom: %s", path, reason)
        elif self._fallbacks[syntax, reason] == 1:
            log.info(
                "decoding %s files with pydicom: %s (per file at DEBUG, counts on close)",
                syntax,
                reason,
            )
        log.debug("%s decoded with pydicom: %s", path, reason)
        return _image(path, dataset, pixels)

    def _failed(self, err: DicomReadError) -> DicomReadError:
        self.stats.failed += 1
        log.debug("%s", err)
        return err


def _looks_blank(pixels: np.ndarray) -> bool:
    """True for an image without any variation (all-zero included).

    The nvJPEG lossless bug returns all-zero images; checking for zero variance rather than only
    for zeros also catches a constant fill. A truly constant image is then decoded twice, at
    the cost of one pydicom decode.
    """
    return pixels.size == 0 or int(pixels.min()) == int(pixels.max())


def _undo_range_stretch(pixels: np.ndarray, bits_stored: int) -> np.ndarray:
    """Inverse of DALI's stretch of ``bits_stored``-bit values to the uint16 range.

    DALI multiplies by 65535 / (2**bits - 1) >= 1 and rounds, so rounding the product with the
    reciprocal recovers every stored value exactly.
    """
    scale = (2**bits_stored - 1) / _U16_MAX
    return np.rint(pixels * scale).astype(np.uint16)


def _pydicom_pixels(path: Path, dataset: pydicom.Dataset) -> np.ndarray:
    try:
        return dataset.pixel_array
    except Exception as err:  # decoders raise anything from ValueError to RuntimeError
        raise DicomReadError(
            path, f"its pixel data cannot be decoded ({type(err).__name__}: {err})"
        ) from err


def _image(path: Path, dataset: pydicom.Dataset, pixels: np.ndarray) -> DicomImage:
    del dataset.PixelData  # the header without the encoded bytes, as read_dicom returns it
    return DicomImage(pixels=pixels, header=dataset, path=path)


def _short_name(syntax: str) -> str:
    return _SHORT_NAMES.get(syntax, UID(syntax).name)


def _first_line(err: BaseException) -> str:
    """The line of a DALI error that names the failure (its message starts with a traceback)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("Failed")]
    return (failed or lines or [type(err).__name__])[0]


@functools.cache
def _log_missing_dali_once() -> None:
    log.warning("nvidia-dali is not available (%s); decoding with pydicom", _DALI_IMPORT_ERROR)
