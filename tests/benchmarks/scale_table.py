"""rsna-ich at Kaggle scale: how each cost of the harness grows with the number of slices.

    python tests/benchmarks/scale_table.py [--fractions 0.01 0.1 0.3 1.0] [--runs 3] [--work DIR]

For each fraction of stage 2's 752,803 training slices it writes an rsna-ich layout of that
size (``stage_2_train.csv`` with six rows per slice, one DICOM per slice with a real CT header
of ~25 elements and 2 x 2 pixels: the header work of the real 512 x 512 slices, not their
decode or disk space; studies of 35 slices, a fifth of the patients with two studies), then
times each step in a fresh process and takes its peak resident set from the OS:

- **old header pass**: pydicom's ``read_header`` with the file checks, 8 threads, as rsna-ich
  loading read every header before the index (on at most 20,000 files; files/s);
- **first load**: ``read_train_table`` with no index yet (csv parsed, every header read into
  the index by the process pool), and **second load** with it (every file stat'ed, none read);
- **run start-up**: ``harness run`` of a no-op solution, from the call until its first phase
  starts (plug-ins, data, split, views, MLflow run, the run's process); the runs' total too;
- **data check** ``decode=false`` (every header) and ``decode=true sample=500``;
- **score**: ``harness score`` of a run's submission at ``bootstrap=1000``;
- **report** of the ``--runs`` runs (their stored scores reused).

It prints one table of seconds (rows: steps, columns: sizes) with the growth between the last
two sizes (time ratio over size ratio: 1.0 is linear, below is better), then one of peak RSS.
Nothing is asserted about time. ``--work`` keeps the layouts (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

KAGGLE_SLICES = 752_803
"""stage_2_train.csv's images (4,516,818 rows, six per image)."""
SLICES_PER_STUDY = 35
TWO_STUDY_PATIENTS = 0.2
OLD_PASS_FILES = 20_000
DECODE_SAMPLE = 500
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


# ---- the layout -------------------------------------------------------------------------------

_UID_ROOT = "1.2.826.0.1.3680043.8.498."
_PLACEHOLDERS = {
    "patient": b"ID_PPPPPPPPP",
    "study": (_UID_ROOT + "1." + "9" * 12).encode(),
    "series": (_UID_ROOT + "2." + "9" * 12).encode(),
    "instance": (_UID_ROOT + "3." + "9" * 12).encode(),
    "number": b"8642",
    "z": b"+8888.888",
}
"""Fixed-width values written into the template header and replaced per slice: every file is
the template's bytes with these spans changed, so it is a valid DICOM file of the same length."""
_UID_BASE = 10**11
"""Added to a number in a UID: 12 digits, no leading zero (which a UID must not have)."""


def _template() -> bytes:
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = CTImageStorage
    dataset.file_meta.MediaStorageSOPInstanceUID = _PLACEHOLDERS["instance"].decode()
    values = {
        "SOPClassUID": CTImageStorage,
        "SOPInstanceUID": _PLACEHOLDERS["instance"].decode(),
        "Modality": "CT",
        "PatientName": "anonymous",
        "PatientID": _PLACEHOLDERS["patient"].decode(),
        "StudyInstanceUID": _PLACEHOLDERS["study"].decode(),
        "SeriesInstanceUID": _PLACEHOLDERS["series"].decode(),
        "StudyID": "",
        "InstanceNumber": _PLACEHOLDERS["number"].decode(),
        "ImagePositionPatient": ["-125.000", "-125.000", _PLACEHOLDERS["z"].decode()],
        "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
        "SamplesPerPixel": 1,
        "PhotometricInterpretation": "MONOCHROME2",
        "Rows": 2,
        "Columns": 2,
        "PixelSpacing": [0.488281, 0.488281],
        "BitsAllocated": 16,
        "BitsStored": 16,
        "HighBit": 15,
        "PixelRepresentation": 1,
        "WindowCenter": "36",
        "WindowWidth": "80",
        "RescaleIntercept": "-1024",
        "RescaleSlope": "1",
    }
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    dataset.PixelData = np.array([[1000, 1030], [1040, 0]], dtype=np.int16).tobytes()
    path = Path(tempfile.mkdtemp()) / "template.dcm"
    pydicom.dcmwrite(path, dataset, enforce_file_format=True)
    return path.read_bytes()


