"""Python functions as tools: schemas from signatures and docstrings, and running calls that never raise."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import json
import threading
import time
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pytest
from openai.types.realtime import RealtimeFunctionTool
from pydantic import BaseModel, Field, field_validator

from realtime_widget.config import SessionConfig
from realtime_widget.tools import Tool, ToolOutcome, ToolRegistry, tool
from realtime_widget.tools.output import format_result
from realtime_widget.tools.schema import parse_docstring


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Place(BaseModel):
    """A place on Earth."""

    lat: float
    lon: float


def check_ga(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition must parse as the SDK's GA function tool, and as a SessionConfig tool."""
    parsed = RealtimeFunctionTool.model_validate(definition)
    assert parsed.type == "function"
    assert parsed.name == definition["name"]
    SessionConfig(tools=[definition])
    json.dumps(definition)
    parameters: dict[str, Any] = definition["parameters"]
    return parameters


# ---- schemas -------------------------------------------------------------------------------------------------------


def test_schema_from_hints_defaults_and_google_docstring() -> None:
    @tool
    def weather(
        city: str,
        days: Annotated[int, "How many days ahead, 1 to 7."] = 1,
        unit: Unit = Unit.CELSIUS,
        detail: Literal["brief", "full"] = "brief",
        start: date | None = None,
    ) -> str:
        """Forecast the weather for a city.

        Uses the national weather service; answers in the chosen unit.

        Args:
            city: The city's name,
                in English.
            days: Ignored, because the annotation says it.
            unit (Unit): Temperature unit.
        """
        return "sunny"

    definition = weather.definition()
    parameters = check_ga(definition)
    assert definition["name"] == "weather"
    assert definition["description"] == "Forecast the weather for a city."
    assert parameters["type"] == "object"
    assert parameters["required"] == ["city"]
    props = parameters["properties"]
    assert props["city"] == {"type": "string", "description": "The city's name, in English."}
    assert props["days"] == {"type": "integer", "default": 1, "description": "How many days ahead, 1 to 7."}
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["unit"]["description"] == "Temperature unit."
    assert props["detail"]["enum"] == ["brief", "full"]
    assert {"type": "string", "format": "date"} in props["start"]["anyOf"]
    assert "title" not in json.dumps(parameters)
    assert "$ref" not in json.dumps(parameters)


def test_schema_for_containers_models_and_field_descriptions() -> None:
    def plot(
        columns: list[str],
        place: Place,
        options: dict[str, float] | None = None,
        since: datetime | None = None,
        limit: Annotated[int, Field(description="Most rows to use.", ge=1, le=1000)] = 100,
    ) -> None:
        """Plot columns for a place."""

    parameters = check_ga(Tool.from_function(plot).definition())
    props = parameters["properties"]
    assert props["columns"] == {"type": "array", "items": {"type": "string"}}
    assert props["place"]["type"] == "object"
    assert props["place"]["required"] == ["lat", "lon"]
    assert props["place"]["description"] == "A place on Earth."
    assert {"type": "object", "additionalProperties": {"type": "number"}} in props["options"]["anyOf"]
    assert {"type": "string", "format": "date-time"} in props["since"]["anyOf"]
    assert props["limit"] == {"type": "integer", "default": 100, "description": "Most rows to use.", "minimum": 1,
                              "maximum": 1000}  # fmt: skip
    assert parameters["additionalProperties"] is False


def test_numpy_and_sphinx_docstrings() -> None:
    def numpy_style(x: int, y: str = "a") -> str:
        """Join x and y.

        Parameters
        ----------
        x : int
            The number,
            written out.
        y : str, optional
            The suffix.

        Returns
        -------
        str
            The joined text.
        """
        return f"{x}{y}"

    def sphinx_style(x: int) -> int:
        """Double it.

        :param x: The number to double.
        :returns: twice x.
        """
        return 2 * x

    numpy_props = Tool.from_function(numpy_style).parameters["properties"]
    assert numpy_props["x"]["description"] == "The number, written out."
    assert numpy_props["y"]["description"] == "The suffix."
    assert Tool.from_function(sphinx_style).parameters["properties"]["x"]["description"] == "The number to double."
    assert Tool.from_function(sphinx_style).description == "Double it."


