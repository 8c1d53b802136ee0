"""The deterministic responder: canned answers, instructions, tool choice, tool arguments, function results."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_widget.server.voice.interfaces import FunctionCall, Reply, ResponseContext
from realtime_widget.server.voice.responder import (
    RuleResponder,
    answer_to,
    instructed_answer,
    instructed_ending,
    instructed_greeting,
    summarize_output,
)
from realtime_widget.server.voice.tool_match import best_tool, fill_arguments, name_tokens, numbers_in

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    },
}
LIGHT: dict[str, Any] = {
    "type": "function",
    "name": "setLight",
    "description": "Switch a lamp on or off in a room of the house.",
    "parameters": {
        "type": "object",
        "properties": {"room": {"type": "string"}, "on": {"type": "boolean"}, "brightness": {"type": "number"}},
        "required": ["room", "on"],
    },
}
TIMER: dict[str, Any] = {
    "type": "function",
    "name": "start_timer",
    "description": "Start a countdown timer.",
    "parameters": {
        "type": "object",
        "properties": {"minutes": {"type": "integer"}, "label": {"type": "string"}, "loud": {"type": "boolean"}},
        "required": ["minutes", "label", "loud"],
    },
}
TOOLS = [WEATHER, LIGHT, TIMER, {"type": "mcp", "server_label": "x"}]


def ctx(
    text: str | None,
    *,
    instructions: str = "",
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] = "auto",
    outputs: list[dict[str, Any]] | None = None,
    conversation: list[dict[str, Any]] | None = None,
    first: bool = False,
) -> ResponseContext:
    return ResponseContext(
        instructions=instructions,
        tools=TOOLS if tools is None else tools,
        tool_choice=tool_choice,
        conversation=conversation or [],
        last_user_text=text,
        pending_function_outputs=outputs or [],
        is_first_response=first,
    )


def respond(context: ResponseContext) -> Reply:
    return RuleResponder().respond(context)


# ---- plain answers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("heard", "answer"),
    [
        ("hello there", "Hello! How can I help you today?"),
        ("good morning", "Hello! How can I help you today?"),
        ("thank you so much", "You're welcome."),
        ("okay bye now", "Goodbye!"),
        ("what time is it", "You asked: what time is it? I'm a local test model, so I can only repeat it."),
        ("Is it raining?", "You asked: Is it raining? I'm a local test model, so I can only repeat it."),
        ("my name is john", "You said: my name is john"),
        ("", "Sorry, I didn't catch that."),
        (None, "Sorry, I didn't catch that."),
    ],
)
def test_canned_answers(heard: str | None, answer: str) -> None:
    assert answer_to(heard) == answer
    assert respond(ctx(heard, tools=[])) == Reply(text=answer)


def test_first_response_without_user_words_greets() -> None:
    assert respond(ctx(None, first=True)).text == "Hello! How can I help you today?"


# ---- instructions ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "instructions",
    [
        'You are helpful. Always start with "Welcome to the demo!"',
        "Begin every conversation by saying 'Welcome to the demo!' and be brief.",
        "Greet the user with “Welcome to the demo!”",
        'Start by saying: "Welcome to the demo!"',
        "Always say 'Welcome to the demo!'",
        'You are a guide. Say "Welcome to the demo!" when you meet someone.',
    ],
)
def test_instructed_greeting_opens_the_first_response_only(instructions: str) -> None:
    assert instructed_greeting(instructions) == "Welcome to the demo!"
    assert respond(ctx(None, instructions=instructions, first=True)).text == "Welcome to the demo!"
    assert respond(ctx("my name is ann", instructions=instructions, first=True)).text == (
        "Welcome to the demo! You said: my name is ann"
    )
    assert respond(ctx("my name is ann", instructions=instructions)).text == "You said: my name is ann"


def test_instructed_fixed_answer_and_ending() -> None:
    instructions = 'Always answer "Affirmative." Always end with "Over."'
    assert instructed_answer(instructions) == "Affirmative."
    assert instructed_ending(instructions) == "Over."
    assert respond(ctx("what time is it", instructions=instructions, tools=[])).text == "Affirmative. Over."


def test_instructions_without_quoted_phrases_change_nothing() -> None:
    instructions = "Be friendly, start with a greeting, and always answer briefly."
    assert instructed_greeting(instructions) is None
    assert instructed_answer(instructions) is None
    assert respond(ctx("hi", instructions=instructions, first=True)).text == "Hello! How can I help you today?"


# ---- choosing a tool -------------------------------------------------------------------------------------------
def test_identifier_tokens() -> None:
    assert name_tokens("get_weather") == name_tokens("getWeather") == name_tokens("get-weather") == ["get", "weather"]


@pytest.mark.parametrize(
    ("heard", "tool"),
    [
        ("what is the weather in paris", "get_weather"),
        ("please switch the light in the kitchen on", "setLight"),
        ("turn the lamp on in the house room", "setLight"),  # description keywords only
        ("start a timer for five minutes", "start_timer"),
    ],
)
def test_auto_calls_the_tool_the_words_name(heard: str, tool: str) -> None:
    reply = respond(ctx(heard))
    assert reply.function_call is not None
    assert reply.function_call.name == tool


def test_auto_does_not_call_a_tool_for_unrelated_words() -> None:
    assert respond(ctx("tell me a joke")).function_call is None
    assert best_tool(TOOLS, "tell me a joke") == (None, 0)


def test_tool_choice_none_never_calls() -> None:
    assert respond(ctx("what is the weather in paris", tool_choice="none")).function_call is None


def test_tool_choice_required_calls_the_best_or_the_first_tool() -> None:
    assert respond(ctx("start a timer", tool_choice="required")).function_call == FunctionCall(
        "start_timer", {"minutes": 0, "label": "", "loud": True}
    )
    unrelated = respond(ctx("tell me a joke", tool_choice="required")).function_call
    assert unrelated is not None
    assert unrelated.name == "get_weather"


def test_named_tool_choice_calls_that_tool() -> None:
    choice = {"type": "function", "name": "setLight"}
    reply = respond(ctx("what is the weather in paris", tool_choice=choice))
    assert reply.function_call == FunctionCall("setLight", {"room": "paris", "on": False})


def test_named_tool_choice_of_an_unknown_tool_answers_instead() -> None:
    reply = respond(ctx("hello", tool_choice={"type": "function", "name": "nope"}))
    assert reply == Reply(text="Hello! How can I help you today?")


def test_non_function_tools_are_never_called() -> None:
    assert respond(ctx("mcp server x", tools=[{"type": "mcp", "server_label": "x"}])).function_call is None


# ---- filling arguments -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("heard", "arguments"),
    [
        ("What is the weather in Paris today?", {"city": "Paris", "unit": "celsius"}),
        ("weather for new york in fahrenheit for three days", {"city": "new york", "unit": "fahrenheit", "days": 3}),
        ("weather for 12 days in Rome", {"city": "Rome", "unit": "celsius", "days": 7}),  # clamped to maximum
        ("weather city Oslo", {"city": "Oslo", "unit": "celsius"}),
        ('weather for "Rio de Janeiro"', {"city": "Rio de Janeiro", "unit": "celsius"}),
        ("weather", {"city": "", "unit": "celsius"}),  # required: always present
    ],
)
def test_weather_arguments(heard: str, arguments: dict[str, Any]) -> None:
    assert fill_arguments(WEATHER, heard) == arguments


@pytest.mark.parametrize(
    ("heard", "arguments"),
    [
        ("switch the light on in the kitchen", {"room": "kitchen", "on": True}),
        ("light in room bedroom off", {"room": "bedroom", "on": False}),
        ("light in the hall on at twenty five", {"room": "hall", "on": True, "brightness": 25.0}),
    ],
)
def test_light_arguments(heard: str, arguments: dict[str, Any]) -> None:
    assert fill_arguments(LIGHT, heard) == arguments


def test_every_required_argument_is_present_with_its_type() -> None:
    arguments = fill_arguments(TIMER, "timer please")
    assert arguments == {"minutes": 0, "label": "", "loud": False}


def test_tool_without_parameters_gets_no_arguments() -> None:
    assert fill_arguments({"type": "function", "name": "ping"}, "ping it") == {}


def test_nested_object_arguments_are_filled() -> None:
    tool = {
        "type": "function",
        "name": "book",
        "parameters": {
            "type": "object",
            "properties": {
                "where": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "nights": {"type": "integer"}},
                    "required": ["city"],
                }
            },
            "required": ["where"],
        },
    }
    assert fill_arguments(tool, "book two nights in Lisbon") == {"where": {"city": "Lisbon", "nights": 2}}


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("twenty one", [21.0]),
        ("one hundred twenty five", [125.0]),
        ("3.5 and 7", [3.5, 7.0]),
        ("five twenty", [5.0, 20.0]),
        ("set it to 2 then to forty", [2.0, 40.0]),
        ("no numbers here", []),
        ("two thousand five hundred and twelve", [2500.0, 12.0]),
        ("three thousand forty two", [3042.0]),
        ("one two three", [1.0, 2.0, 3.0]),
        ("a hundred", []),
    ],
)
def test_numbers_in_words_and_digits(text: str, numbers: list[float]) -> None:
    assert numbers_in(text) == numbers


# ---- function results ------------------------------------------------------------------------------------------
def test_function_output_is_spoken_concisely_with_the_tool_name() -> None:
    conversation = [{"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"}]
    output = {"type": "function_call_output", "call_id": "call_1", "output": json.dumps({"temp_c": 21, "sky": "clear"})}
    reply = respond(ctx("what is the weather", outputs=[output], conversation=conversation))
    assert reply == Reply(text="get_weather returned temp c 21, sky clear.")


@pytest.mark.parametrize(
    ("output", "spoken"),
    [
        ('{"error": "city not found"}', "an error: city not found"),
        ("[1, 2, 3]", "3 results: 1, 2, 3"),
        ("[]", "no results"),
        ('"done"', "done"),
        ("null", "nothing"),
        ("plain text answer", "plain text answer"),
        ('{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}', "a 1, b 2, c 3, d 4, and 2 more"),
        (json.dumps({"text": "x" * 100}), "text " + "x" * 57 + "..."),
    ],
)
def test_output_summaries(output: str, spoken: str) -> None:
    assert summarize_output(output) == spoken


def test_several_outputs_give_one_sentence_each() -> None:
    outputs = [
        {"type": "function_call_output", "call_id": "a", "output": "1"},
        {"type": "function_call_output", "call_id": "b", "output": "2"},
    ]
    assert respond(ctx(None, outputs=outputs)).text == "The tool returned 1. The tool returned 2."


def test_results_are_spoken_even_when_a_tool_is_required() -> None:
    outputs = [{"type": "function_call_output", "call_id": "a", "output": "ok"}]
    assert respond(ctx("weather", outputs=outputs, tool_choice="required")).text == "The tool returned ok."


# ---- determinism -----------------------------------------------------------------------------------------------
@given(
    text=st.one_of(st.none(), st.text(max_size=80)),
    choice=st.sampled_from(["auto", "none", "required", {"type": "function", "name": "start_timer"}]),
    first=st.booleans(),
)
def test_same_context_gives_the_same_reply(text: str | None, choice: str | dict[str, Any], first: bool) -> None:
    context = ctx(text, tool_choice=choice, first=first, instructions='Always start with "Hi."')
    reply = respond(context)
    assert reply == RuleResponder().respond(context)
    assert (reply.text is None) != (reply.function_call is None)
    if reply.function_call is not None:
        json.dumps(reply.function_call.arguments)  # always serialisable


# ---- Agents SDK handoffs ---------------------------------------------------------------------------------------
TRANSFER: dict[str, Any] = {
    "type": "function",
    "name": "transfer_to_billing",
    "description": "Handoff to the Billing agent to handle the request. Invoices, payments and refunds.",
    "parameters": {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
}
INVOICES: dict[str, Any] = {
    "type": "function",
    "name": "invoice_total",
    "description": "The total of a customer's invoices.",
    "parameters": {"type": "object", "properties": {"customer_id": {"type": "integer"}}, "required": ["customer_id"]},
}


def _transferred(tools: list[dict[str, Any]], text: str, instructions: str = "") -> ResponseContext:
    call = {"type": "function_call", "call_id": "c1", "name": "transfer_to_billing", "arguments": "{}"}
    output = {"type": "function_call_output", "call_id": "c1", "output": '{"assistant": "Billing"}'}
    return ctx(text, tools=tools, outputs=[output], conversation=[call, output], instructions=instructions)


def test_words_naming_an_agent_call_its_transfer_tool() -> None:
    reply = respond(ctx("I have a billing question", tools=[WEATHER, TRANSFER]))
    assert reply.function_call == FunctionCall("transfer_to_billing", {})
    assert respond(ctx("what is the weather in Paris", tools=[WEATHER, TRANSFER])).function_call is not None
    assert respond(ctx("what is the weather in Paris", tools=[TRANSFER])).function_call is None


def test_after_a_transfer_the_new_agent_calls_its_own_tool_the_words_name() -> None:
    reply = respond(_transferred([INVOICES, TRANSFER], "billing: the invoice total of customer 42"))
    assert reply.function_call == FunctionCall("invoice_total", {"customer_id": 42})


def test_after_a_transfer_without_a_matching_tool_the_new_agent_introduces_itself_in_its_own_words() -> None:
    reply = respond(_transferred([TRANSFER], "I have a billing question", 'Always end with "Billing desk."'))
    assert reply.text == "You're now talking to Billing. Billing desk."
    assert reply.function_call is None  # never transferred again to the agent it is
