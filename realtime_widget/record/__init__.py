"""The record of a realtime session, and its DataFrame views.

Split by job: ``store`` (compact append-only columns), ``schema`` (every view's columns and dtypes), ``derive``
(transcript, turns and usage from the events), ``pricing`` (token prices and cost), ``summary`` (human summary),
``persist`` (save, load, many sessions), ``session`` (the :class:`SessionRecord` that ties them together).
"""

from realtime_widget.record.derive import utterance
from realtime_widget.record.persist import SessionLoadError, SessionSet, load_sessions
from realtime_widget.record.pricing import DEFAULT_PRICES, PRICES_AS_OF, ModelPrices
from realtime_widget.record.session import AppendListener, SessionRecord

__all__ = [
    "DEFAULT_PRICES",
    "PRICES_AS_OF",
    "AppendListener",
    "ModelPrices",
    "SessionLoadError",
    "SessionRecord",
    "SessionSet",
    "load_sessions",
    "utterance",
]
