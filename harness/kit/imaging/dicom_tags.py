"""A few tags of a DICOM header, read without pydicom's parser: for indexing many files.

``pydicom.dcmread(stop_before_pixels=True)`` and the file checks of ``read_header`` cost about
0.5 ms per CT slice, most of it Python work on every element of the header and on building the
Dataset; ``specific_tags`` does not avoid that. A task that needs five tags of 750,000 files
reads them here: the first bytes of the file are walked element by element (tag, VR, length
only), and just the wanted values are converted, by pydicom's own value converters, so they are
the values ``dcmread`` gives.

Only the plain cases are walked: a Part-10 file in explicit or implicit VR little endian
(which includes every compressed transfer syntax) whose elements before the pixel data all have
a defined length. Anything else (big endian, deflated, a sequence of undefined length, a file
that is not DICOM or ends early) goes to ``read_header``, which gives the same values or the
same DicomReadError, so the two agree on every file, good or bad.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.values import convert_value

from harness.kit.imaging.dicom import read_header, refetch_error
from harness.kit.imaging.dicom_check import NO_PIXEL_DATA, PIXEL_TAGS, pixel_data_problem

_PREAMBLE_END = 132
"""128-byte preamble and the 'DICM' marker."""
_READ_SIZES = (8192, 65536, 1 << 20)
"""Bytes read from the start of the file: more only when the header runs past them."""
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"})
_UNDEFINED = 0xFFFFFFFF
_IMPLICIT_LE = "1.2.840.10008.1.2"
_WALKED_ELSEWHERE = frozenset({"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"})
"""Explicit VR big endian, deflated explicit VR little endian: left to pydicom."""
_PIXEL_CHECK = ("Rows", "Columns", "SamplesPerPixel", "NumberOfFrames", "BitsAllocated")
"""What ``pixel_data_problem`` needs to know how long native pixel data must be."""
_CHARACTER_SET = "SpecificCharacterSet"
_US = struct.Struct("<H")
_TRANSFER_SYNTAX = 0x00020010
_FILE_META_GROUP = 0x0002


class _Unwalkable(Exception):
    """This file is left to pydicom (not an error: pydicom decides whether it is one)."""


class _NeedMore(Exception):
    """The header runs past the bytes read."""


def read_header_tags(
    path: str | os.PathLike[str], keywords: Collection[str], *, require_pixels: bool = False
) -> dict[str, Any]:
    """The values of the tags ``keywords`` names that the file has, by keyword, with the checks
    and errors of ``read_header(path, require_pixels=...)``: a Part-10 file with a transfer
    syntax whose pixel data is all in the file, else DicomReadError naming the file."""
    path = Path(path)
    names = {_tag(k): k for k in (*keywords, *_PIXEL_CHECK, _CHARACTER_SET)}
    try:
        with path.open("rb") as fp:
            size = os.fstat(fp.fileno()).st_size
            for read_size in _READ_SIZES:
                fp.seek(0)
                data = fp.read(read_size)
                try:
                    syntax, values, pixel_at = _walk(data, names, at_end=len(data) >= size)
                except _NeedMore:
                    continue
                fp.seek(pixel_at)
                problem = pixel_data_problem(fp, syntax, values, size)
                if problem is not None and (
                    require_pixels or not problem.startswith(NO_PIXEL_DATA)
                ):
                    raise refetch_error(path, problem)
                return {k: values[k] for k in keywords if k in values}
    except (_Unwalkable, OSError):
        pass
    dataset = read_header(path, require_pixels=require_pixels)
    return {k: dataset.get(k) for k in keywords if k in dataset}


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"{keyword!r} is not a DICOM keyword")
    return int(tag)


def _walk(data: bytes, names: dict[int, str], *, at_end: bool) -> tuple[str, dict[str, Any], int]:
    """The transfer syntax, the values of the ``names`` tags in ``data`` (the file's first
    bytes) and where the pixel data starts (the end of the file when there is none)."""
    if len(data) < _PREAMBLE_END or data[128:132] != b"DICM":
        raise _Unwalkable
    syntax, position = _file_meta(data, at_end)
    if syntax in _WALKED_ELSEWHERE:
        raise _Unwalkable
    implicit = syntax == _IMPLICIT_LE
    found: list[tuple[str, RawDataElement]] = []
    while position < len(data):
        if position + 8 > len(data):
            raise _NeedMore if not at_end else _Unwalkable
        group, element = struct.unpack_from("<HH", data, position)
        tag = group << 16 | element
        if tag in PIXEL_TAGS:
            break
        if group == 0xFFFE:
            raise _Unwalkable  # an item or delimiter outside a sequence
        vr, length, value_at = _element_header(data, position, implicit, at_end)
        end = value_at + length
        if tag in names:
            if end > len(data):
                raise _NeedMore if not at_end else _Unwalkable
            vr_name = None if vr is None else vr.decode("ascii", "replace")
            raw = RawDataElement(
                Tag(tag), vr_name, length, data[value_at:end], value_at, implicit, True
            )
            found.append((names[tag], raw))
        elif end > len(data) and at_end:
            raise _Unwalkable  # truncated inside an element: pydicom says how
        position = end
    else:
        if not at_end:
            raise _NeedMore
    return syntax, _convert(found), position


def _element_header(
    data: bytes, position: int, implicit: bool, at_end: bool
) -> tuple[bytes | None, int, int]:
    """VR (None in implicit VR), value length and where the value starts, of the element at
    ``position``."""
    vr: bytes | None = None
    if implicit:
        (length,) = struct.unpack_from("<I", data, position + 4)
        value_at = position + 8
    else:
        vr = data[position + 4 : position + 6]
        if vr in _LONG_VRS:
            if position + 12 > len(data):
                raise _NeedMore if not at_end else _Unwalkable
            (length,) = struct.unpack_from("<I", data, position + 8)
            value_at = position + 12
        else:
            (length,) = struct.unpack_from("<H", data, position + 6)
            value_at = position + 8
    if length == _UNDEFINED:
        raise _Unwalkable  # a sequence (or UN) of undefined length: pydicom walks those
    return vr, length, value_at


def _convert(found: list[tuple[str, RawDataElement]]) -> dict[str, Any]:
    """The values of the raw elements, by keyword, as pydicom converts them (strings in the
    file's Specific Character Set)."""
    raw = dict(found)
    encodings = None
    if _CHARACTER_SET in raw:
        encodings = convert_encodings(_value(raw.pop(_CHARACTER_SET), None))
    return {keyword: _value(element, encodings) for keyword, element in raw.items()}


def _value(element: RawDataElement, encodings: list[str] | None) -> Any:
    vr = element.VR or dictionary_VR(element.tag)
    if " or " in vr:
        raise _Unwalkable  # an implicit VR that depends on other tags: pydicom resolves it
    if vr == "US" and isinstance(element.value, bytes) and len(element.value) == 2:
        return _US.unpack(element.value)[0]  # what convert_value gives, without its overhead
    return convert_value(vr, element, encodings)


def _file_meta(data: bytes, at_end: bool) -> tuple[str, int]:
    """The Transfer Syntax UID of the file meta group (explicit VR little endian) and where the
    dataset starts after it."""
    position, syntax = _PREAMBLE_END, ""
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group != _FILE_META_GROUP:
            break
        _, length, value_at = _element_header(data, position, False, at_end)
        if value_at + length > len(data):
            raise _NeedMore if not at_end else _Unwalkable
        if group << 16 | element == _TRANSFER_SYNTAX:
            syntax = data[value_at : value_at + length].rstrip(b"\x00 ").decode("ascii", "replace")
        position = value_at + length
    else:
        if not at_end:
            raise _NeedMore
    if not syntax:
        raise _Unwalkable  # read_header names the missing Transfer Syntax UID
    return syntax, position
