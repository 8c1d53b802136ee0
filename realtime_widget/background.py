"""Tasks that run in the background of an owner (a session engine, a call, the kernel's tool runner): each is
referenced until it ends (asyncio keeps only weak references), a failure is logged instead of lost, and the owner
can cancel them all when it closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class BackgroundTasks:
    """The background tasks of one owner; ``what`` names the owner in the log when a task fails."""

    def __init__(self, what: str, log: logging.Logger) -> None:
        self._what = what
        self._log = log
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Runs ``coro`` on the running event loop as a task of this owner."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def cancel_all(self) -> None:
        """Cancels every task but the one calling (an owner may close itself from one of its tasks), and waits."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Waits until no task is left (tasks may start others meanwhile)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s: a background task failed", self._what, exc_info=task.exception())
