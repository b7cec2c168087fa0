"""Mixed-precision settings that suit the card: bf16 where supported, fp16 + loss scaling on
older GPUs (P100, T4: the Kaggle budgets), full precision on CPU."""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
