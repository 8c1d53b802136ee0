// The conversation as a person reads it, built from the events that crossed the data channel and the
// kernel's tool messages. A pure reducer: (state, input) → state, returning the same state when nothing changed
// and keeping unchanged entries by reference, so a view redraws only what moved.
import type { EventItem, RealtimeEvent, ToolStatusMessage } from "../types";

export type Role = "user" | "assistant";

export interface MessageEntry {
  kind: "message";
  /** The conversation item id; `local:…` for a message we sent until the server echoes its id. */
  id: string;
  role: Role;
  text: string;
  /** False while text is still streaming in (or the user is still speaking). */
  final: boolean;
  /** The assistant was cut off (barge-in, Interrupt, or a cancelled response). */
  interrupted: boolean;
  /** Where the item's audio was truncated (ms), when it was: the text after that point was not heard. */
  audioEndMs?: number;
  /** Input transcription failed: there is audio but no text. */
  failed: boolean;
  via: "voice" | "text";
  responseId: string | null;
  /** Browser time of the first event that created the entry. */
  t: number;
}

/** `approval`: an MCP call the API holds until the client approves it (mcp_approval_request). */
export type ToolState = "calling" | "requested" | "waiting" | "running" | "approval" | "done" | "error";

export interface ToolEntry {
  kind: "tool";
  /** The function_call item id, or `call:<call_id>` when only the kernel has told us about it. */
  id: string;
  callId: string | null;
  name: string;
  arguments: string;
  state: ToolState;
  output: string | null;
  error: string | null;
  responseId: string | null;
  t: number;
}

export type Entry = MessageEntry | ToolEntry;

export interface TranscriptState {
  readonly order: readonly string[];
  readonly entries: ReadonlyMap<string, Entry>;
}

export type TranscriptInput = { kind: "event"; item: EventItem } | { kind: "tool"; message: ToolStatusMessage };

/** Older entries are dropped beyond this, so an hour-long session stays light. */
export const MAX_ENTRIES = 500;

export const EMPTY_TRANSCRIPT: TranscriptState = { order: [], entries: new Map() };

export function reduceTranscript(state: TranscriptState, input: TranscriptInput): TranscriptState {
  if (input.kind === "tool") return applyToolStatus(state, input.message);
  const { item } = input;
  if (!item.event) return state;
  return item.dir === "client" ? applyClientEvent(state, item.event, item.t) : applyServerEvent(state, item.event, item.t);
}

/** Folds many inputs (e.g. history when a view opens) into a state. */
export function buildTranscript(inputs: Iterable<TranscriptInput>, state: TranscriptState = EMPTY_TRANSCRIPT): TranscriptState {
  let next = state;
  for (const input of inputs) next = reduceTranscript(next, input);
  return next;
}

// ---------------------------------------------------------------------------------------------
// Reading untrusted event fields

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Text of a message item's content parts (typed text or a transcript), or null when it has none yet. */
function contentText(item: Dict): string | null {
  const content = item["content"];
  if (!Array.isArray(content)) return null;
  const parts: string[] = [];
  for (const part of content) {
    if (!isDict(part)) continue;
    const text = str(part["text"]) ?? str(part["transcript"]);
    if (text !== null) parts.push(text);
  }
  return parts.length > 0 ? parts.join("") : null;
}

function isTypedText(item: Dict): boolean {
  const content = item["content"];
  return Array.isArray(content) && content.some((p) => isDict(p) && (p["type"] === "input_text" || p["type"] === "text"));
}

// ---------------------------------------------------------------------------------------------
// Immutable edits

function withEntry(state: TranscriptState, entry: Entry): TranscriptState {
  const entries = new Map(state.entries);
  entries.set(entry.id, entry);
  return { order: state.order, entries };
}