def _spans(template: bytes) -> dict[str, list[int]]:
    """Where each placeholder starts in the template; they must not overlap."""
    spans = {}
    taken = np.zeros(len(template), dtype=bool)
    for name, marker in _PLACEHOLDERS.items():
        spans[name] = [i for i in range(len(template)) if template.startswith(marker, i)]
        for at in spans[name]:
            if taken[at : at + len(marker)].any():
                raise RuntimeError(f"placeholder {name} overlaps another in the template")
            taken[at : at + len(marker)] = True
        if not spans[name]:
            raise RuntimeError(f"placeholder {name} not found in the template")
    return spans


@dataclass
class _Studies:
    """Per study: patient number, study number, first slice, slice count."""

    patient: np.ndarray
    first: np.ndarray
    count: np.ndarray
    image_ids: np.ndarray = field(repr=False)


def _plan(n_images: int, seed: int) -> _Studies:
    rng = np.random.default_rng(seed)
    n_studies = max(1, math.ceil(n_images / SLICES_PER_STUDY))
    count = np.full(n_studies, n_images // n_studies)
    count[: n_images - int(count.sum())] += 1
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    n_patients = max(1, round(n_studies / (1 + TWO_STUDY_PATIENTS)))
    patient = np.concatenate([np.arange(n_patients), rng.integers(0, n_patients, n_studies)])
    ids = np.asarray([f"ID_{x:09x}" for x in rng.choice(16**9, n_images, replace=False)])
    return _Studies(patient[:n_studies], first, count, ids)


def _patch(data: bytearray, spans: dict[str, list[int]], values: dict[str, bytes]) -> None:
    """Write each value over every span of its placeholder (a value fills its placeholder)."""
    for name, value in values.items():
        for at in spans[name]:
            data[at : at + len(value)] = value


def _write_studies(
    root: Path, template: bytes, spans: dict[str, list[int]], studies: list[tuple]
) -> None:
    """Every slice of ``studies`` ((study, patient, image ids) each), from the template."""
    out = root / "stage_2_train"
    data = bytearray(template)
    for study, patient, image_ids in studies:
        values = {
            "patient": f"ID_{patient:09x}".encode(),
            "study": f"{_UID_ROOT}1.{_UID_BASE + study}".encode(),
            "series": f"{_UID_ROOT}2.{_UID_BASE + study}".encode(),
        }
        _patch(data, spans, values)
        for number, image_id in enumerate(image_ids, start=1):
            slice_values = {
                "instance": f"{_UID_ROOT}3.{_UID_BASE + int(image_id[3:], 16)}".encode(),
                "number": f"{number:04d}".encode(),
                "z": f"{5.0 * number:+09.3f}".encode(),
            }
            _patch(data, spans, slice_values)
            (out / f"{image_id}.dcm").write_bytes(data)


def write_layout(root: Path, n_images: int, seed: int = 0, workers: int = 2) -> None:
    """An rsna-ich layout of ``n_images`` slices with tiny pixels (see the module docstring)."""
    plan = _plan(n_images, seed)
    (root / "stage_2_train").mkdir(parents=True)
    template = _template()
    spans = _spans(template)
    studies = [
        (s, int(plan.patient[s]), plan.image_ids[plan.first[s] : plan.first[s] + plan.count[s]])
        for s in range(len(plan.first))
    ]
    chunks = [studies[i : i + 200] for i in range(0, len(studies), 200)]
    with ProcessPoolExecutor(workers) as pool:
        write = functools.partial(_write_studies, root, template, spans)
        list(pool.map(write, chunks))
    _write_labels(root, plan, seed)
    _verify(root, plan)


def _verify(root: Path, plan: _Studies) -> None:
    """The last study's files, read by pydicom with warnings as errors, say what was written."""
    last = len(plan.first) - 1
    image_ids = plan.image_ids[plan.first[last] : plan.first[last] + plan.count[last]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for number, image_id in enumerate(image_ids, start=1):
            dataset = pydicom.dcmread(root / "stage_2_train" / f"{image_id}.dcm")
            assert dataset.PatientID == f"ID_{int(plan.patient[last]):09x}"
            assert dataset.StudyInstanceUID == f"{_UID_ROOT}1.{_UID_BASE + last}"
            assert (dataset.InstanceNumber, float(dataset.ImagePositionPatient[2])) == (
                number,
                5.0 * number,
            )
            assert dataset.pixel_array.shape == (2, 2)


def _write_labels(root: Path, plan: _Studies, seed: int) -> None:
    from tasks.rsna_ich.layout import SUBTYPES

    rng = np.random.default_rng(seed + 1)
    bleeding = np.repeat(rng.random(len(plan.first)) < 0.4, plan.count)
    labels = (rng.random((len(plan.image_ids), 5)) < 0.15) & bleeding[:, None]
    grid = np.concatenate([labels, labels.any(axis=1, keepdims=True)], axis=1).astype(np.int8)
    ids = pd.Series(np.repeat(plan.image_ids, len(SUBTYPES)), dtype="string[pyarrow]")
    subtypes = pd.Series(np.tile(np.asarray(SUBTYPES), len(plan.image_ids)), dtype="string")
    frame = pd.DataFrame({"ID": ids + "_" + subtypes.to_numpy(), "Label": grid.reshape(-1)})
    frame.to_csv(root / "stage_2_train.csv", index=False)


# ---- the steps, each run in a fresh process ------------------------------------------------


def _step_old_headers(root: Path) -> dict[str, float]:
    from harness.kit.imaging.ct import slice_geometry
    from harness.kit.imaging.dicom import read_header

    paths = sorted((root / "stage_2_train").iterdir())[:OLD_PASS_FILES]

    def old_row(path: Path) -> float:
        return slice_geometry(read_header(path, require_pixels=True)).position

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(old_row, paths))
    seconds = time.perf_counter() - started
    return {"files": len(paths), "s": seconds}


def _step_load(root: Path) -> dict[str, float]:
    from tasks.rsna_ich.layout import read_train_table

    started = time.perf_counter()
    table = read_train_table(root)
    return {"rows": len(table), "s": time.perf_counter() - started}


def _step_run(root: Path, results: Path, seed: int) -> dict[str, float]:
    from overhead_table import register_fake_solutions

    from harness.engine.config import parse_run_overrides
    from harness.engine.observe import LineObserver
    from harness.engine.runner import execute

    register_fake_solutions(results.parent / f"site-{os.getpid()}")

    class FirstPhase(LineObserver):
        started: float | None = None

        def phase_started(self, meter):  # type: ignore[no-untyped-def]
            if FirstPhase.started is None:
                FirstPhase.started = time.perf_counter()
            super().phase_started(meter)

    cfg, budget, args = parse_run_overrides(
        [
            "task=rsna-ich",
            "solution=constant",
            "budget=smoke",
            f"seed={seed}",
            f"results_dir={results}",
            f"data.root={root}",
        ]
    )
    started = time.perf_counter()
    record = execute(cfg, budget, args, progress=FirstPhase(lambda line: None))
    wall = time.perf_counter() - started
    if record.status != "ok":
        raise RuntimeError(f"run {record.run_id} ended {record.status}: {record.error}")
    assert FirstPhase.started is not None
    return {"startup_s": FirstPhase.started - started, "s": wall, "run_dir": record.run_dir}


def _step_report(results: Path) -> dict[str, float]:
    from harness.engine.report import build_report
    from harness.engine.tracking import default_tracking_uri

    started = time.perf_counter()
    build_report(default_tracking_uri(results), results / "report")
    return {"s": time.perf_counter() - started}


STEPS = {"old-headers": _step_old_headers, "load": _step_load}


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    output: dict = field(default_factory=dict)


def measure(command: Sequence[str], env: dict[str, str]) -> Measured:
    """Run ``command``; wall seconds, peak RSS (of it and its waited-for children), and the
    JSON it printed last (when it did)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0,):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{out[-2000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    output = json.loads(lines[-1]) if lines else {}
    return Measured(seconds, usage.ru_maxrss / 1024, output)


def _self(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def measure_size(n_images: int, work: Path, runs: int) -> dict[str, Measured]:
    """Every step on a layout of ``n_images`` slices under ``work``."""
    root = work / f"rsna-ich-{n_images}"
    results = work / f"results-{n_images}"
    env = {
        **os.environ,
        "HARNESS_INDEX_DIR": str(work / f"index-{n_images}"),
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    found: dict[str, Measured] = {}
    if not (root / "stage_2_train.csv").is_file():
        # In a child too: the orchestrator stays small, and a child's peak RSS (which the OS
        # counts from its fork) is not the orchestrator's.
        found["write the layout"] = measure(_self("--step", "write", str(root), str(n_images)), env)
    shutil.rmtree(env["HARNESS_INDEX_DIR"], ignore_errors=True)
    shutil.rmtree(results, ignore_errors=True)
    found["old header pass"] = measure(_self("--step", "old-headers", str(root)), env)
    found["first load (index built)"] = measure(_self("--step", "load", str(root)), env)
    found["second load (index reused)"] = measure(_self("--step", "load", str(root)), env)
    made = [
        measure(_self("--step", "run", str(root), str(results), str(s)), env) for s in range(runs)
    ]
    found["run start-up"] = Measured(
        float(np.median([m.output["startup_s"] for m in made])),
        max(m.peak_rss_mb for m in made),
    )
    found["run, no-op solution (total)"] = Measured(
        float(np.median([m.output["s"] for m in made])), max(m.peak_rss_mb for m in made)
    )
    check = ["data", "check", "task=rsna-ich", f"root={root}"]
    found["data check decode=false"] = measure(_harness(*check, "decode=false"), env)
    found[f"data check decode=true sample={DECODE_SAMPLE}"] = measure(
        _harness(*check, "decode=true", f"sample={DECODE_SAMPLE}"), env
    )
    answers = work / f"answers-{n_images}.csv"
    found["answers file"] = measure(
        _harness("data", "answers", "task=rsna-ich", f"out={answers}", f"data.root={root}"), env
    )
    submission = Path(made[0].output["run_dir"]) / "submission.csv"
    found["score bootstrap=1000"] = measure(
        _harness(
            "score",
            "task=rsna-ich",
            f"submission={submission}",
            f"answers={answers}",
            "bootstrap=1000",
        ),
        env,
    )
    found[f"report of {runs} runs"] = measure(_self("--step", "report", str(results)), env)
    found["old header pass"].output["files_per_s"] = (
        found["old header pass"].output["files"] / found["old header pass"].output["s"]
    )
    return found


def tables(sizes: dict[int, dict[str, Measured]]) -> str:
    """The seconds and the peak RSS of each step at each size, as Markdown."""
    counts = sorted(sizes)
    heads = " | ".join(f"{n:,} slices" for n in counts)
    growth = len(counts) > 1
    lines = [f"| step | {heads} |" + (" growth |" if growth else "")]
    lines.append("| --- |" + " ---: |" * (len(counts) + growth))
    for step in sizes[counts[-1]]:
        cells = " | ".join(_seconds(sizes[n][step]) if step in sizes[n] else "-" for n in counts)
        row = f"| {step} | {cells} |"
        if growth and all(step in sizes[n] for n in counts[-2:]):
            a, b = (_seconds_of(sizes[n][step]) for n in counts[-2:])
            row += f" {(b / a) / (counts[-1] / counts[-2]):.2f} |"
        elif growth:
            row += " - |"
        lines.append(row)
    old = [sizes[n]["old header pass"].output["files_per_s"] for n in counts]
    new = [n / sizes[n]["first load (index built)"].output["s"] for n in counts]
    lines += [
        "",
        "| files/s | " + heads + " |",
        "| --- |" + " ---: |" * len(counts),
        "| old header pass | " + " | ".join(f"{v:,.0f}" for v in old) + " |",
        "| first load (csv + index) | " + " | ".join(f"{v:,.0f}" for v in new) + " |",
        "| speed-up | " + " | ".join(f"{b / a:.1f}x" for a, b in zip(old, new, strict=True)) + " |",
        "",
        "| peak RSS (MB) | " + heads + " |",
        "| --- |" + " ---: |" * len(counts),
    ]
    for step in sizes[counts[-1]]:
        if sizes[counts[-1]][step].peak_rss_mb:
            cells = " | ".join(
                f"{sizes[n][step].peak_rss_mb:,.0f}" if step in sizes[n] else "-" for n in counts
            )
            lines.append(f"| {step} | {cells} |")
    return "\n".join(lines)


def _seconds_of(measured: Measured) -> float:
    """What the step timed itself where it did (no interpreter start-up), else its wall time."""
    inner = measured.output.get("s")
    return measured.seconds if inner is None else float(inner)


def _seconds(measured: Measured) -> str:
    return f"{_seconds_of(measured):.2f}"


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.1, 0.3, 1.0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        name, *rest = args.step
        if name == "write":
            started = time.perf_counter()
            write_layout(Path(rest[0]), int(rest[1]))
            result = {"s": time.perf_counter() - started}
        elif name == "run":
            result = _step_run(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif name == "report":
            result = _step_report(Path(rest[0]))
        else:
            result = STEPS[name](Path(rest[0]))
        print(json.dumps(result))
        return ""
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        work = args.work or Path(tmp)
        sizes = {}
        for fraction in sorted(args.fractions):
            n_images = max(SLICES_PER_STUDY * 2, round(KAGGLE_SLICES * fraction))
            sizes[n_images] = measure_size(n_images, work, args.runs)
            print(f"{n_images:,} slices done", file=sys.stderr, flush=True)
        table = tables(sizes)
    print(table)
    return table


if __name__ == "__main__":
    main()
