"""The pytest helper: ``assert_passed(results)`` fails a test with every failure and the transcript it looked at.

``assert results.passed`` does the same through pytest's own assertion message (the verdict's repr lists the
failures); this function is for code that is not rewritten by pytest (a helper module, a script).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime_widget.evals.results import Results

__all__ = ["assert_passed"]


def assert_passed(results: Results) -> None:
    """Raise ``AssertionError`` listing each failed expectation (variant, case, repeat, step, what happened and
    the transcript excerpt) unless every run passed."""
    verdict = results.passed
    if not verdict:
        raise AssertionError(repr(verdict))
