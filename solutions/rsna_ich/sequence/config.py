"""Options of the sequence solution and their presets per budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RNN_KINDS: tuple[str, ...] = ("lstm", "gru")
TEST_EMBEDDINGS: tuple[str, ...] = ("per_fold", "mean")


@dataclass
class SequenceConfig:
    """Defaults are the CPU sizes; the GPU presets follow the 2nd-place write-up."""

    # Stage 1: a CNN per slice, one per fold.
    model: str = "test_resnet"
    """timm model of stage 1 (the write-up: resnext101_32x8d with WSL weights). timm's tiny
    test_resnet learns the synthetic data from scratch in a minute; resnet10t at 64 px,
    5-6 epochs per fold, scored 0.175 on cpu-default against test_resnet's 0.12."""
    pretrained: bool = False
    pretrained_path: str | None = None
    """Local checkpoint of ``model`` for machines without access to the model hub."""
    image_size: int = 64
    """Slices are resized to image_size x image_size (the write-up: 480)."""
    crop_head: bool = True
    """Crop each slice to the head before resizing: the box of what survives a minimum filter
    (grey erosion) of 1/15 of the image side, which wipes thin head-rest and table lines, as the
    write-up did with scipy.ndimage.minimum_filter."""
    folds: int = 3
    """Patient-grouped folds: one CNN per fold, and the fold that gives each training slice
    its out-of-fold embedding."""
    epochs: int = 20
    """Most CNN epochs per fold; fewer when the fold's share of the fit budget runs out."""
    batch_size: int = 16
    lr: float = 2e-3
    """Adam learning rate of the CNN, cosine-decayed over the fold's epochs."""
    augment: bool = True
    """Horizontal flip and a small shift-scale-rotate while training the CNN."""
    cnn_time_fraction: float = 0.8
    """Share of the fit budget stage 1 may use; stage 2 gets what is left."""

    # Stage 2: a bidirectional RNN over the embeddings of a series, in slice order.
    rnn: str = "lstm"
    """``lstm`` or ``gru``."""
    deltas: bool = False
    """Feed each slice's embedding with its differences to the previous and next slice (the
    write-up's best LSTM input on 2048-wide ImageNet features; on the synthetic data the
    tripled input overfits the few training series of the CPU budgets)."""
    hidden: int = 32
    """Units per direction of each of the two recurrent layers."""
    seq_dropout: float = 0.3
    """Spatial dropout on the embeddings: whole features dropped for a whole series."""
    seq_epochs: int = 40
    seq_batch_size: int = 4
    """Series per step."""
    seq_lr: float = 3e-3
    test_embeddings: str = "mean"
    """How the fold CNNs embed a test slice: ``mean`` averages their embeddings, ``per_fold``
    runs the sequence models on each CNN's embeddings and averages the probabilities. Both
    rely on the fold CNNs sharing one embedding space, which their common initial weights
    give (see stage1.FoldData.init_seed)."""
    use_sequence: bool = True
    """False skips stage 2 and submits the fold-averaged CNN probabilities (stage 1 alone)."""

    num_workers: int = 0
    """DataLoader workers; -1 = the budget's cpu_workers."""
    threads: int = 1
    """torch intra-op threads; 0 keeps the harness's (the budget's cpu_workers). On cores
    shared with other jobs, two threads that wait for each other made the LSTM epochs of a
    cpu-default run 40x slower than one thread."""

    def __post_init__(self) -> None:
        if self.rnn not in RNN_KINDS:
            raise ValueError(f"solution.rnn must be one of {', '.join(RNN_KINDS)}, got {self.rnn}")
        if self.test_embeddings not in TEST_EMBEDDINGS:
            raise ValueError(
                f"solution.test_embeddings must be one of {', '.join(TEST_EMBEDDINGS)}, got "
                f"{self.test_embeddings}"
            )
        if self.folds < 2:
            raise ValueError(f"solution.folds must be at least 2, got {self.folds}")
        if not 0.0 < self.cnn_time_fraction < 1.0:
            raise ValueError(
                f"solution.cnn_time_fraction must lie in (0, 1), got {self.cnn_time_fraction}"
            )


_GPU: dict[str, Any] = {
    "model": "resnext101_32x8d.fb_wsl_ig1b_ft_in1k",
    "pretrained": True,
    "image_size": 480,
    "folds": 3,
    "epochs": 5,
    "batch_size": 32,
    "lr": 1e-4,
    "hidden": 256,
    "deltas": True,
    "seq_epochs": 20,
    "seq_batch_size": 16,
    "seq_lr": 1e-3,
    "num_workers": -1,
    "threads": 0,
}

PRESETS: dict[str, dict[str, Any]] = {
    "contract": {
        "image_size": 32,
        "folds": 2,
        "epochs": 1,
        "batch_size": 16,
        "augment": False,
        "hidden": 8,
        "seq_epochs": 2,
    },
    "smoke": {
        "image_size": 32,
        "folds": 2,
        "epochs": 8,
        "seq_epochs": 30,
    },
    "cpu-default": {"image_size": 64, "folds": 3, "epochs": 20, "seq_epochs": 40},
    # 16 GB and 12 h: a ResNeXt-50 at 384 px should hold about two epochs per fold of the
    # 600k training slices on a P100/T4 (an estimate; the fit budget cuts what does not fit).
    "kaggle-p100": {**_GPU, "model": "resnext50_32x4d", "image_size": 384, "epochs": 2},
    "kaggle-t4": {**_GPU, "model": "resnext50_32x4d", "image_size": 384, "epochs": 2},
    "gpu-full": {**_GPU, "batch_size": 64},
}
