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

With ``fallback_workers``, pydicom's decodes run in a pool of processes (``PydicomPool``)
while DALI decodes: the files of the next batches are read and their fallbacks queued before
the current batch goes to DALI, so the two overlap; results are yielded in input order all the
same. ``decode_on_device`` yields the pixels as torch tensors: on the GPU straight from DALI's
output through DLPack (no copy through host memory), on the CPU a view of the numpy array.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pydicom
import torch
from pydicom.encaps import generate_frames
from pydicom.uid import UID, JPEG2000Lossless, JPEGLosslessSV1

from harness.api import HarnessError
from harness.kit.imaging.dicom import (
    DicomImage,
    DicomReadError,
    HeaderFacts,
    pixel_array,
    read_dataset,
)
from harness.kit.imaging.fallback_pool import PydicomPool

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

Pixels = np.ndarray | torch.Tensor
"""A decoded image: numpy on the host, or a torch tensor (on the GPU with ``decode_on_device``)."""


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
class DeviceImage(HeaderFacts):
    """A decoded DICOM image as a torch tensor, for preprocessing where it was decoded."""

    pixels: torch.Tensor
    """Stored values, (rows, columns) int32 (torch has few uint16 operations)."""
    header: pydicom.Dataset
    """The dataset without Pixel Data, as in DicomImage."""
    path: Path


@dataclass
class _Pending:
    """A file being decoded by the process pool."""

    path: Path
    dataset: pydicom.Dataset
    reason: str
    warn: bool
    future: Future[np.ndarray]


