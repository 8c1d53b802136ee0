"""The local server's deterministic responder: answers what it heard, follows simple instructions, calls tools.

No language model: fixed rules, so the same context always gives the same reply (tests rely on it).

- Function outputs waiting: speak them, concisely (JSON is summarised as "temperature 21, condition sunny").
- A handoff's output waiting (an Agents SDK transfer tool, ``transfer_to_<agent>``): the agent handed to goes on
  with the user's words, calling a tool of its own that they name, else saying "You're now talking to <agent>."
  A transfer tool is called like any tool: when the words name it ("billing" calls ``transfer_to_billing``).
- ``tool_choice``: ``"none"`` never calls; ``"required"`` calls the best-matching tool (the first if none match);
  ``{"type": "function", "name": ...}`` calls that tool; ``"auto"`` calls a tool when the words name it
  (``tool_match.MATCH_SCORE``).
- Instructions, where a quoted phrase makes them concrete: ``Always start with "Hi there!"`` (also "always
  say", "greet the user with", "begin with", "start by saying", or any quoted phrase opening with a greeting word
  such as "Hello ...") opens the first response; ``Always answer "Yes."`` (also "always reply/respond with")
  replaces every answer; ``Always end with "Over."`` (also "finish/close with") closes each.
- Otherwise: greetings, thanks and goodbyes get the usual words; a question gets "You asked: ..."; anything else
  "You said: ..." (the words as heard); nothing heard gets "Sorry, I didn't catch that."
"""

from __future__ import annotations

import json
import re
from typing import Any

from realtime_widget.server.voice.interfaces import FunctionCall, Reply, ResponseContext
from realtime_widget.server.voice.tool_match import MATCH_SCORE, best_tool, fill_arguments, function_tools, tokens

# A phrase in double quotes may hold an apostrophe ("One moment, I'm checking."); one in single quotes may not.
_QUOTE = r"(?:[\"“]([^\"”]+)[\"”]|'([^']+)')"
_GREETING_RULE = re.compile(
    r"(?:start|begin|open)(?:\s+(?:each|every|the|your|first|conversation|response|reply|by))*"
    r"\s+(?:with|saying|by\s+saying)[:\s]+"
    + _QUOTE
    + r"|greet\s+(?:the\s+user|them|people)\s+with[:\s]+"
    + _QUOTE
    + r"|always\s+say[:\s]+"
    + _QUOTE,
    re.IGNORECASE,
)
#: A quoted phrase that opens with a greeting word is taken as the greeting when no rule above names one.
_QUOTED_GREETING = re.compile(
    r"[\"“']((?:hello|hi|hey|welcome|greetings|good\s+(?:morning|afternoon|evening))\b[^\"”']*)[\"”']", re.IGNORECASE
)
_FIXED_RULE = re.compile(r"always\s+(?:reply|respond|answer)(?:\s+only)?(?:\s+with)?[:\s]+" + _QUOTE, re.IGNORECASE)
_ENDING_RULE = re.compile(
    r"(?:end|finish|close)(?:\s+(?:each|every|all|your|replies|reply|responses|response|answers|answer))*"
    r"\s+(?:with|by\s+saying)[:\s]+" + _QUOTE,
    re.IGNORECASE,
)

GREETING_WORDS = frozenset({"hello", "hi", "hey", "hiya", "howdy", "greetings", "morning", "evening", "afternoon"})
THANKS_WORDS = frozenset({"thanks", "thank", "cheers"})
GOODBYE_WORDS = frozenset({"bye", "goodbye", "farewell"})
QUESTION_WORDS = frozenset(
    """what who whom whose which when where why how is are am was were do does did can could would will should
    shall may might have has""".split()  # noqa: SIM905  # a word list reads better as text
)
MAX_SUMMARY_FIELDS = 4
MAX_VALUE_CHARS = 60


def instructed_greeting(instructions: str) -> str | None:
    """The quoted phrase instructions ask the first response to start with, if any."""
    match = _GREETING_RULE.search(instructions) or _QUOTED_GREETING.search(instructions)
    return next((g for g in match.groups() if g), None) if match else None


def instructed_answer(instructions: str) -> str | None:
    """The quoted phrase instructions ask every answer to be, if any."""
    match = _FIXED_RULE.search(instructions)
    return next((g for g in match.groups() if g), None) if match else None


def instructed_ending(instructions: str) -> str | None:
    """The quoted phrase instructions ask every answer to end with, if any."""
    match = _ENDING_RULE.search(instructions)
    return next((g for g in match.groups() if g), None) if match else None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def answer_to(text: str | None) -> str:
    """The canned answer to a user's words."""
    if text is None or not text.strip():
        return "Sorry, I didn't catch that."
    words = tokens(text)
    clean = text.strip().rstrip(".!?")
    if set(words) & GOODBYE_WORDS:
        return "Goodbye!"
    if set(words) & THANKS_WORDS:
        return "You're welcome."
    if words and (words[0] in GREETING_WORDS or words[:2] == ["good", "morning"]):
        return "Hello! How can I help you today?"
    if text.strip().endswith("?") or (words and words[0] in QUESTION_WORDS):
        return f"You asked: {clean}? I'm a local test model, so I can only repeat it."
    return f"You said: {text.strip()}"


# ---- function results ------------------------------------------------------------------------------------------
def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _spoken_key(key: str) -> str:
    return re.sub(r"[_\-]+", " ", key).strip()