def test_docstring_summary_is_the_first_paragraph_only() -> None:
    doc = parse_docstring("Line one\ncontinues here.\n\nSecond paragraph.\n\nArgs:\n    a: An a.\n")
    assert doc.summary == "Line one continues here."
    assert doc.params == {"a": "An a."}
    assert parse_docstring(None).summary == ""
    assert parse_docstring("Args:\n    a: only args").summary == ""


def test_a_function_over_a_dataframe_in_its_closure() -> None:
    sales = pd.DataFrame({"region": ["EU", "US", "EU"], "revenue": [10.0, 30.0, 20.0]})

    def make_tool(frame: pd.DataFrame) -> Tool:
        @tool
        def top(n: int = 1, region: Literal["EU", "US"] | None = None) -> pd.DataFrame:
            """The rows with the highest revenue."""
            rows = frame if region is None else frame[frame.region == region]
            return rows.nlargest(n, "revenue")

        return top

    top = make_tool(sales)
    parameters = check_ga(top.definition())
    assert set(parameters["properties"]) == {"n", "region"}
    assert "required" not in parameters
    outcome = asyncio.run(ToolRegistry([top]).run("c1", "top", '{"n": 1, "region": "EU"}'))
    assert outcome.ok
    assert outcome.output == "DataFrame: 1 row x 2 columns\nregion,revenue\nEU,20"
    assert isinstance(outcome.result, pd.DataFrame)


def test_partial_binds_data_out_of_the_schema() -> None:
    def total(frame: pd.DataFrame, column: str) -> float:
        """Sum one column."""
        return float(frame[column].sum())

    bound = Tool.from_function(functools.partial(total, frame=pd.DataFrame({"a": [1, 2]})), name="total")
    assert set(bound.parameters["properties"]) == {"column"}
    assert bound.description == "Sum one column."
    assert asyncio.run(ToolRegistry([bound]).run("c", "total", '{"column": "a"}')).output == "3.0"


def test_a_dataframe_parameter_is_refused_with_advice() -> None:
    def bad(frame: pd.DataFrame) -> None:
        """Needs a frame."""

    with pytest.raises(TypeError, match="closure"):
        Tool.from_function(bad)


def test_star_args_are_refused() -> None:
    def anything(*args: int) -> None: ...

    with pytest.raises(TypeError, match=r"\*args"):
        Tool.from_function(anything)


def test_names_are_checked_and_can_be_overridden() -> None:
    with pytest.raises(ValueError, match=r"pass name=\.\.\."):
        Tool.from_function(lambda: 1)
    named = Tool.from_function(lambda: 1, name="one", description="Returns one.")
    assert named.definition()["name"] == "one"
    assert named.definition()["description"] == "Returns one."
    with pytest.raises(ValueError, match="not usable"):
        tool(name="has space")(lambda: 1)


def test_decorator_forms_keep_the_function_callable() -> None:
    @tool
    def bare(a: int) -> int:
        """Bare."""
        return a + 1

    @tool(name="renamed", timeout_s=2.5, description="Custom.")
    def configured(a: int) -> int:
        return a * 2

    assert isinstance(bare, Tool)
    assert bare(1) == 2
    assert configured(2) == 4
    assert (configured.name, configured.timeout_s, configured.description) == ("renamed", 2.5, "Custom.")
    assert repr(configured) == "Tool(renamed(a), timeout_s=2.5)"
    assert bare.__doc__ == "Bare."
    assert Tool.from_function(bare) is bare
    assert Tool.from_function(bare, name="again").name == "again"


# ---- the registry --------------------------------------------------------------------------------------------------


def first(a: int) -> int:
    """First tool."""
    return a


def second(b: str) -> str:
    """Second tool."""
    return b