_Result = DicomImage | DeviceImage | DicomReadError | _Pending
_Chunk = tuple[list[Path], dict[int, _Result], list["_Encoded"]]
"""A batch of files read: their paths, what is known of each, and what goes to DALI."""


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
    decoded by pydicom. ``fallback_workers`` > 0 decodes the pydicom fallbacks in that many
    processes, overlapped with DALI, for a ``decode`` call of at least ``pool_min_pixels``
    pixels (the first file's rows x columns times the number of files): starting the workers
    costs seconds (each imports pydicom and the caller's main module), which small images do
    not pay back. 0 decodes them here, one after another. Use as a context manager, or call
    ``close()`` to free the pipeline and the processes and log the per-syntax counts of pydicom
    fallbacks. One ``decode`` at a time.
    """

    def __init__(
        self,
        device: str = "cpu",
        batch_size: int = 8,
        num_threads: int = 2,
        device_id: int | None = None,
        *,
        fallback_workers: int = 0,
        pool_min_pixels: int = 64 * 2048 * 1024,
    ) -> None:
        if device not in _DEVICES:
            raise ValueError(f"device must be one of {', '.join(_DEVICES)}, got {device!r}")
        if batch_size < 1 or num_threads < 1:
            raise ValueError(
                f"batch_size and num_threads must be >= 1, got {batch_size} and {num_threads}"
            )
        if fallback_workers < 0:
            raise ValueError(f"fallback_workers must be >= 0, got {fallback_workers}")
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
        self.pool = PydicomPool(fallback_workers) if fallback_workers else None
        self.pool_min_pixels = pool_min_pixels
        self._active_pool: PydicomPool | None = None
        """The pool while a ``decode`` call uses it."""
        self._on_device = False
        """Whether DALI's GPU outputs stay on the GPU (``decode_on_device``)."""
        if dali_available():
            self._pipe = self._build_pipeline()
        else:
            _log_missing_dali_once()

    def __enter__(self) -> DicomDecoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the DALI pipeline and the processes; log how many files pydicom decoded, per
        syntax and why."""
        self._pipe = None
        if self.pool is not None:
            self.pool.close()
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
        self._on_device = False
        for path, result in self._decode(paths):
            assert not isinstance(result, DeviceImage | _Pending)
            yield path, result

    def decode_on_device(
        self, paths: Sequence[str | Path]
    ) -> Iterator[tuple[Path, DeviceImage | DicomReadError]]:
        """As ``decode``, with the pixels as an int32 torch tensor where they were decoded.

        On 'mixed' DALI's GPU output is handed to torch through DLPack and checked there (the
        first image of a kind is compared with pydicom's on the host once); pydicom's fallbacks
        are copied to the GPU. On 'cpu' the tensor is made from the numpy array.
        """
        self._on_device = self.device == "mixed"
        gpu = torch.device("cuda", self.device_id or 0)
        for path, result in self._decode(paths):
            assert not isinstance(result, _Pending)
            if isinstance(result, DicomImage):
                pixels = torch.from_numpy(result.pixels.astype(np.int32))
                result = DeviceImage(
                    pixels.to(gpu) if self._on_device else pixels, result.header, result.path
                )
            yield path, result

    def _decode(self, paths: Sequence[str | Path]) -> Iterator[tuple[Path, _Result]]:
        files = [Path(p) for p in paths]
        use_pool = self.pool is not None and self._pays_off(files)
        self._active_pool = self.pool if use_pool else None
        # Batches read ahead (their fallbacks queued in the pool) before one goes to DALI.
        ahead = 0 if self.pool is None or not use_pool else self._read_ahead(self.pool.workers)
        chunks: deque[_Chunk] = deque()
        try:
            for start in range(0, len(files), self.batch_size):
                chunks.append(self._read_chunk(files[start : start + self.batch_size]))
                if len(chunks) > ahead:
                    yield from self._finish_chunk(chunks.popleft())
            while chunks:
                yield from self._finish_chunk(chunks.popleft())
        finally:
            self._active_pool = None

    def _pays_off(self, files: list[Path]) -> bool:
        """Whether the files hold ``pool_min_pixels`` pixels, judged from the first one."""
        if self.pool_min_pixels <= 0 or (self.pool is not None and self.pool.started):
            return True
        if not files:
            return False
        try:
            header = read_dataset(files[0], stop_before_pixels=True)
        except DicomReadError:
            return False  # decode() reports it
        pixels = int(header.get("Rows", 0)) * int(header.get("Columns", 0))
        return pixels * len(files) >= self.pool_min_pixels

    def _read_ahead(self, workers: int) -> int:
        """Batches to read ahead so that every worker has about two files queued."""
        return max(1, math.ceil(2 * workers / self.batch_size))

    def _read_chunk(self, chunk: list[Path]) -> _Chunk:
        results: dict[int, _Result] = {}
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
        return chunk, results, encoded

    def _finish_chunk(self, chunk: _Chunk) -> Iterator[tuple[Path, _Result]]:
        paths, results, encoded = chunk
        results.update(self._decode_with_dali(encoded))
        for index, path in enumerate(paths):
            yield path, self._settle(results[index])

    def _settle(self, result: _Result) -> _Result:
        """A pool's decode collected (and counted); anything else as it is."""
        if not isinstance(result, _Pending):
            return result
        assert self.pool is not None
        try:
            pixels = self.pool.result(result.future, result.path)
        except DicomReadError as err:
            return self._failed(err)
        return self._pydicom_image(
            result.path, result.dataset, result.reason, pixels, warn=result.warn
        )

    # Routing ---------------------------------------------------------------------------------

    def _route(self, index: int, path: Path, dataset: pydicom.Dataset) -> _Encoded | _Result:
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

    def _run_dali(self, codestreams: list[bytes]) -> list[Pixels]:
        """DALI's HxWx1 uint16 outputs for a batch; raises if any sample fails.

        With ``decode_on_device`` on 'mixed', int32 torch tensors on the GPU: each sample is
        taken through DLPack (torch waits on DALI's stream) and cast, which also copies it out
        of DALI's buffers before the next batch reuses them.
        """
        if self._pipe is None:
            self._pipe = self._build_pipeline()
        self._pipe.feed_input(_INPUT, [np.frombuffer(c, dtype=np.uint8) for c in codestreams])
        (batch,) = self._pipe.run()
        if self._on_device:
            return [torch.from_dlpack(batch[i]).to(torch.int32) for i in range(len(codestreams))]
        if self.device == "mixed":
            batch = batch.as_cpu()
        return [np.asarray(batch.at(i)) for i in range(len(codestreams))]

    def _decode_with_dali(self, encoded: list[_Encoded]) -> Iterator[tuple[int, _Result]]:
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

    def _accept(self, item: _Encoded, output: Pixels) -> _Result:
        """DALI's image if it passes the guards, else pydicom's."""
        rows, columns = int(item.dataset.Rows), int(item.dataset.Columns)
        expected_dtype = torch.int32 if isinstance(output, torch.Tensor) else np.uint16
        if tuple(output.shape) != (rows, columns, 1) or output.dtype != expected_dtype:
            return self._fallback(
                item.path,
                item.dataset,
                f"DALI returned {output.dtype} {tuple(output.shape)}, not uint16 "
                f"({rows}, {columns}, 1)",
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
                reference = pixel_array(item.path, item.dataset)
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

    def _verify(self, key: tuple[str, int], pixels: Pixels, reference: np.ndarray) -> bool | None:
        """Compare DALI's first image of a kind with pydicom's: is DALI's range stretched?

        Returns None, and refuses DALI for that kind of file, when neither reading matches.
        """
        syntax, bits_stored = _short_name(key[0]), key[1]
        if isinstance(pixels, torch.Tensor):
            pixels = pixels.cpu().numpy().astype(np.uint16)  # once per kind of file
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
    ) -> _Result:
        """Decode with pydicom (unless ``pixels`` already holds pydicom's result) and log why:
        here, or queued in the pool while a ``decode`` call uses one."""
        if pixels is None:
            if self._active_pool is not None:
                return _Pending(path, dataset, reason, warn, self._active_pool.submit(path))
            try:
                pixels = pixel_array(path, dataset)
            except DicomReadError as err:
                return self._failed(err)
        return self._pydicom_image(path, dataset, reason, pixels, warn=warn)

    def _pydicom_image(
        self, path: Path, dataset: pydicom.Dataset, reason: str, pixels: np.ndarray, *, warn: bool
    ) -> DicomImage:
        """pydicom's image of a fallback, counted and logged."""
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
        del dataset.PixelData  # the header without the encoded bytes, as read_dicom returns it
        return DicomImage(pixels=pixels, header=dataset, path=path)

    def _failed(self, err: DicomReadError) -> DicomReadError:
        self.stats.failed += 1
        log.debug("%s", err)
        return err


def _looks_blank(pixels: Pixels) -> bool:
    """True for an image without any variation (all-zero included).

    The nvJPEG lossless bug returns all-zero images; checking for zero variance rather than only
    for zeros also catches a constant fill. A truly constant image is then decoded twice, at
    the cost of one pydicom decode.
    """
    size = pixels.numel() if isinstance(pixels, torch.Tensor) else pixels.size
    return size == 0 or int(pixels.min()) == int(pixels.max())


def _undo_range_stretch(pixels: Pixels, bits_stored: int) -> Pixels:
    """Inverse of DALI's stretch of ``bits_stored``-bit values to the uint16 range.

    DALI multiplies by 65535 / (2**bits - 1) >= 1 and rounds, so rounding the product with the
    reciprocal recovers every stored value exactly (in float32 too: the product is within
    65535 * 2**-24 of the float64 one, far from a rounding boundary).
    """
    scale = (2**bits_stored - 1) / _U16_MAX
    if isinstance(pixels, torch.Tensor):
        return torch.round(pixels.float() * scale).to(torch.int32)
    return np.rint(pixels * scale).astype(np.uint16)


def _image(path: Path, dataset: pydicom.Dataset, pixels: Pixels) -> DicomImage | DeviceImage:
    del dataset.PixelData  # the header without the encoded bytes, as read_dicom returns it
    if isinstance(pixels, torch.Tensor):
        return DeviceImage(pixels=pixels, header=dataset, path=path)
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
