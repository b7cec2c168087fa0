"""NVML access (nvidia-ml-py) that degrades to "no GPU" where no driver is present."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

try:
    import pynvml
except ImportError:  # nvidia-ml-py is a dependency, but a stripped install still runs on CPU
    pynvml = None

_initialised: bool | None = None


def nvml_available() -> bool:
    """True once NVML initialised; False for good on a machine without an NVIDIA driver."""
    global _initialised
    if _initialised is None:
        _initialised = False
        if pynvml is not None:
            try:
                pynvml.nvmlInit()
                _initialised = True
            except pynvml.NVMLError as exc:
                log.debug("NVML unavailable: %s", exc)
    return _initialised


def device_names() -> list[str]:
    if not nvml_available():
        return []
    return [
        str(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i)))
        for i in range(pynvml.nvmlDeviceGetCount())
    ]


@dataclass(frozen=True)
class GpuSample:
    utilisation_pct: float
    memory_used_gb: float


def sample(indices: list[int]) -> list[GpuSample]:
    """Utilisation and used memory of the given devices right now (empty without NVML)."""
    if not nvml_available():
        return []
    samples = []
    for i in indices:
        handle = pynvml.nvmlDeviceGetHandleByIndex(i)
        util = pynvml.nvmlDeviceGetUtilizationRates(handle)
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        samples.append(GpuSample(float(util.gpu), mem.used / 2**30))
    return samples
