"""Replaying a recorded session in the notebook: :class:`ReplayView` (made by ``SessionRecord.replay()``).

Split by job: ``peaks`` (min/max per pixel column, from numpy), ``marks`` (what the time axis marks, from the
record's views), ``view`` (the anywidget and its commands).
"""

from realtime_widget.replay.view import ReplayView

__all__ = ["ReplayView"]