function insert(state: TranscriptState, entry: Entry, afterId: string | null): TranscriptState {
  const entries = new Map(state.entries);
  entries.set(entry.id, entry);
  const order = [...state.order];
  const anchor = afterId === null ? -1 : order.indexOf(afterId);
  if (anchor >= 0) order.splice(anchor + 1, 0, entry.id);
  else order.push(entry.id);
  // Drop the oldest entries beyond the cap.
  while (order.length > MAX_ENTRIES) {
    const dropped = order.shift();
    if (dropped !== undefined) entries.delete(dropped);
  }
  return { order, entries };
}

/** Moves an existing entry right after `afterId` (the server told us where the item sits in the conversation). */
function placeAfter(state: TranscriptState, id: string, afterId: string | null): TranscriptState {
  if (afterId === null) return state;
  const anchor = state.order.indexOf(afterId);
  const at = state.order.indexOf(id);
  if (anchor < 0 || at < 0 || at === anchor + 1) return state;
  const order = state.order.filter((x) => x !== id);
  order.splice(order.indexOf(afterId) + 1, 0, id);
  return { order, entries: state.entries };
}

function remove(state: TranscriptState, id: string): TranscriptState {
  if (!state.entries.has(id)) return state;
  const entries = new Map(state.entries);
  entries.delete(id);
  return { order: state.order.filter((x) => x !== id), entries };
}

function rename(state: TranscriptState, from: string, to: string): TranscriptState {
  const entry = state.entries.get(from);
  if (!entry || state.entries.has(to)) return state;
  const entries = new Map(state.entries);
  entries.delete(from);
  entries.set(to, { ...entry, id: to });
  return { order: state.order.map((x) => (x === from ? to : x)), entries };
}

function updateMessage(state: TranscriptState, id: string, patch: Partial<MessageEntry>): TranscriptState {
  const entry = state.entries.get(id);
  if (!entry || entry.kind !== "message") return state;
  const keys = Object.keys(patch) as Array<keyof MessageEntry>;
  if (keys.every((k) => entry[k] === patch[k])) return state;
  return withEntry(state, { ...entry, ...patch });
}

function updateTool(state: TranscriptState, id: string, patch: Partial<ToolEntry>): TranscriptState {
  const entry = state.entries.get(id);
  if (!entry || entry.kind !== "tool") return state;
  const keys = Object.keys(patch) as Array<keyof ToolEntry>;
  if (keys.every((k) => entry[k] === patch[k])) return state;
  return withEntry(state, { ...entry, ...patch });
}

function newMessage(id: string, role: Role, t: number, fields: Partial<MessageEntry> = {}): MessageEntry {
  return {
    kind: "message",
    id,
    role,
    text: "",
    final: false,
    interrupted: false,
    failed: false,
    via: "voice",
    responseId: null,
    t,
    ...fields,
  };
}

function newTool(id: string, t: number, fields: Partial<ToolEntry> = {}): ToolEntry {
  return {
    kind: "tool",
    id,
    callId: null,
    name: "",
    arguments: "",
    state: "calling",
    output: null,
    error: null,
    responseId: null,
    t,
    ...fields,
  };
}

/** Makes sure a message entry exists (appending it when new) and returns the state. */
function ensureMessage(state: TranscriptState, id: string, role: Role, t: number, fields: Partial<MessageEntry> = {}) {
  const existing = state.entries.get(id);
  if (existing) return state;
  return insert(state, newMessage(id, role, t, fields), null);
}

function ensureTool(state: TranscriptState, id: string, t: number, fields: Partial<ToolEntry> = {}) {
  if (state.entries.has(id)) return state;
  // The kernel may have reported the call before the event arrived (history replay order): adopt it.
  if (fields.callId) {
    const placeholder = findToolByCallId(state, fields.callId);
    if (placeholder && placeholder.id !== id) return rename(state, placeholder.id, id);
  }
  return insert(state, newTool(id, t, fields), null);
}

function findToolByCallId(state: TranscriptState, callId: string): ToolEntry | null {
  for (const entry of state.entries.values()) {
    if (entry.kind === "tool" && entry.callId === callId) return entry;
  }
  return null;
}

const TOOL_ORDER: Record<ToolState, number> = {
  calling: 0,
  requested: 1,
  approval: 1,
  waiting: 2,
  running: 3,
  done: 4,
  error: 4,
};

