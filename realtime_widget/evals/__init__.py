"""Evals a notebook can run: scripted spoken conversations, run headless across variants, scored and compared.

>>> from realtime_widget import evals
>>> case = evals.Case("weather", [evals.Say("What is the weather in Paris?"),
...                               evals.expect.tool_called("get_weather", {"city": "Paris"}, match="subset"),
...                               evals.expect.said("Paris")])
>>> results = await evals.run([case], variants={"terse": {"instructions": "Be brief."}}, tools=[get_weather])
>>> results.table; results.compare(); results.plot()

Cases are written in Python or loaded from YAML/JSON (:func:`load_cases`); ``python -m realtime_widget.evals``
runs them from a shell and exits non-zero when one fails.
"""

from __future__ import annotations

from realtime_widget.evals.assertions import assert_passed
from realtime_widget.evals.cases import Case, Failure, check
from realtime_widget.evals.expectations import (
    AnsweredBy,
    CostUnder,
    Expectation,
    Interrupted,
    LatencyWithin,
    NoError,
    Said,
    ToolCalled,
    expect,
)
from realtime_widget.evals.loading import CaseFileError, load_cases, load_variants
from realtime_widget.evals.results import Results, load
from realtime_widget.evals.runner import run, run_sync
from realtime_widget.evals.steps import Image, Say, Silence, Typed

__all__ = [
    "AnsweredBy",
    "Case",
    "CaseFileError",
    "CostUnder",
    "Expectation",
    "Failure",
    "Image",
    "Interrupted",
    "LatencyWithin",
    "NoError",
    "Results",
    "Said",
    "Say",
    "Silence",
    "ToolCalled",
    "Typed",
    "assert_passed",
    "check",
    "expect",
    "load",
    "load_cases",
    "load_variants",
    "run",
    "run_sync",
]