def test_registry_collection() -> None:
    registry = ToolRegistry([first, tool(second)])
    assert registry.names() == ["first", "second"]
    assert len(registry) == 2
    assert "first" in registry
    assert [t.name for t in registry] == ["first", "second"]
    for definition in registry.definitions():
        check_ga(definition)
    SessionConfig(tools=registry.definitions())
    removed = registry.remove("first")
    assert removed.name == "first"
    assert registry.names() == ["second"]
    with pytest.raises(KeyError, match="Did you mean 'second'"):
        registry.remove("secnd")


def test_add_replaces_a_tool_of_the_same_name() -> None:
    registry = ToolRegistry([first])
    registry.add(tool(name="first", description="Newer.")(second))
    assert registry.names() == ["first"]
    assert registry.definitions()[0]["description"] == "Newer."


def test_duplicate_names_in_the_constructor_are_an_error() -> None:
    with pytest.raises(ValueError, match="two tools are named 'first'"):
        ToolRegistry([first, tool(name="first")(second)])


# ---- running calls -------------------------------------------------------------------------------------------------


def add(a: int, b: int = 0) -> int:
    """Add two numbers."""
    return a + b


async def test_run_coerces_arguments_and_formats_the_result() -> None:
    outcome = await ToolRegistry([add]).run("call_1", "add", '{"a": "2", "b": 3}')
    assert outcome.ok
    assert outcome.output == "5"
    assert outcome.result == 5
    assert outcome.arguments == {"a": "2", "b": 3}
    assert outcome.started.tzinfo is not None
    assert outcome.duration_ms >= 0
    assert "result=" not in repr(outcome)


async def test_empty_arguments_mean_none_given() -> None:
    def now() -> str:
        """The time."""
        return "noon"

    assert (await ToolRegistry([now]).run("c", "now", "")).output == "noon"


def error_of(outcome: ToolOutcome) -> str:
    assert not outcome.ok
    assert outcome.error is not None
    assert json.loads(outcome.output) == {"error": outcome.error}
    return outcome.error


async def test_unknown_tool() -> None:
    outcome = await ToolRegistry([add]).run("c", "ad", "{}")
    assert outcome.error_kind == "unknown_tool"
    assert error_of(outcome) == "There is no tool named 'ad'. Did you mean 'add'? Available tools: add."


@pytest.mark.parametrize(("arguments", "fragment"), [("{a: 1}", "not valid JSON"), ("[1, 2]", "JSON object")])
async def test_invalid_json(arguments: str, fragment: str) -> None:
    outcome = await ToolRegistry([add]).run("c", "add", arguments)
    assert outcome.error_kind == "invalid_json"
    assert fragment in error_of(outcome)
    assert outcome.arguments is None
    assert outcome.arguments_json == arguments


async def test_validation_errors_list_every_field() -> None:
    outcome = await ToolRegistry([add]).run("c", "add", '{"b": "many", "c": 1}')
    assert outcome.error_kind == "invalid_arguments"
    message = error_of(outcome)
    assert message.startswith("Invalid arguments for add: ")
    assert "a: required but missing" in message
    assert "b: Input should be a valid integer" in message
    assert "'many'" in message
    assert "c: not a parameter of this tool" in message
    assert outcome.traceback is not None
    assert "ValidationError" in outcome.traceback


async def test_a_raising_function_becomes_an_error_with_traceback() -> None:
    def divide(a: float, b: float) -> float:
        """Divide."""
        return a / b

    outcome = await ToolRegistry([divide]).run("c", "divide", '{"a": 1, "b": 0}')
    assert outcome.error_kind == "raised"
    assert error_of(outcome) == "divide raised ZeroDivisionError: float division by zero"
    assert outcome.traceback is not None
    assert "return a / b" in outcome.traceback


async def test_async_functions_are_awaited() -> None:
    async def slow_echo(text: str) -> str:
        """Echo."""
        await asyncio.sleep(0.01)
        return text.upper()

    registry = ToolRegistry([slow_echo])
    assert registry.get("slow_echo") is not None
    outcome = await registry.run("c", "slow_echo", '{"text": "hi"}')
    assert outcome.output == "HI"


