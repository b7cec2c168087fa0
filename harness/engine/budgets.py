"""Named compute budgets.

Each profile mirrors a real limit a Kaggle practitioner meets. Solutions size their work from
``ctx.budget`` (the profile plus the running phase's deadline); the runner enforces the limits.
"""

from __future__ import annotations

from harness.api import Budget, HarnessError
from harness.engine.suggest import did_you_mean

_HOUR = 3600.0

BUDGETS: dict[str, Budget] = {
    b.name: b
    for b in (
        Budget(
            name="smoke",
            description="CPU, a couple of minutes: tests and contract checks",
            device="cpu",
            gpus=0,
            gpu_memory_gb=None,
            cpu_workers=2,
            prepare_s=180,
            fit_s=240,
            predict_s=120,
        ),
        Budget(
            name="cpu-default",
            description="CPU laptop or CI runner, a few minutes end to end",
            device="cpu",
            gpus=0,
            gpu_memory_gb=None,
            cpu_workers=2,
            prepare_s=600,
            fit_s=900,
            predict_s=600,
        ),
        Budget(
            name="kaggle-p100",
            description="Kaggle code competition: 1x P100 16 GB, 9 h inference, 12 h session",
            device="cuda",
            gpus=1,
            gpu_memory_gb=16.0,
            cpu_workers=4,
            prepare_s=12 * _HOUR,
            fit_s=12 * _HOUR,
            predict_s=9 * _HOUR,
        ),
        Budget(
            name="kaggle-t4",
            description="Kaggle code competition on one T4 16 GB, 9 h inference, 12 h session",
            device="cuda",
            gpus=1,
            gpu_memory_gb=16.0,
            cpu_workers=4,
            prepare_s=12 * _HOUR,
            fit_s=12 * _HOUR,
            predict_s=9 * _HOUR,
        ),
        Budget(
            name="gpu-full",
            description="One full data-centre GPU (A100/H100 class), no memory cap, 24 h training",
            device="cuda",
            gpus=1,
            gpu_memory_gb=None,
            cpu_workers=16,
            prepare_s=12 * _HOUR,
            fit_s=24 * _HOUR,
            predict_s=9 * _HOUR,
        ),
    )
}

DEFAULT_BUDGET = "cpu-default"


def get_budget(name: str) -> Budget:
    """The named profile; an unknown name is an error that suggests the nearest one."""
    try:
        return BUDGETS[name]
    except KeyError:
        raise HarnessError(
            f"unknown budget {name!r}{did_you_mean(name, BUDGETS)}; "
            f"budgets are {', '.join(BUDGETS)} (see `harness list`)"
        ) from None