def summarize_output(output: str) -> str:
    """A short spoken form of a function's output string (JSON summarised, plain text kept)."""
    try:
        value = json.loads(output)
    except ValueError:
        return _short(output.strip()) or "nothing"
    if isinstance(value, dict):
        if "error" in value:
            return f"an error: {_short(value['error'])}"
        fields = [f"{_spoken_key(k)} {_short(v)}" for k, v in list(value.items())[:MAX_SUMMARY_FIELDS]]
        more = len(value) - MAX_SUMMARY_FIELDS
        return ", ".join(fields) + (f", and {more} more" if more > 0 else "") if fields else "nothing"
    if isinstance(value, list):
        if not value:
            return "no results"
        shown = ", ".join(_short(v) for v in value[:MAX_SUMMARY_FIELDS])
        return f"{len(value)} result{'s' if len(value) != 1 else ''}: {shown}"
    if value is None:
        return "nothing"
    return _short(value)


def _call_names(conversation: list[dict[str, Any]]) -> dict[str, str]:
    return {
        str(item["call_id"]): str(item.get("name") or "The tool")
        for item in conversation
        if item.get("type") == "function_call" and "call_id" in item
    }


def speak_results(outputs: list[dict[str, Any]], conversation: list[dict[str, Any]]) -> str:
    """One sentence per function output: "get_weather returned temperature 21, condition sunny." """
    names = _call_names(conversation)
    sentences = []
    for item in outputs:
        name = names.get(str(item.get("call_id")), "The tool")
        # The tool's name stays as written (eSpeak does not pronounce underscores), so the transcript names it.
        sentences.append(_sentence(f"{name} returned {summarize_output(str(item.get('output', '')))}"))
    return " ".join(sentences)


# ---- handoffs ----------------------------------------------------------------------------------------------------
#: The Agents SDK names a handoff's tool ``transfer_to_<agent name>`` (agents/handoffs.py, Handoff.default_tool_name)
#: and answers its call with ``{"assistant": "<agent name>"}`` (Handoff.get_transfer_message).
TRANSFER_PREFIX = "transfer_to_"


def is_transfer_tool(name: str) -> bool:
    return name.startswith(TRANSFER_PREFIX)


def transfer_target(outputs: list[dict[str, Any]], conversation: list[dict[str, Any]]) -> str | None:
    """The agent a handoff went to, when the outputs waiting are the output of a transfer tool; else ``None``."""
    names = _call_names(conversation)
    target: str | None = None
    for item in outputs:
        name = names.get(str(item.get("call_id")), "")
        if not is_transfer_tool(name):
            return None
        try:
            value = json.loads(str(item.get("output", "")))
        except ValueError:
            value = None
        said = value.get("assistant") if isinstance(value, dict) else None
        target = str(said) if said else name[len(TRANSFER_PREFIX) :].replace("_", " ")
    return target


# ---- the responder ---------------------------------------------------------------------------------------------
def _chosen_tool(context: ResponseContext, *, transfers: bool = True) -> dict[str, Any] | None:
    tools = [t for t in function_tools(context.tools) if transfers or not is_transfer_tool(t["name"])]
    choice = context.tool_choice
    if not tools or choice == "none":
        return None
    text = context.last_user_text or ""
    if isinstance(choice, dict):
        if choice.get("type") != "function":
            return None
        return next((t for t in tools if t["name"] == choice.get("name")), None)
    tool, score = best_tool(tools, text)
    if choice == "required":
        return tool or tools[0]
    return tool if score >= MATCH_SCORE else None


class RuleResponder:
    """The ``Responder`` of the offline voice model (see the module docstring for its rules). Stateless, so one
    instance serves every session and thread."""

    def respond(self, context: ResponseContext) -> Reply:
        """The reply for this context; the same context always gives the same reply."""
        target = transfer_target(context.pending_function_outputs, context.conversation)
        if target is not None:
            return self._after_transfer(target, context)
        if context.pending_function_outputs:
            spoken = speak_results(context.pending_function_outputs, context.conversation)
            return Reply(text=self._finish(spoken, context))
        tool = _chosen_tool(context)
        if tool is not None:
            return Reply(function_call=FunctionCall(tool["name"], fill_arguments(tool, context.last_user_text or "")))
        fixed = instructed_answer(context.instructions)
        if fixed is not None:
            text = fixed
        elif context.last_user_text is None and context.is_first_response:
            text = "Hello! How can I help you today?"
        else:
            text = answer_to(context.last_user_text)
        if context.images:
            # The local model cannot see, but it says what it was shown, so an image turn is checkable.
            seen = f"I see {' and '.join(context.images)}."
            text = seen if context.last_user_text is None else f"{seen} {text}"
        greeting = instructed_greeting(context.instructions) if context.is_first_response else None
        if greeting is not None:
            text = greeting if context.last_user_text is None or text == greeting else f"{_sentence(greeting)} {text}"
        return Reply(text=self._finish(text, context))

    def _after_transfer(self, target: str, context: ResponseContext) -> Reply:
        # The new agent's tools are in the session by now (the handoff's session.update came before the output);
        # handing straight back would loop, so only its own tools are considered.
        tool = _chosen_tool(context, transfers=False)
        if tool is not None:
            return Reply(function_call=FunctionCall(tool["name"], fill_arguments(tool, context.last_user_text or "")))
        return Reply(text=self._finish(f"You're now talking to {target}.", context))

    @staticmethod
    def _finish(text: str, context: ResponseContext) -> str:
        ending = instructed_ending(context.instructions)
        return f"{_sentence(text)} {ending}" if ending and not text.endswith(ending) else text
