"""What a run changed on disk: a snapshot of a folder before and after, and their difference."""

from __future__ import annotations

import contextlib
from pathlib import Path, PurePath

Snapshot = dict[PurePath, tuple[int, int] | None]
"""Every file (size, mtime) and folder (None) under a folder, by relative path."""


def snapshot(folder: Path) -> Snapshot:
    entries: Snapshot = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        with contextlib.suppress(FileNotFoundError):  # removed while walking
            if path.is_dir():
                entries[relative] = None
            else:
                stat = path.stat()
                entries[relative] = (stat.st_size, stat.st_mtime_ns)
    return entries


def changes(before: Snapshot, after: Snapshot, allowed: list[PurePath]) -> list[str]:
    """What was added, changed or removed outside ``allowed`` (and the folders leading there)."""

    def permitted(path: PurePath) -> bool:
        return any(path == a or a in path.parents or path in a.parents for a in allowed)

    found = []
    for path in sorted(before.keys() | after.keys()):
        if permitted(path) or before.get(path) == after.get(path):
            continue
        if path not in before:
            found.append(f"added {path}")
        elif path not in after:
            found.append(f"removed {path}")
        else:
            found.append(f"changed {path}")
    return found
