"""Mixed-precision settings that suit the card: bf16 where supported, fp16 + loss scaling on
older GPUs (P100, T4: the Kaggle budgets), full precision on CPU; a model placed to match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import torch

M = TypeVar("M", bound=torch.nn.Module)


@dataclass(frozen=True)
class Precision:
    enabled: bool
    dtype: torch.dtype

    @classmethod
    def for_device(cls, device: torch.device) -> Precision:
        if device.type != "cuda":
            return cls(False, torch.float32)
        return cls(True, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)

    def autocast(self, device: torch.device) -> torch.autocast:
        return torch.autocast(device.type, dtype=self.dtype, enabled=self.enabled)

    def scaler(self, device: torch.device) -> torch.amp.GradScaler:
        """Loss scaling, needed (and enabled) only for float16."""
        return torch.amp.GradScaler(device.type, enabled=self.dtype == torch.float16)


def on_device(model: M, device: torch.device) -> M:
    """``model`` moved to ``device``; on CUDA in channels-last memory, the layout that
    convolutions under autocast run fastest in (their inputs should be channels-last too)."""
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model
