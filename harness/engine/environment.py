"""Provenance of a run: git sha, library versions, hardware."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from harness.engine import gpu

TRACKED_LIBRARIES = (
    "medbench-harness",
    "torch",
    "torchvision",
    "timm",
    "segmentation-models-pytorch",
    "nvidia-dali-cuda120",
    "pydicom",
    "pylibjpeg-openjpeg",
    "opencv-python-headless",
    "numpy",
    "pandas",
    "scikit-learn",
    "mlflow",
)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def git_sha(path: Path = _PROJECT_ROOT) -> str:
    """HEAD's sha of the project checkout, suffixed ``-dirty`` with uncommitted changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def library_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def hardware() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_cores": os.cpu_count() or 0,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpus": gpu.device_names(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
