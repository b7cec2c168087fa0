"""read_header_tags against read_header: the same values and the same errors on every file.

Plain files must be read by the walker itself (read_header is made to fail for them), the
others must reach read_header, and the outcome must be the same either way.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
)

from harness.kit.imaging import dicom_tags
from harness.kit.imaging.dicom import DicomReadError, read_header
from harness.kit.imaging.dicom_tags import read_header_tags
from harness.kit.imaging.synth_dicom import write_dicom

KEYWORDS = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "InstanceNumber",
    "ImagePositionPatient",
    "Rows",
    "WindowCenter",
    "NumberOfFrames",  # absent from every file here: absent from the values too
)
CT_TAGS = {
    "InstanceNumber": 7,
    "ImagePositionPatient": [-115.0, -115.0, 43.1613],
    "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
}


def _write(path: Path, syntax: str = ExplicitVRLittleEndian, **extra: object) -> Path:
    pixels = np.random.default_rng(0).integers(0, 4096, (48, 40)).astype(np.uint16)
    write_dicom(
        path,
        pixels,
        transfer_syntax=syntax,
        patient_id="ID_2b1c",
        modality="CT",
        window=([40, 400], [80, 2000]),
        extra={**CT_TAGS, **extra},
    )
    return path


def _resaved(path: Path, out: Path, change: Callable[[pydicom.Dataset], None], **save) -> Path:
    dataset = pydicom.dcmread(path)
    change(dataset)
    pydicom.dcmwrite(out, dataset, **save)
    return out


def _implicit(tmp: Path) -> Path:
    def to_implicit(dataset: pydicom.Dataset) -> None:
        dataset.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian

    return _resaved(_write(tmp / "a.dcm"), tmp / "implicit.dcm", to_implicit, implicit_vr=True)


def _big_endian(tmp: Path) -> Path:
    def to_big(dataset: pydicom.Dataset) -> None:
        dataset.file_meta.TransferSyntaxUID = ExplicitVRBigEndian

    source = _write(tmp / "a.dcm")
    return _resaved(
        source, tmp / "big.dcm", to_big, implicit_vr=False, little_endian=False, force_encoding=True
    )


def _sequence(tmp: Path) -> Path:
    def add_sequence(dataset: pydicom.Dataset) -> None:
        item = pydicom.Dataset()
        item.ReferencedSOPInstanceUID = "1.2.3"
        dataset.ReferencedImageSequence = Sequence([item])
        dataset["ReferencedImageSequence"].is_undefined_length = True

    return _resaved(_write(tmp / "a.dcm"), tmp / "sequence.dcm", add_sequence)


def _latin1_name(tmp: Path) -> Path:
    def rename(dataset: pydicom.Dataset) -> None:
        dataset.SpecificCharacterSet = "ISO_IR 100"
        dataset.PatientName = "Müller^Jürgen"

    return _resaved(_write(tmp / "a.dcm"), tmp / "latin1.dcm", rename)


def _header_only(tmp: Path) -> Path:
    def drop_pixels(dataset: pydicom.Dataset) -> None:
        del dataset.PixelData

    return _resaved(_write(tmp / "a.dcm"), tmp / "header_only.dcm", drop_pixels)


def _cut(tmp: Path, syntax: str, keep: float) -> Path:
    data = _write(tmp / "a.dcm", syntax).read_bytes()
    path = tmp / f"cut_{keep}.dcm"
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _cut_in_patient_id(tmp: Path) -> Path:
    data = _write(tmp / "a.dcm").read_bytes()
    path = tmp / "cut_in_patient_id.dcm"
    path.write_bytes(data[: data.index(b"ID_2b1c") + 3])
    return path


WALKED: dict[str, Callable[[Path], Path]] = {
    "explicit": lambda tmp: _write(tmp / "e.dcm"),
    "jpeg2000": lambda tmp: _write(tmp / "j.dcm", JPEG2000Lossless),
    "sv1": lambda tmp: _write(tmp / "s.dcm", JPEGLosslessSV1),
    "implicit": _implicit,
    "latin1": _latin1_name,
    "long element before the tags": lambda tmp: _write(tmp / "l.dcm", ImageComments="x" * 9000),
    "header only": _header_only,
    "truncated pixel data": lambda tmp: _cut(tmp, ExplicitVRLittleEndian, 0.9),
    "truncated fragment": lambda tmp: _cut(tmp, JPEG2000Lossless, 0.9),
}
LEFT_TO_PYDICOM: dict[str, Callable[[Path], Path]] = {
    "big endian": _big_endian,
    "undefined-length sequence": _sequence,
    "cut inside the file meta": lambda tmp: _cut(tmp, ExplicitVRLittleEndian, 0.05),
    "cut inside a wanted value": _cut_in_patient_id,
    "empty": lambda tmp: _empty(tmp / "empty.dcm"),
    "not DICOM": lambda tmp: _text(tmp / "notes.dcm"),
    "missing": lambda tmp: tmp / "absent.dcm",
}


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _text(path: Path) -> Path:
    path.write_text("patient_id,image_id\n1,2\n")
    return path


def _outcome(read: Callable[[], dict[str, object]]) -> tuple[str, object]:
    try:
        return "values", read()
    except DicomReadError as err:
        return "error", str(err)


def _reference(path: Path, require_pixels: bool) -> tuple[str, object]:
    def values() -> dict[str, object]:
        dataset = read_header(path, require_pixels=require_pixels)
        return {k: dataset.get(k) for k in KEYWORDS if k in dataset}

    return _outcome(values)


def _fast(path: Path, require_pixels: bool) -> tuple[str, object]:
    return _outcome(lambda: read_header_tags(path, KEYWORDS, require_pixels=require_pixels))


def _forbid_pydicom(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(path: Path, **_: object) -> pydicom.Dataset:
        raise AssertionError(f"{path} should have been walked, not read by pydicom")

    monkeypatch.setattr(dicom_tags, "read_header", forbidden)


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter")
@pytest.mark.parametrize("require_pixels", [False, True])
@pytest.mark.parametrize("case", list(WALKED))
def test_walked_files_give_read_headers_outcome(tmp_path, monkeypatch, case, require_pixels):
    path = WALKED[case](tmp_path)
    expected = _reference(path, require_pixels)
    _forbid_pydicom(monkeypatch)

    found = _fast(path, require_pixels)

    assert found == expected
    kind, values = found
    if kind == "values":
        assert isinstance(values, dict) and isinstance(expected[1], dict)
        assert {k: type(v) for k, v in values.items()} == {
            k: type(v) for k, v in expected[1].items()
        }


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter")
@pytest.mark.parametrize("require_pixels", [False, True])
@pytest.mark.parametrize("case", list(LEFT_TO_PYDICOM))
def test_other_files_are_left_to_read_header(tmp_path, monkeypatch, case, require_pixels):
    path = LEFT_TO_PYDICOM[case](tmp_path)
    expected = _reference(path, require_pixels)
    calls: list[Path] = []

    def counted(path: Path, **options: bool) -> pydicom.Dataset:
        calls.append(path)
        return read_header(path, **options)

    monkeypatch.setattr(dicom_tags, "read_header", counted)

    assert _fast(path, require_pixels) == expected
    assert calls == [path]


def test_values_are_what_was_written(tmp_path):
    values = read_header_tags(_write(tmp_path / "1.dcm"), KEYWORDS)

    assert values["PatientID"] == "ID_2b1c"
    assert values["InstanceNumber"] == 7
    assert [float(v) for v in values["ImagePositionPatient"]] == [-115.0, -115.0, 43.1613]
    assert [float(v) for v in values["WindowCenter"]] == [40.0, 400.0]
    assert values["Rows"] == 48
    assert "NumberOfFrames" not in values


def test_unknown_keyword_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'PatientIdentifier' is not a DICOM keyword"):
        read_header_tags(_write(tmp_path / "1.dcm"), ["PatientIdentifier"])
