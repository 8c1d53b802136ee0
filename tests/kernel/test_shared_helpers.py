"""The small helpers every part shares: "did you mean", validation errors in words, background tasks."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import BaseModel, ValidationError

from realtime_widget.background import BackgroundTasks
from realtime_widget.suggest import closest, did_you_mean
from realtime_widget.validation_errors import first_error, what, where


def test_did_you_mean_names_the_closest_known_name_or_says_what_is_known() -> None:
    assert closest("voise", ["voice", "speed"]) == "voice"
    assert did_you_mean("voise", ["voice"]) == "; did you mean 'voice'?"
    assert did_you_mean("zzz", ["voice"], otherwise="; known: voice") == "; known: voice"


class _Inner(BaseModel):
    threshold: float


class _Outer(BaseModel):
    turn: _Inner | None


def test_validation_errors_read_as_a_path_and_plain_words() -> None:
    with pytest.raises(ValidationError) as raised:
        _Outer.model_validate({"turn": {}})
    error = first_error(raised.value)
    assert where(error) == "turn.threshold"
    assert what(error) == "required but missing"


def test_background_tasks_are_kept_logged_and_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        tasks = BackgroundTasks("test owner", logging.getLogger("test"))

        async def fails() -> None:
            raise RuntimeError("boom")

        async def forever() -> None:
            await asyncio.Event().wait()

        tasks.spawn(fails())
        waiting = tasks.spawn(forever())
        await asyncio.sleep(0.01)
        assert len(tasks) == 1  # the failed one is gone, the waiting one kept
        await tasks.cancel_all()
        assert waiting.cancelled()
        await tasks.drain()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert "test owner: a background task failed" in caplog.text
