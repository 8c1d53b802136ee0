"""The progress of a run: tqdm's bar when tqdm is installed, else one line of text rewritten in place."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """Counts finished runs (and failures) out of ``total``; ``enabled=False`` shows nothing."""

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm  # noqa: PLC0415  # optional: a plain line stands in without it
            except ImportError:
                self._write()
            else:
                self._bar = tqdm(total=total, desc="evals", unit="run", file=self._stream)

    def advance(self, passed: bool) -> None:
        """One more run finished."""
        self.done += 1
        self.failed += 0 if passed else 1
        if self._bar is not None:
            self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
        elif self._enabled:
            self._write()

    def close(self) -> None:
        """The run is over: end the bar or the line."""
        if self._bar is not None:
            self._bar.close()
        elif self._enabled:
            self._stream.write("\n")
            self._stream.flush()

    def line(self) -> str:
        """The text form: ``evals: 3/10 runs done, 1 failed``."""
        failed = f", {self.failed} failed" if self.failed else ""
        return f"evals: {self.done}/{self.total} runs done{failed}"

    def _write(self) -> None:
        self._stream.write("\r" + self.line())
        self._stream.flush()
