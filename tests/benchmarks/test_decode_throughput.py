"""JPEG 2000 lossless decode throughput: pydicom (one thread) against DicomDecoder (DALI).

Not part of the default run: ``pytest tests/benchmarks -m benchmark`` (add ``or gpu`` to time
the GPU too). ``tests/benchmarks/decode_table.py`` prints the same comparison as a table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.kit.imaging.dali_decode import DicomDecoder
from harness.kit.imaging.dicom import DicomImage, read_dicom
from tests.benchmarks.decode_table import write_mammograms

N_IMAGES, HEIGHT, WIDTH = 8, 2048, 1024
BATCH_SIZE, THREADS, ROUNDS = 8, 2, 3

pytestmark = pytest.mark.benchmark(group=f"decode {N_IMAGES} J2K {HEIGHT}x{WIDTH}")


@pytest.fixture(scope="module")
def j2k_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_mammograms(tmp_path_factory.mktemp("j2k"), N_IMAGES, HEIGHT, WIDTH)


def test_pydicom_decode(benchmark, j2k_files: list[Path]) -> None:
    benchmark.extra_info.update(images=len(j2k_files), threads=1)

    images = benchmark.pedantic(
        lambda: [read_dicom(path) for path in j2k_files], rounds=ROUNDS, warmup_rounds=1
    )

    assert len(images) == N_IMAGES


@pytest.mark.parametrize("device", ["cpu", pytest.param("mixed", marks=pytest.mark.gpu)])
def test_dali_decode(benchmark, j2k_files: list[Path], device: str) -> None:
    if device == "mixed" and not pytest.importorskip("torch").cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    pytest.importorskip("nvidia.dali")
    benchmark.extra_info.update(images=len(j2k_files), batch_size=BATCH_SIZE, threads=THREADS)

    with DicomDecoder(device, batch_size=BATCH_SIZE, num_threads=THREADS) as decoder:
        results = benchmark.pedantic(
            lambda: [result for _, result in decoder.decode(j2k_files)],
            rounds=ROUNDS,
            warmup_rounds=1,
        )

    assert all(isinstance(result, DicomImage) for result in results)
    assert decoder.stats.dali == (ROUNDS + 1) * N_IMAGES
