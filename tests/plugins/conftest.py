"""Real pip installs of plug-in packages into a temporary folder put on sys.path.

The package is installed by pip from its folder (copied first, so that the build leaves nothing
in the source tree), with its real ``*.dist-info`` metadata and entry points: the registry
finds it exactly as it finds a package a user installed. Spawned run processes inherit
sys.path. Nothing is installed into the project's environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PipInstall = Callable[[Path], Path]


@pytest.fixture
def pip_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PipInstall:
    """``pip_install(package_folder)``: the folder it was installed into, already on sys.path."""

    def install(package: Path) -> Path:
        source = tmp_path / "src" / package.name
        shutil.copytree(package, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        target = tmp_path / f"site-{package.name}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-index",
                "--no-build-isolation",
                "--target",
                str(target),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        monkeypatch.syspath_prepend(str(target))
        return target

    return install