async def test_a_sync_function_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def blocking(seconds: float) -> str:
        """Sleep."""
        seen.append(threading.get_ident())
        time.sleep(seconds)
        return "done"

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    outcome = await ToolRegistry([blocking]).run("c", "blocking", '{"seconds": 0.3}')
    ticking.cancel()
    assert outcome.output == "done"
    assert seen[0] != loop_thread
    assert ticks >= 10  # the loop kept going while the function slept


async def test_timeouts_per_tool_per_call_and_default() -> None:
    @tool(timeout_s=0.1)
    def sleepy() -> str:
        """Sleeps."""
        time.sleep(0.5)
        return "late"

    async def sleepy_async() -> str:
        """Sleeps too."""
        await asyncio.sleep(5)
        return "late"

    registry = ToolRegistry([sleepy, sleepy_async], default_timeout_s=0.1)
    started = time.monotonic()
    outcome = await registry.run("c", "sleepy", "{}")
    assert time.monotonic() - started < 0.4
    assert outcome.error_kind == "timeout"
    assert error_of(outcome) == "sleepy did not finish within 0.1 s (it may still be running in the background)."

    outcome = await registry.run("c", "sleepy_async", "{}")
    assert error_of(outcome) == "sleepy_async did not finish within 0.1 s."

    outcome = await registry.run("c", "sleepy", "{}", timeout_s=2)
    assert outcome.ok
    assert outcome.output == "late"


async def test_to_record_is_a_flat_row() -> None:
    record = (await ToolRegistry([add]).run("call_9", "add", '{"a": 1}')).to_record()
    assert record["call_id"] == "call_9"
    assert record["arguments"] == '{"a": 1}'
    assert record["ok"] is True
    assert record["result_type"] == "int"
    assert record["started"].tzinfo is UTC
    assert set(record) == {
        "call_id", "name", "arguments", "output", "ok", "error", "error_kind", "traceback", "result_type",
        "started", "duration_ms",
    }  # fmt: skip
    pd.DataFrame([record])  # it fits in a table


async def test_large_results_are_capped_with_a_note() -> None:
    def big() -> list[int]:
        """Many numbers."""
        return list(range(100_000))

    outcome = await ToolRegistry([big], max_output_chars=1000).run("c", "big", "{}")
    assert len(outcome.output) <= 1000
    assert "characters not shown" in outcome.output
    assert "a list of 100,000 items" in outcome.output
    assert len(outcome.result) == 100_000


# ---- formatting results --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Reading:
    sensor: str
    value: float


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain text", "plain text"),
        (42, "42"),
        (2.5, "2.5"),
        (True, "true"),
        (None, "null"),
        ({"a": [1, 2], "b": None}, '{"a":[1,2],"b":null}'),
        ([1, "x"], '[1,"x"]'),
        (Reading("t1", 20.5), '{"sensor":"t1","value":20.5}'),
        (Place(lat=1.0, lon=2.0), '{"lat":1.0,"lon":2.0}'),
        ({"when": date(2024, 5, 1), "n": np.int64(3), "x": float("nan")}, '{"when":"2024-05-01","n":3,"x":null}'),
        (np.arange(3), "[0,1,2]"),
        (pd.Series([1, 2], name="n"), "DataFrame: 2 rows x 1 column\nn\n1\n2"),
    ],
)
def test_format_result(value: Any, text: str) -> None:
    assert format_result(value) == text


def test_format_result_falls_back_to_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<a thing>"

    assert format_result(Thing()) == "<a thing>"


def test_a_big_dataframe_is_cut_at_whole_rows_with_its_shape() -> None:
    frame = pd.DataFrame({"id": np.arange(10_000), "score": np.linspace(0, 1, 10_000), "tag": ["abc"] * 10_000})
    text = format_result(frame, max_chars=2000)
    assert len(text) <= 2000
    assert text.startswith("DataFrame: 10,000 rows x 3 columns\nid,score,tag\n0,0,abc\n")
    body, note = text.rsplit("\n", 1)
    assert note.startswith("…[truncated: showing ")
    assert "of 10,000 rows x 3 columns" in note
    shown = int(note.split("showing ")[1].split(" of")[0])
    assert body.splitlines()[-1].startswith(f"{shown - 1},")  # the last row shown is whole


