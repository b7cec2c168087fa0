"""A solution's decoded images of a view: the training view's decoded in ``prepare`` (timed
apart from ``fit``) and handed to ``fit`` once; the unreadable files of every load counted in
the run fact ``unreadable_images``."""

from __future__ import annotations

from collections.abc import Callable

from harness.api import DataView, RunContext
from harness.kit.imaging.cache import CachedImages

UNREADABLE_FACT = "unreadable_images"


class ViewImages:
    """``load(view, ctx)`` with the prepare-to-fit hand-off and the count of unreadable files.

    The fact is recorded once a load meets an unreadable file, with the total so far over all
    phases (train and test loads both count).
    """

    def __init__(self, load: Callable[[DataView, RunContext], CachedImages]) -> None:
        self._load = load
        self._prepared: CachedImages | None = None
        self.unreadable = 0

    def load(self, view: DataView, ctx: RunContext) -> CachedImages:
        loaded = self._load(view, ctx)
        if loaded.unreadable:
            self.unreadable += len(loaded.unreadable)
            ctx.record_fact(UNREADABLE_FACT, self.unreadable)
        return loaded

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        """Decode the training view now, for the next ``for_fit``."""
        self._prepared = self.load(train, ctx)

    def for_fit(self, train: DataView, ctx: RunContext) -> CachedImages:
        """The images ``prepare`` decoded (released here), or ``train``'s decoded now."""
        loaded = self._prepared or self.load(train, ctx)
        self._prepared = None
        return loaded
