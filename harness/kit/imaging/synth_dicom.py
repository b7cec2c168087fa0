"""Writing synthetic single-frame grayscale DICOM Part-10 files, reproducibly.

Used by the tasks' synthetic generators (mammography, radiographs, CT slices). Files contain
no timestamp and no random UID: UIDs are hashed from the patient id and the pixel content (or
come from ``extra``), so the same arguments always give the same bytes. JPEG 2000 needs both
sides of the image to be at least 32 pixels (OpenJPEG's default resolution levels).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydicom import Dataset, FileMetaDataset
from pydicom.datadict import tag_for_keyword
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    generate_uid,
)
from pydicom.valuerep import DSfloat

DIGITAL_MAMMOGRAPHY_FOR_PRESENTATION = UID("1.2.840.10008.5.1.4.1.1.1.2")
COMPUTED_RADIOGRAPHY = UID("1.2.840.10008.5.1.4.1.1.1")
CT_IMAGE = UID("1.2.840.10008.5.1.4.1.1.2")
SOP_CLASSES: dict[str, UID] = {
    "MG": DIGITAL_MAMMOGRAPHY_FOR_PRESENTATION,
    "CR": COMPUTED_RADIOGRAPHY,
    "CT": CT_IMAGE,
}
"""The SOP class of the images each ``modality`` written here stands for."""
TRANSFER_SYNTAXES: tuple[str, ...] = (ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1)
"""What ``write_dicom`` can write (JPEG Lossless SV1 through imagecodecs' libjpeg-turbo)."""


def write_dicom(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    transfer_syntax: str,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    window: tuple[Sequence[float], Sequence[float]] | None = None,
    voi_function: str | None = None,
    rescale: tuple[float, float] | None = None,
    patient_id: str,
    modality: str = "MG",
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a 2-D image as a DICOM file (by default Digital Mammography, For Presentation).

    ``pixels`` are the stored values: uint8 (BitsAllocated 8), uint16 (0 .. 2**bits_stored - 1)
    or int16 (signed, PixelRepresentation 1, as CT scanners write), written losslessly with
    ``transfer_syntax``: Explicit VR Little Endian (1.2.840.10008.1.2.1), JPEG 2000 lossless
    (1.2.840.10008.1.2.4.90, pylibjpeg-openjpeg) or JPEG Lossless SV1 (1.2.840.10008.1.2.4.70,
    libjpeg-turbo through imagecodecs). ``window`` is (centers, widths); several values are
    written as multi-valued WindowCenter/WindowWidth. ``rescale`` is (slope, intercept).
    ``modality`` ("MG", "CR" or "CT") names the kind of image and, through SOP_CLASSES, its SOP
    class (presentation intent is written for MG only).
    ``extra`` sets further elements by keyword, e.g. ``{"ImageLaterality": "L"}``; a
    ``SOPInstanceUID``, ``StudyInstanceUID`` or ``SeriesInstanceUID`` given there replaces the
    hashed default.
    """
    if modality not in SOP_CLASSES:
        raise ValueError(f"modality must be one of {', '.join(SOP_CLASSES)}, got {modality!r}")
    if pixels.ndim != 2 or pixels.dtype not in (np.uint8, np.uint16, np.int16):
        raise ValueError(
            f"pixels must be a 2-D uint8, uint16 or int16 array, got {pixels.dtype} {pixels.shape}"
        )
    bits_allocated = 8 * pixels.dtype.itemsize
    if not 1 <= bits_stored <= bits_allocated:
        raise ValueError(f"bits_stored must be in 1..{bits_allocated}, got {bits_stored}")
    signed = pixels.dtype == np.int16
    low, high = (
        (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1)) if signed else (0, 2**bits_stored)
    )
    if pixels.size and not (low <= int(pixels.min()) and int(pixels.max()) < high):
        raise ValueError(
            f"pixel values {int(pixels.min())}..{int(pixels.max())} do not fit in "
            f"{bits_stored} {'signed' if signed else 'unsigned'} bits"
        )
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise NotImplementedError(
            f"cannot write transfer syntax {transfer_syntax}; supported: "
            + ", ".join(TRANSFER_SYNTAXES)
        )
    if signed and transfer_syntax == JPEGLosslessSV1:
        raise NotImplementedError("JPEG Lossless SV1 is written for unsigned pixels only")
    extra = dict(extra or {})
    unknown = [keyword for keyword in extra if tag_for_keyword(keyword) is None]
    if unknown:
        raise ValueError(f"extra has unknown DICOM keyword(s): {', '.join(unknown)}")

    digest = hashlib.sha256(pixels.tobytes()).hexdigest()
    sop_instance_uid = extra.pop("SOPInstanceUID", None) or generate_uid(
        entropy_srcs=["instance", patient_id, digest]
    )
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    sop_class_uid = SOP_CLASSES[modality]
    dataset.file_meta.MediaStorageSOPClassUID = sop_class_uid
    dataset.file_meta.MediaStorageSOPInstanceUID = sop_instance_uid
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.SOPClassUID = sop_class_uid
    dataset.SOPInstanceUID = sop_instance_uid
    dataset.StudyInstanceUID = generate_uid(entropy_srcs=["study", patient_id])
    dataset.SeriesInstanceUID = generate_uid(entropy_srcs=["series", patient_id, digest])
    dataset.Modality = modality
    dataset.PatientID = patient_id
    dataset.PatientName = patient_id
    if modality == "MG":
        dataset.PresentationIntentType = "FOR PRESENTATION"
    if rescale is not None:
        dataset.RescaleSlope = DSfloat(rescale[0], auto_format=True)
        dataset.RescaleIntercept = DSfloat(rescale[1], auto_format=True)
    if window is not None:
        centers, widths = window
        dataset.WindowCenter = _decimal_strings(centers)
        dataset.WindowWidth = _decimal_strings(widths)
    if voi_function is not None:
        dataset.VOILUTFunction = voi_function
    for keyword, value in extra.items():
        setattr(dataset, keyword, value)

    dataset.set_pixel_data(pixels, photometric, bits_stored, generate_instance_uid=False)
    if transfer_syntax == JPEG2000Lossless:
        dataset.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    elif transfer_syntax == JPEGLosslessSV1:
        dataset.PixelData = encapsulate([_encode_jpeg_lossless_sv1(pixels, bits_stored)])
        dataset["PixelData"].VR = "OB"
        dataset.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    dataset.save_as(path, enforce_file_format=True)


def _decimal_strings(values: Sequence[float]) -> DSfloat | list[DSfloat]:
    """A DS value: one number as VM 1, several as a real multi-valued element."""
    numbers = [DSfloat(float(v), auto_format=True) for v in values]
    if not numbers:
        raise ValueError("a window needs at least one center and one width")
    return numbers[0] if len(numbers) == 1 else numbers


def _encode_jpeg_lossless_sv1(pixels: np.ndarray, bits_stored: int) -> bytes:
    """A JPEG Process 14 codestream with selection value 1 (left-neighbour predictor)."""
    import imagecodecs

    stream = bytes(
        imagecodecs.jpeg8_encode(pixels, lossless=True, predictor=1, bitspersample=bits_stored)
    )
    # libjpeg-turbo writes a JFIF APP0 segment, which describes 8-bit YCbCr images and is not
    # expected in a 12/16-bit DICOM codestream: drop it.
    if stream[2:4] == b"\xff\xe0":
        stream = stream[:2] + stream[4 + int.from_bytes(stream[4:6], "big") :]
    return stream
