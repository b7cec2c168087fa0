"""Whether a DICOM file holds all of its pixel data, told from its header and its size.

pydicom reads a file cut short without complaint when it stops before the pixel data (and
often even when it does not), so a truncated download passes a header-only check. Here the
Pixel Data element's own header is read where pydicom stopped: native (uncompressed) data must
be as long as Rows x Columns x SamplesPerPixel x BitsAllocated x NumberOfFrames says, and all
of it must be in the file; encapsulated (compressed) data must have every fragment complete up
to the sequence delimiter. Only element headers are read, never the pixel bytes.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO, Protocol

from pydicom.uid import UID

PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}
"""Float Pixel Data, Double Float Pixel Data, Pixel Data: where pydicom's stop_before_pixels
stops."""
_PIXEL_DATA = 0x7FE00010
_ITEM, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
"""Explicit VRs whose value length takes 4 bytes after 2 reserved ones (others: 2 bytes)."""
NO_PIXEL_DATA = "it has no Pixel Data element"


class HeaderValues(Protocol):
    """A header's values by keyword: a ``pydicom.Dataset``, or a dict of the tags read."""

    def get(self, keyword: str, default: Any = None, /) -> Any: ...


def pixel_data_problem(
    fp: BinaryIO, transfer_syntax: str, header: HeaderValues, size: int
) -> str | None:
    """Why the file of ``header`` does not hold its whole image, or None when it does.

    ``fp`` must be where ``pydicom.dcmread(fp, stop_before_pixels=True)`` left it (at the pixel
    data element, or at the end of the file when there is none); ``size`` is the file's size;
    ``header`` needs Rows, Columns, BitsAllocated, SamplesPerPixel and NumberOfFrames.
    A deflated transfer syntax is not checked (file offsets say nothing about its content).
    """
    syntax = UID(transfer_syntax)
    if syntax.is_deflated:
        return None
    start = fp.tell()
    little = syntax.is_little_endian if syntax.is_transfer_syntax else True
    implicit = syntax.is_implicit_VR if syntax.is_transfer_syntax else False
    endian = "<" if little else ">"
    head = fp.read(12)
    if len(head) < 8 or _tag(head, endian) not in PIXEL_TAGS:
        return f"{NO_PIXEL_DATA}: the file ends at byte {size:,} (truncated?)"
    tag = _tag(head, endian)
    if implicit:
        (length,), header_len = struct.unpack(f"{endian}I", head[4:8]), 8
    elif head[4:6] in _LONG_VRS:
        if len(head) < 12:
            return f"the file ends at byte {size:,}, inside its Pixel Data element's header"
        (length,), header_len = struct.unpack(f"{endian}I", head[8:12]), 12
    else:
        (length,), header_len = struct.unpack(f"{endian}H", head[6:8]), 8
    value_start = start + header_len
    if length == _UNDEFINED:
        return _fragments_problem(fp, value_start, size)
    end = value_start + length
    if tag == _PIXEL_DATA:
        needed = _native_length(header)
        if needed is not None and length < needed:
            return f"its Pixel Data holds {length:,} bytes but {_geometry(header)} needs {needed:,}"
    if end > size:
        return (
            f"truncated: the file is {size:,} bytes but its pixel data ({_geometry(header)}) "
            f"runs from byte {value_start:,} to byte {end:,}"
        )
    return None


def _fragments_problem(fp: BinaryIO, position: int, size: int) -> str | None:
    """Encapsulated data: items (the offset table, then the fragments) up to the delimiter."""
    fragment = 0
    while True:
        fp.seek(position)
        head = fp.read(8)
        if len(head) < 8:
            return (
                f"truncated: the file ends at byte {size:,} inside its compressed pixel data, "
                f"after {max(fragment - 1, 0)} complete fragment(s) and before the end marker"
            )
        tag = _tag(head, "<")
        (length,) = struct.unpack("<I", head[4:8])
        if tag == _SEQUENCE_END:
            return None
        if tag != _ITEM:
            return f"its compressed pixel data is malformed: tag {tag:08X} at byte {position:,}"
        end = position + 8 + length
        if end > size:
            what = "offset table" if fragment == 0 else f"fragment {fragment}"
            return (
                f"truncated: the file is {size:,} bytes but the {what} of its compressed pixel "
                f"data ends at byte {end:,}"
            )
        position, fragment = end, fragment + 1


def _tag(head: bytes, endian: str) -> int:
    group, element = struct.unpack(f"{endian}HH", head[:4])
    return int(group) << 16 | int(element)


def _native_length(header: HeaderValues) -> int | None:
    """Bytes of uncompressed pixel data the header asks for; None when it cannot say."""
    try:
        bits = (
            int(header.get("Rows"))
            * int(header.get("Columns"))
            * int(header.get("SamplesPerPixel", 1) or 1)
            * int(header.get("NumberOfFrames", 1) or 1)
            * int(header.get("BitsAllocated"))
        )
    except (AttributeError, TypeError, ValueError):
        return None
    return (bits + 7) // 8


def _geometry(header: HeaderValues) -> str:
    parts = [f"{header.get('Rows', '?')} x {header.get('Columns', '?')}"]
    frames = int(header.get("NumberOfFrames", 1) or 1)
    if frames != 1:
        parts.append(f"{frames} frames")
    samples = int(header.get("SamplesPerPixel", 1) or 1)
    if samples != 1:
        parts.append(f"{samples} samples")
    parts.append(f"{header.get('BitsAllocated', '?')} bits")
    return ", ".join(parts)
