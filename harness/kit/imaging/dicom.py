"""Reading DICOM files with pydicom, every failure turned into an actionable DicomReadError.

pydicom decodes compressed pixel data through its plug-ins: pylibjpeg-openjpeg for JPEG 2000,
pylibjpeg-libjpeg for JPEG lossless (Process 14, SV1). Stored values keep pydicom's dtype:
uint16 for unsigned data is never cast to int16, which would wrap values above 32767.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from harness.api import HarnessError
from harness.kit.imaging.dicom_check import NO_PIXEL_DATA, pixel_data_problem

_FIX = (
    "check that it is a complete DICOM Part-10 file (re-download or re-generate it); if every "
    "compressed file fails, check that pylibjpeg, pylibjpeg-openjpeg and pylibjpeg-libjpeg are "
    "installed"
)


_REFETCH = "re-download (or copy again) this file: the one on disk is not the whole file"


class DicomReadError(HarnessError):
    """A DICOM file that cannot be read or decoded; the message names the file and the fix."""

    def __init__(self, path: str | os.PathLike[str], reason: str, fix: str = _FIX) -> None:
        self.path = Path(path)
        self.reason = reason
        self.fix = fix
        super().__init__(f"cannot read DICOM file {self.path}: {reason}; {fix}")

    def __reduce__(self) -> tuple[type[DicomReadError], tuple[Path, str, str]]:
        # Rebuilt from its parts: the default pickling passes only the message to __init__,
        # so an error raised in a decoding process could not cross back to the parent.
        return type(self), (self.path, self.reason, self.fix)


def refetch_error(path: str | os.PathLike[str], reason: str) -> DicomReadError:
    """The error of a file that is not whole on disk (truncated, no pixel data)."""
    return DicomReadError(path, reason, _REFETCH)


class HeaderFacts:
    """What a decoded image's ``header`` (its dataset without Pixel Data) tells of it."""

    header: pydicom.Dataset

    @property
    def photometric(self) -> str:
        """Photometric Interpretation, e.g. 'MONOCHROME1' or 'MONOCHROME2'."""
        return str(self.header.get("PhotometricInterpretation", ""))

    @property
    def transfer_syntax(self) -> str:
        """Transfer Syntax UID of the file, e.g. '1.2.840.10008.1.2.4.90' (JPEG 2000 lossless)."""
        return str(self.header.file_meta.get("TransferSyntaxUID", ""))


@dataclass
class DicomImage(HeaderFacts):
    """A decoded DICOM image.

    ``header`` is the dataset without its Pixel Data element, so that the encoded bytes are not
    kept in memory next to the decoded ``pixels``.
    """

    pixels: np.ndarray
    """Stored values as decoded by pydicom (before any modality or VOI LUT)."""
    header: pydicom.Dataset
    path: Path


def read_header(path: str | os.PathLike[str], *, require_pixels: bool = False) -> pydicom.Dataset:
    """The dataset of a DICOM file without its pixel data (fast: stops before Pixel Data).

    The file is checked to hold all of its pixel data (from the element headers and the file
    size, see harness.kit.imaging.dicom_check), so a truncated download fails here already. With
    ``require_pixels`` a file without Pixel Data fails too: an image dataset's files all have
    one, and a file cut before it looks like a header-only one.
    """
    return read_dataset(Path(path), stop_before_pixels=True, require_pixels=require_pixels)


def read_dicom(path: str | os.PathLike[str]) -> DicomImage:
    """Read and decode a DICOM file; raises DicomReadError naming the file on any failure."""
    path = Path(path)
    dataset = read_dataset(path, stop_before_pixels=False, require_pixels=True)
    if "PixelData" not in dataset:
        # Float or Double Float Pixel Data only: not an image these tasks read.
        raise DicomReadError(path, "it has no (integer) Pixel Data element")
    pixels = pixel_array(path, dataset)
    del dataset.PixelData
    return DicomImage(pixels=pixels, header=dataset, path=path)


def pixel_array(path: Path, dataset: pydicom.Dataset) -> np.ndarray:
    """``dataset.pixel_array``, a decoder failure turned into a DicomReadError naming ``path``."""
    try:
        return dataset.pixel_array
    except Exception as err:  # decoders raise anything from ValueError to RuntimeError
        raise DicomReadError(
            path, f"its pixel data cannot be decoded ({type(err).__name__}: {err})"
        ) from err


def read_dataset(
    path: Path, *, stop_before_pixels: bool, require_pixels: bool = False
) -> pydicom.Dataset:
    """``pydicom.dcmread`` with every failure turned into a DicomReadError naming the file.

    The header is read first and the file checked to hold all of its pixel data; an empty
    file, a non-DICOM file and a truncated one each get their own message and the fix.
    """
    if not path.is_file():
        raise DicomReadError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise refetch_error(path, "empty file (0 bytes)")
    with path.open("rb") as fp:
        try:
            dataset = pydicom.dcmread(fp, stop_before_pixels=True)
        except InvalidDicomError as err:
            raise DicomReadError(
                path,
                f"not a DICOM file (no 'DICM' marker at byte 128; {size:,} bytes)",
                "check that it is the DICOM image its name says; re-download it if it should be",
            ) from err
        except Exception as err:  # truncated headers surface as EOFError, struct.error, ...
            raise DicomReadError(path, f"{type(err).__name__}: {err}") from err
        if "TransferSyntaxUID" not in dataset.file_meta:
            raise refetch_error(
                path, "its file meta header has no Transfer Syntax UID (truncated?)"
            )
        problem = pixel_data_problem(fp, str(dataset.file_meta.TransferSyntaxUID), dataset, size)
        if problem is not None and (require_pixels or not problem.startswith(NO_PIXEL_DATA)):
            raise refetch_error(path, problem)
        if stop_before_pixels:
            return dataset
        fp.seek(0)
        try:
            return pydicom.dcmread(fp)
        except Exception as err:
            raise DicomReadError(path, f"{type(err).__name__}: {err}") from err