// ---------------------------------------------------------------------------------------------
// Conversation items (from conversation.item.* and response.output_item.*)

interface ItemContext {
  previousId: string | null;
  responseId: string | null;
  done: boolean;
}

function applyConversationItem(state: TranscriptState, item: Dict, t: number, context: ItemContext): TranscriptState {
  switch (item["type"]) {
    case "function_call":
      return applyFunctionCallItem(state, item, t, context);
    case "function_call_output":
      return applyFunctionCallOutput(state, item);
    case "message":
      return applyMessageItem(state, item, t, context);
    case "mcp_call":
    case "mcp_approval_request":
      return applyMcpItem(state, item, t, context);
    default:
      return state;
  }
}

/** A call of a tool on an MCP server, which the API runs itself (no kernel involved), or its approval request. */
function applyMcpItem(state: TranscriptState, item: Dict, t: number, context: ItemContext): TranscriptState {
  const id = str(item["id"]);
  if (id === null) return state;
  let next = ensureTool(state, id, t, { responseId: context.responseId });
  const entry = next.entries.get(id);
  if (entry?.kind !== "tool") return next;
  const patch: Partial<ToolEntry> = { name: `${str(item["server_label"]) ?? "mcp"}: ${str(item["name"]) ?? "tool"}` };
  const args = str(item["arguments"]);
  if (args) patch.arguments = args;
  const output = str(item["output"]);
  const error = isDict(item["error"]) ? (str(item["error"]["message"]) ?? "The MCP call failed.") : null;
  if (item["type"] === "mcp_approval_request") patch.state = "approval";
  else if (error !== null) Object.assign(patch, { state: "error", error });
  else if (output !== null) Object.assign(patch, { state: "done", output });
  else if (TOOL_ORDER[entry.state] < TOOL_ORDER.running) patch.state = "running";
  next = updateTool(next, id, patch);
  return placeAfter(next, id, context.previousId);
}

function applyFunctionCallItem(state: TranscriptState, item: Dict, t: number, context: ItemContext): TranscriptState {
  const id = str(item["id"]);
  if (id === null) return state;
  const callId = str(item["call_id"]);
  let next = ensureTool(state, id, t, { callId, responseId: context.responseId });
  const entry = next.entries.get(id);
  if (entry?.kind !== "tool") return next;
  const args = str(item["arguments"]);
  const patch: Partial<ToolEntry> = {};
  if (callId !== null) patch.callId = callId;
  const name = str(item["name"]);
  if (name) patch.name = name;
  if (args) patch.arguments = args;
  if (context.responseId) patch.responseId = context.responseId;
  if (context.done && TOOL_ORDER[entry.state] < TOOL_ORDER.requested) patch.state = "requested";
  next = updateTool(next, id, patch);
  return placeAfter(next, id, context.previousId);
}

function applyFunctionCallOutput(state: TranscriptState, item: Dict): TranscriptState {
  const callId = str(item["call_id"]);
  const output = str(item["output"]);
  const tool = callId === null ? null : findToolByCallId(state, callId);
  if (!tool || output === null || tool.state === "error") return state;
  return updateTool(state, tool.id, { output, state: "done" });
}

/** A message item with what is read from it once: its role, its text, and whether it was typed. */
interface MessageItem {
  item: Dict;
  role: Role;
  text: string | null;
  typed: boolean;
}

function applyMessageItem(state: TranscriptState, item: Dict, t: number, context: ItemContext): TranscriptState {
  const role = item["role"];
  if (role !== "user" && role !== "assistant") return state; // system messages are instructions, not conversation
  const id = str(item["id"]);
  if (id === null) return state;
  const message: MessageItem = { item, role, text: contentText(item), typed: role === "user" && isTypedText(item) };

  let next = state;
  if (!next.entries.has(id) && message.typed && message.text !== null) {
    // Our own typed message, already shown from the client event: adopt the server's id.
    const local = findLocalMessage(next, message.text);
    if (local) next = rename(next, local.id, id);
  }
  next = ensureMessage(next, id, role, t, { via: message.typed ? "text" : "voice", responseId: context.responseId });
  const entry = next.entries.get(id);
  if (entry?.kind !== "message") return next;
  next = updateMessage(next, id, messageItemPatch(entry, message, context));
  return placeAfter(next, id, context.previousId);
}

