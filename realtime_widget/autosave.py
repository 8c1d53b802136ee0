"""Saving a widget's record while it runs, so a crashed kernel or browser loses at most the last few seconds.

While connected, the record is saved every few seconds, and once more when the connection ends, each time on a
worker thread (the record is safe to save while the widget appends to it) and atomically (a failed save keeps the
last good one). A failure is logged, recorded in the timeline, and shown in the widget; the next save tries again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .background import BackgroundTasks

if TYPE_CHECKING:
    from .widget import RealtimeWidget

log = logging.getLogger(__name__)


class Autosave:
    """Saves ``widget.record`` under ``folder/<session id>`` every ``every_s`` seconds while connected."""

    def __init__(self, folder: Path, every_s: float) -> None:
        self.folder = folder
        self.every_s = every_s
        self._tasks = BackgroundTasks("autosave", log)
        self._periodic: asyncio.Task[None] | None = None
        self._failing = False

    def follow(self, status: str, widget: RealtimeWidget) -> None:
        """Start saving periodically when ``status`` becomes connected; save once more when the connection ends."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop to save on (a script): save by hand with widget.record.save()
        if status == "connected" and self._periodic is None:
            self._periodic = self._tasks.spawn(self._every(widget))
        elif status in ("closed", "failed"):
            if self._periodic is not None:
                self._periodic.cancel()
                self._periodic = None
            self._tasks.spawn(self.save(widget))

    async def _every(self, widget: RealtimeWidget) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.save(widget)

    async def save(self, widget: RealtimeWidget) -> Path | None:
        """Save now (on a worker thread); returns the folder, or ``None`` when the save failed."""
        target = self.folder / widget.record.session_id
        try:
            await asyncio.to_thread(widget.record.save, target)
        except Exception as exc:
            log.warning("autosave to %s failed: %s", target, exc)
            if not self._failing:  # say it once per run of failures, not every few seconds
                widget.record.add_kernel_timeline("autosave_failed", {"folder": str(target), "error": str(exc)})
                widget.notify("error", f"Autosave to {target} failed ({exc}); the last good save is kept.")
            self._failing = True
            return None
        self._failing = False
        return target
