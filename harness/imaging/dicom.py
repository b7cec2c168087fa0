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

_FIX = (
    "check that it is a complete DICOM Part-10 file (re-download or re-generate it); if every "
    "compressed file fails, check that pylibjpeg, pylibjpeg-openjpeg and pylibjpeg-libjpeg are "
    "installed"
)


class DicomReadError(HarnessError):
    """A DICOM file that cannot be read or decoded; the message names the file and the fix."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read DICOM file {self.path}: {reason}; {_FIX}")


@dataclass
class DicomImage:
    """A decoded DICOM image.

    ``header`` is the dataset without its Pixel Data element, so that the encoded bytes are not
    kept in memory next to the decoded ``pixels``.
    """

    pixels: np.ndarray
    """Stored values as decoded by pydicom (before any modality or VOI LUT)."""
    header: pydicom.Dataset
    path: Path

    @property
    def photometric(self) -> str:
        """Photometric Interpretation, e.g. 'MONOCHROME1' or 'MONOCHROME2'."""
        return str(self.header.get("PhotometricInterpretation", ""))

    @property
    def transfer_syntax(self) -> str:
        """Transfer Syntax UID of the file, e.g. '1.2.840.10008.1.2.4.90' (JPEG 2000 lossless)."""
        return str(self.header.file_meta.get("TransferSyntaxUID", ""))


def read_header(path: str | os.PathLike[str]) -> pydicom.Dataset:
    """The dataset of a DICOM file without its pixel data (fast: stops before Pixel Data)."""
    return read_dataset(Path(path), stop_before_pixels=True)


def read_dicom(path: str | os.PathLike[str]) -> DicomImage:
    """Read and decode a DICOM file; raises DicomReadError naming the file on any failure."""
    path = Path(path)
    dataset = read_dataset(path, stop_before_pixels=False)
    if "PixelData" not in dataset:
        # A file cut inside encapsulated (compressed) pixel data is read without it.
        raise DicomReadError(path, "it has no Pixel Data element (no image, or a truncated file)")
    try:
        pixels = dataset.pixel_array
    except Exception as err:  # decoders raise anything from ValueError to RuntimeError
        raise DicomReadError(
            path, f"its pixel data cannot be decoded ({type(err).__name__}: {err})"
        ) from err
    del dataset.PixelData
    return DicomImage(pixels=pixels, header=dataset, path=path)


def read_dataset(path: Path, *, stop_before_pixels: bool) -> pydicom.Dataset:
    """``pydicom.dcmread`` with every failure turned into a DicomReadError naming the file."""
    if not path.is_file():
        raise DicomReadError(path, "no such file")
    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError as err:
        raise DicomReadError(path, "not a DICOM Part-10 file (no 'DICM' prefix)") from err
    except Exception as err:  # truncated headers surface as EOFError, struct.error, ...
        raise DicomReadError(path, f"{type(err).__name__}: {err}") from err
    if "TransferSyntaxUID" not in dataset.file_meta:
        raise DicomReadError(path, "its file meta header has no Transfer Syntax UID (truncated?)")
    return dataset