function messageItemPatch(entry: MessageEntry, message: MessageItem, context: ItemContext): Partial<MessageEntry> {
  const { item, role, text, typed } = message;
  const patch: Partial<MessageEntry> = {};
  if (context.responseId && !entry.responseId) patch.responseId = context.responseId;
  if (typed) {
    patch.via = "text";
    patch.final = true;
  }
  // A transcript in the item is the finished text; null means it is still coming (or never will).
  if (text !== null && (typed || context.done || item["status"] === "completed")) {
    patch.text = text;
    patch.final = true;
  }
  const status = item["status"];
  if (role === "assistant" && status === "incomplete") {
    patch.interrupted = true;
    patch.final = true;
  } else if (role === "assistant" && context.done && status === "completed") {
    patch.final = true;
  }
  return patch;
}

function findLocalMessage(state: TranscriptState, text: string): MessageEntry | null {
  for (const id of state.order) {
    const entry = state.entries.get(id);
    if (entry?.kind === "message" && entry.id.startsWith("local:") && entry.role === "user" && entry.text === text) {
      return entry;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Responses ending

/** Marks the messages of a response finished; cut off when the response did not complete. */
function finishResponse(state: TranscriptState, responseId: string, interrupted: boolean): TranscriptState {
  let next = state;
  for (const entry of state.entries.values()) {
    if (entry.responseId !== responseId) continue;
    if (entry.kind === "message") {
      next = updateMessage(next, entry.id, interrupted ? { final: true, interrupted: true } : { final: true });
    } else if (entry.state === "calling") {
      next = updateTool(next, entry.id, { state: interrupted ? "error" : "requested", ...(interrupted ? { error: "Cancelled" } : {}) });
    }
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Server events: one function per event (or family of events) that changes the transcript, routed by SERVER_EVENTS

type ServerEventHandler = (state: TranscriptState, event: RealtimeEvent, t: number) => TranscriptState;

/** Shows the user's bubble as soon as they start speaking; the words follow. */
function speechStarted(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  return itemId === null ? state : ensureMessage(state, itemId, "user", t);
}

function speechCommitted(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  if (itemId === null) return state;
  const next = ensureMessage(state, itemId, "user", t);
  return placeAfter(next, itemId, str(event["previous_item_id"]));
}

function conversationItemEvent(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const item = event["item"];
  if (!isDict(item)) return state;
  return applyConversationItem(state, item, t, {
    previousId: str(event["previous_item_id"]),
    responseId: null,
    done: event.type === "conversation.item.done" || event.type === "conversation.item.retrieved",
  });
}

function outputItemEvent(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const item = event["item"];
  if (!isDict(item)) return state;
  return applyConversationItem(state, item, t, {
    previousId: null,
    responseId: str(event["response_id"]),
    done: event.type === "response.output_item.done",
  });
}

function itemDeleted(state: TranscriptState, event: RealtimeEvent): TranscriptState {
  const itemId = str(event["item_id"]);
  return itemId === null ? state : remove(state, itemId);
}

/** The assistant's audio was cut where the user started talking. */
function itemTruncated(state: TranscriptState, event: RealtimeEvent): TranscriptState {
  const itemId = str(event["item_id"]);
  const end = event["audio_end_ms"];
  const patch: Partial<MessageEntry> = { interrupted: true, final: true };
  if (typeof end === "number" && Number.isFinite(end)) patch.audioEndMs = end;
  return itemId === null ? state : updateMessage(state, itemId, patch);
}

/** Speaking rate used to place a truncation in a reply's text: about 150 words a minute (the API sends no word
 * timings). The kernel's record places the cut the same way, refined by the session's measured rate. */
export const CHARS_PER_MS = 14 / 1000;

/** How many characters of `text` were heard before `audioEndMs`: whole words that had begun. */
export function heardLength(text: string, audioEndMs: number): number {
  const limit = audioEndMs * CHARS_PER_MS;
  let position = 0;
  for (const word of text.split(" ")) {
    if (word !== "" && position >= limit) return Math.max(0, position - 1);
    position += word.length + 1;
  }
  return text.length;
}

/** Streams text into a message; once it is final, late deltas are ignored. */
function appendDelta(
  state: TranscriptState,
  event: RealtimeEvent,
  t: number,
  role: Role,
  fields: Partial<MessageEntry>,
): TranscriptState {
  const itemId = str(event["item_id"]);
  const delta = str(event["delta"]);
  if (itemId === null || !delta) return state;
  const next = ensureMessage(state, itemId, role, t, fields);
  const entry = next.entries.get(itemId);
  if (entry?.kind !== "message" || entry.final) return next;
  return updateMessage(next, itemId, { text: entry.text + delta });
}

function userTranscriptDelta(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  return appendDelta(state, event, t, "user", {});
}

function userTranscriptCompleted(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  if (itemId === null) return state;
  const next = ensureMessage(state, itemId, "user", t);
  return updateMessage(next, itemId, { text: str(event["transcript"]) ?? "", final: true });
}

function userTranscriptFailed(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  if (itemId === null) return state;
  const next = ensureMessage(state, itemId, "user", t);
  return updateMessage(next, itemId, { final: true, failed: true });
}

function assistantTextDelta(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  return appendDelta(state, event, t, "assistant", { responseId: str(event["response_id"]) });
}

function assistantTextDone(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  if (itemId === null) return state;
  const text = str(event["transcript"]) ?? str(event["text"]);
  const next = ensureMessage(state, itemId, "assistant", t, { responseId: str(event["response_id"]) });
  const entry = next.entries.get(itemId);
  if (entry?.kind !== "message") return next;
  return updateMessage(next, itemId, { text: text ?? entry.text, final: true });
}

function callArgumentsDelta(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  const delta = str(event["delta"]);
  if (itemId === null || !delta) return state;
  const callId = str(event["call_id"]);
  const next = ensureTool(state, itemId, t, { callId, responseId: str(event["response_id"]) });
  const entry = next.entries.get(itemId);
  if (entry?.kind !== "tool" || entry.state !== "calling") return next;
  return updateTool(next, itemId, { arguments: entry.arguments + delta });
}

function callArgumentsDone(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const itemId = str(event["item_id"]);
  if (itemId === null) return state;
  const callId = str(event["call_id"]);
  const next = ensureTool(state, itemId, t, { callId, responseId: str(event["response_id"]) });
  const entry = next.entries.get(itemId);
  if (entry?.kind !== "tool") return next;
  const patch: Partial<ToolEntry> = { arguments: str(event["arguments"]) ?? entry.arguments };
  const name = str(event["name"]);
  if (name) patch.name = name;
  if (callId) patch.callId = callId;
  if (TOOL_ORDER[entry.state] < TOOL_ORDER.requested) patch.state = "requested";
  return updateTool(next, itemId, patch);
}

function responseDone(state: TranscriptState, event: RealtimeEvent): TranscriptState {
  const response = event["response"];
  if (!isDict(response)) return state;
  const id = str(response["id"]);
  if (id === null) return state;
  const status = response["status"];
  return finishResponse(state, id, status === "cancelled" || status === "incomplete" || status === "failed");
}

/** Audio was dropped before it was heard (Interrupt or barge-in). */
function audioCleared(state: TranscriptState, event: RealtimeEvent): TranscriptState {
  const responseId = str(event["response_id"]);
  return responseId === null ? state : markInterrupted(state, responseId);
}

/** The server events that change the transcript; any other event leaves it as it is. */
const SERVER_EVENTS: ReadonlyMap<string, ServerEventHandler> = new Map([
  ["input_audio_buffer.speech_started", speechStarted],
  ["input_audio_buffer.committed", speechCommitted],
  ["conversation.item.added", conversationItemEvent],
  ["conversation.item.created", conversationItemEvent],
  ["conversation.item.done", conversationItemEvent],
  ["conversation.item.retrieved", conversationItemEvent],
  ["response.output_item.added", outputItemEvent],
  ["response.output_item.done", outputItemEvent],
  ["conversation.item.deleted", itemDeleted],
  ["conversation.item.truncated", itemTruncated],
  ["conversation.item.input_audio_transcription.delta", userTranscriptDelta],
  ["conversation.item.input_audio_transcription.completed", userTranscriptCompleted],
  ["conversation.item.input_audio_transcription.failed", userTranscriptFailed],
  ["response.output_audio_transcript.delta", assistantTextDelta],
  ["response.output_text.delta", assistantTextDelta],
  ["response.output_audio_transcript.done", assistantTextDone],
  ["response.output_text.done", assistantTextDone],
  ["response.function_call_arguments.delta", callArgumentsDelta],
  ["response.function_call_arguments.done", callArgumentsDone],
  ["response.done", responseDone],
  ["output_audio_buffer.cleared", audioCleared],
]);

function applyServerEvent(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  const handler = SERVER_EVENTS.get(event.type);
  return handler === undefined ? state : handler(state, event, t);
}

function markInterrupted(state: TranscriptState, responseId: string): TranscriptState {
  let next = state;
  for (const entry of state.entries.values()) {
    if (entry.kind === "message" && entry.responseId === responseId && entry.role === "assistant") {
      next = updateMessage(next, entry.id, { interrupted: true });
    }
  }
  return next;
}

function applyClientEvent(state: TranscriptState, event: RealtimeEvent, t: number): TranscriptState {
  if (event.type !== "conversation.item.create") return state;
  const item = event["item"];
  if (!isDict(item)) return state;
  if (item["type"] === "function_call_output") {
    return applyConversationItem(state, item, t, { previousId: null, responseId: null, done: true });
  }
  if (item["type"] !== "message" || item["role"] !== "user") return state;
  const text = contentText(item);
  if (text === null) return state;
  const id = str(item["id"]) ?? `local:${event.event_id ?? String(t)}`;
  if (state.entries.has(id)) return state;
  return insert(state, newMessage(id, "user", t, { text, final: true, via: "text" }), str(event["previous_item_id"]));
}

function applyToolStatus(state: TranscriptState, message: ToolStatusMessage): TranscriptState {
  const callId = str(message.call_id);
  if (callId === null) return state;
  const existing = findToolByCallId(state, callId);
  const fields: Partial<ToolEntry> = { state: message.state };
  if (message.tool) fields.name = message.tool;
  // The arguments that crossed the data channel are the record; the kernel's copy only fills a gap.
  if (message.arguments && !existing?.arguments) fields.arguments = message.arguments;
  if (message.output !== undefined) fields.output = message.output;
  if (message.error !== undefined) fields.error = message.error;

  if (!existing) {
    return insert(state, newTool(`call:${callId}`, 0, { callId, ...fields }), null);
  }
  // Messages can arrive out of order (history replay): never step a call back from done to running.
  if (TOOL_ORDER[message.state] < TOOL_ORDER[existing.state]) {
    const { state: _ignored, ...rest } = fields;
    return updateTool(state, existing.id, rest);
  }
  return updateTool(state, existing.id, fields);
}

/** The text a screen reader hears when an entry finishes. */
export function announcement(entry: Entry): string {
  if (entry.kind === "tool") {
    const name = entry.name || "a tool";
    if (entry.state === "error") return `Tool ${name} failed: ${entry.error ?? ""}`.trim();
    return `Tool ${name} finished.`;
  }
  const who = entry.role === "user" ? "You" : "Assistant";
  const text = entry.failed && entry.text === "" ? "(speech not transcribed)" : entry.text;
  return `${who}: ${text}${entry.interrupted ? " (interrupted)" : ""}`;
}
