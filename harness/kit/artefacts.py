"""A solution's state as one file in the run's artefacts folder: the default ``Solution.save``
and ``Solution.load``.

The instance's attributes, except ``config`` (the fresh instance is built from it), go through
``torch.save`` (tensors restored onto the run's device with ``map_location``) where the
solution has imported torch, else through pickle: importing torch only to save would cost a
second or more of fit's time. Both pickle: torch modules, tensors, numpy arrays,
sklearn estimators and plain values all survive; lambdas, open files and pipelines do not.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

TORCH_FILE = "solution.pt"
PICKLE_FILE = "solution.pkl"
REBUILT = ("config",)
"""Attributes the fresh instance already has from its constructor."""


def saved_state(solution: Any) -> dict[str, Any]:
    """The attributes that ``save_attributes`` writes."""
    return {name: value for name, value in vars(solution).items() if name not in REBUILT}


def save_attributes(solution: Any, folder: Path) -> Path:
    """Write ``solution``'s attributes (but ``config``) to one file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    state = saved_state(solution)
    if "torch" not in sys.modules:
        path = folder / PICKLE_FILE
        with path.open("wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return path
    import torch

    path = folder / TORCH_FILE
    torch.save(state, path)
    return path


def load_attributes(solution: Any, folder: Path, device: str) -> None:
    """Set on ``solution`` the attributes ``save_attributes`` wrote to ``folder``.

    ``weights_only=False`` unpickles arbitrary objects, which is unsafe for a file from
    elsewhere; this one was written by the same run's fit process, from the same code.
    """
    torch_file, pickle_file = folder / TORCH_FILE, folder / PICKLE_FILE
    if torch_file.is_file():
        import torch

        state = torch.load(torch_file, map_location=device, weights_only=False)
    elif pickle_file.is_file():
        with pickle_file.open("rb") as fh:
            state = pickle.load(fh)
    else:
        raise FileNotFoundError(
            f"no saved solution in {folder} ({TORCH_FILE} or {PICKLE_FILE}): "
            "the fit process's save() wrote nothing there"
        )
    for name, value in state.items():
        setattr(solution, name, value)
