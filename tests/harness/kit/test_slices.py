from pathlib import Path

import numpy as np
import torch

from harness.kit.amp import on_device
from harness.kit.slices import SliceDataset, training_batches


def _dataset(folder: Path, n: int) -> SliceDataset:
    files = []
    for i in range(n):
        files.append(folder / f"{i}.npy")
        np.save(files[-1], np.full((1, 4, 4), i, dtype=np.uint8))
    return SliceDataset(files, np.arange(n, dtype=np.float32)[:, None])


def test_training_batches_drop_a_partial_last_batch_unless_it_is_the_only_one(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    batches = list(training_batches(_dataset(tmp_path, 10), batch_size=4, workers=0))
    assert [len(labels) for _, labels in batches] == [4, 4]
    seen = torch.cat([labels for _, labels in batches]).ravel().tolist()
    assert len(set(seen)) == 8 and seen != sorted(seen)  # shuffled, no slice twice

    (tmp_path / "small").mkdir()
    (only,) = training_batches(_dataset(tmp_path / "small", 3), batch_size=4, workers=0)
    assert len(only[1]) == 3


def test_on_device_keeps_a_cpu_model_in_its_usual_layout() -> None:
    model = torch.nn.Conv2d(1, 2, 3)
    placed = on_device(model, torch.device("cpu"))
    assert placed is model and placed.weight.is_contiguous()