def test_a_meaningful_index_is_kept() -> None:
    frame = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["a", "b"], name="key"))
    assert format_result(frame) == "DataFrame: 2 rows x 1 column\nkey,v\na,1\nb,2"


async def test_stuck_tools_do_not_starve_later_calls() -> None:
    def stuck() -> None:
        """Never returns in time."""
        time.sleep(0.5)

    def quick() -> str:
        """Returns at once."""
        return "quick"

    registry = ToolRegistry([stuck, quick], default_timeout_s=0.05)
    outcomes = await asyncio.gather(*(registry.run(f"c{i}", "stuck", "{}") for i in range(12)))
    assert all(o.error_kind == "timeout" for o in outcomes)
    started = time.monotonic()
    outcome = await registry.run("q", "quick", "{}", timeout_s=1)
    assert outcome.output == "quick"
    assert time.monotonic() - started < 0.3  # not queued behind the stuck ones


async def test_sys_exit_in_a_tool_is_just_an_error() -> None:
    def leave() -> None:
        """Exits."""
        raise SystemExit(3)

    outcome = await ToolRegistry([leave]).run("c", "leave", "{}")
    assert outcome.error_kind == "raised"
    assert "SystemExit" in error_of(outcome)


# ---- properties ----------------------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=10), inner, max_size=30),
    max_leaves=100,
)


@settings(max_examples=30, deadline=None)
@given(value=json_values, budget=st.integers(250, 3000))
def test_output_never_exceeds_the_budget(value: Any, budget: int) -> None:
    text = format_result(value, max_chars=budget)
    assert len(text) <= budget
    if not isinstance(value, str) and "truncated" not in text:
        json.loads(text)  # whole results are valid JSON


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(0, 3000), cols=st.integers(1, 40), budget=st.integers(250, 5000))
def test_dataframes_never_exceed_the_budget(rows: int, cols: int, budget: int) -> None:
    frame = pd.DataFrame(np.arange(rows * cols).reshape(rows, cols), columns=[f"column_{i}" for i in range(cols)])
    text = format_result(frame, max_chars=budget)
    assert len(text) <= budget
    assert text.startswith(f"DataFrame: {rows:,} row")


@settings(max_examples=100, deadline=None)
@given(doc=st.text())
def test_any_docstring_parses(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert "\n" not in parsed.summary


class Broken:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class Picky(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def no_sevens(cls, value: int) -> int:
        if value == 7:
            raise TypeError("sevens are unlucky")  # pydantic lets a TypeError through unwrapped
        return value


async def test_a_result_that_cannot_be_shown_is_an_error() -> None:
    def broken() -> Broken:
        """Returns something unprintable."""
        return Broken()

    outcome = await ToolRegistry([broken]).run("c", "broken", "{}")
    assert outcome.error_kind == "unreadable_result"
    assert "could not be turned into text" in error_of(outcome)


async def test_a_model_validator_raising_type_error_is_still_an_outcome() -> None:
    def pick(choice: Picky) -> int:
        """Pick."""
        return choice.value

    outcome = await ToolRegistry([pick]).run("c", "pick", '{"choice": {"value": 7}}')
    assert outcome.error_kind == "raised"
    assert "sevens are unlucky" in error_of(outcome)


def test_an_unresolvable_return_type_does_not_matter_but_a_parameter_type_does() -> None:
    def make() -> Tool:
        class Hidden:
            pass

        def fine(n: int) -> Hidden:
            """Returns a local type."""
            return Hidden()

        return Tool.from_function(fine)

    assert set(make().parameters["properties"]) == {"n"}

    def make_bad() -> Tool:
        class Hidden(BaseModel):
            x: int

        def bad(h: Hidden) -> None:
            """Takes a local type."""

        return Tool.from_function(bad)

    with pytest.raises(TypeError, match="parameter 'h' of tool 'bad'"):
        make_bad()
