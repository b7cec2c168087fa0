import os
from pathlib import Path

import numpy as np

from harness.kit.imaging.cache import ArrayCache


def test_second_get_is_a_hit_and_changed_content_is_a_miss(tmp_path: Path) -> None:
    source = tmp_path / "a.dcm"
    source.write_bytes(b"first")
    calls: list[Path] = []

    def compute(path: Path) -> np.ndarray:
        calls.append(path)
        return np.frombuffer(path.read_bytes(), dtype=np.uint8).copy()

    cache = ArrayCache(tmp_path / "cache", {"size": 64})
    first = cache.get(source, compute)
    again = cache.get(source, compute)
    assert np.array_equal(first, again) and len(calls) == 1
    assert (cache.hits, cache.misses) == (1, 1)

    source.write_bytes(b"second")
    assert bytes(cache.get(source, compute)) == b"second"
    assert len(calls) == 2


def test_same_content_elsewhere_hits_and_other_params_miss(tmp_path: Path) -> None:
    (tmp_path / "a.dcm").write_bytes(b"pixels")
    (tmp_path / "copy.dcm").write_bytes(b"pixels")
    cache = ArrayCache(tmp_path / "cache", {"size": 64})
    cache.get(tmp_path / "a.dcm", lambda p: np.zeros(3))
    cache.get(tmp_path / "copy.dcm", lambda p: np.ones(3))
    assert cache.hits == 1

    other = ArrayCache(tmp_path / "cache", {"size": 128})
    assert np.array_equal(other.get(tmp_path / "a.dcm", lambda p: np.ones(3)), np.ones(3))
    assert other.misses == 1
    assert not list((tmp_path / "cache").rglob("*.partial"))


def test_load_cached_images_names_an_unreadable_dicom_and_keeps_the_rest(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    from harness.kit.imaging.cache import load_cached_images

    files = sorted((tiny_breast_root / "train_images").rglob("*.dcm"))[:4]
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(files[0].read_bytes()[:200])
    paths = [files[0], broken, files[1]]
    cache = ArrayCache(tmp_path / "cache", {"v": 1})

    def mean_of(path: Path) -> np.ndarray:
        from harness.kit.imaging.dicom import read_dicom

        return np.array([read_dicom(path).pixels.mean()])

    loaded = load_cached_images(paths, cache, mean_of, (1,), np.float64)
    assert loaded.ok.tolist() == [True, False, True]
    assert loaded.unreadable == [str(broken)]
    assert loaded.images[1, 0] == 0.0 and loaded.images[0, 0] > 0


def test_unchanged_files_are_hashed_once_across_runs(tmp_path: Path) -> None:
    source = tmp_path / "a.dcm"
    source.write_bytes(b"pixels")
    first_run = ArrayCache(tmp_path / "cache", {"size": 64})
    first_run.get(source, lambda p: np.zeros(3))
    assert first_run.digests.computed == 1

    second_run = ArrayCache(tmp_path / "cache", {"size": 128})
    second_run.get(source, lambda p: np.zeros(3))
    assert second_run.digests.computed == 0

    # Same bytes rewritten (new modification time): hashed again, and still a content hit.
    source.write_bytes(b"pixels")
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    third_run = ArrayCache(tmp_path / "cache", {"size": 64})
    assert np.array_equal(third_run.get(source, lambda p: np.ones(3)), np.zeros(3))
    assert (third_run.digests.computed, third_run.hits) == (1, 1)


def test_a_changed_file_is_never_served_from_its_old_digest(tmp_path: Path) -> None:
    source = tmp_path / "a.dcm"
    source.write_bytes(b"old")
    cache = ArrayCache(tmp_path / "cache", {"v": 1})
    cache.get(source, lambda p: np.frombuffer(p.read_bytes(), dtype=np.uint8).copy())
    source.write_bytes(b"newer")
    again = cache.get(source, lambda p: np.frombuffer(p.read_bytes(), dtype=np.uint8).copy())
    assert bytes(again) == b"newer"
