"""Named compute budgets.

Each profile mirrors a real limit a Kaggle practitioner meets. Solutions size their work from
``ctx.budget`` (the profile plus the running phase's deadline); the runner enforces the limits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from harness.api import Budget, HarnessError
from harness.engine.suggest import did_you_mean

_HOUR = 3600.0


def _cpu_profile(
    name: str,
    description: str,
    *,
    prepare_s: float,
    fit_s: float,
    predict_s: float,
    cpu_workers: int = 2,
) -> Budget:
    """A CPU-only profile (a laptop, a CI runner: two workers)."""
    return Budget(
        name=name,
        description=description,
        device="cpu",
        gpus=0,
        gpu_memory_gb=None,
        cpu_workers=cpu_workers,
        prepare_s=prepare_s,
        fit_s=fit_s,
        predict_s=predict_s,
    )


def _one_gpu_profile(
    name: str, description: str, *, gpu_memory_gb: float | None, cpu_workers: int, fit_s: float
) -> Budget:
    """The host's CPU workers plus one CUDA GPU, with Kaggle's session limits: 12 h to
    prepare, 9 h of inference, predicting as its code competitions do (a fresh process that
    loads what fit saved, no network)."""
    host = _cpu_profile(
        name,
        description,
        cpu_workers=cpu_workers,
        prepare_s=12 * _HOUR,
        fit_s=fit_s,
        predict_s=9 * _HOUR,
    )
    return dataclasses.replace(
        host, device="cuda", gpus=1, gpu_memory_gb=gpu_memory_gb, fresh_predict=True
    )


_KAGGLE_P100 = _one_gpu_profile(
    "kaggle-p100",
    "Kaggle code competition: 1x P100 16 GB, 9 h inference, 12 h session",
    gpu_memory_gb=16.0,
    cpu_workers=4,
    fit_s=12 * _HOUR,
)

BUDGETS: Mapping[str, Budget] = MappingProxyType(
    {
        b.name: b
        for b in (
            _cpu_profile(
                "smoke",
                "CPU, a couple of minutes: tests and contract checks",
                prepare_s=180,
                fit_s=240,
                predict_s=120,
            ),
            _cpu_profile(
                "cpu-default",
                "CPU laptop or CI runner, a few minutes end to end",
                prepare_s=600,
                fit_s=900,
                predict_s=600,
            ),
            _KAGGLE_P100,
            dataclasses.replace(
                _KAGGLE_P100,
                name="kaggle-t4",
                description="Kaggle code competition on one T4 16 GB, 9 h inference, 12 h session",
            ),
            _one_gpu_profile(
                "gpu-full",
                "One full data-centre GPU (A100/H100 class), no memory cap, 24 h training",
                gpu_memory_gb=None,
                cpu_workers=16,
                fit_s=24 * _HOUR,
            ),
        )
    }
)
"""The built-in profiles, read-only: a test or the contract suite that needs other limits
builds its own Budget and passes it (or a table holding it) by argument."""

DEFAULT_BUDGET = "cpu-default"


def get_budget(name: str, budgets: Mapping[str, Budget] = BUDGETS) -> Budget:
    """The profile ``name`` of ``budgets``; an unknown name is an error naming the nearest one.

    The one place a budget name becomes a Budget (the command line's and a sweep's, through
    ``parse_run_overrides``); the runner, the sweep executors and the contract suite take the
    Budget itself.
    """
    try:
        return budgets[name]
    except KeyError:
        raise HarnessError(
            f"unknown budget {name!r}{did_you_mean(name, budgets)}; "
            f"budgets are {', '.join(budgets)} (see `harness list`)"
        ) from None
