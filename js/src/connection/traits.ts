// The parse step for what the kernel sends: synced traits and custom messages. Past here, values are typed.
import type {
  AckMessage,
  ConnectionOptions,
  KernelCommand,
  NoticeMessage,
  Settings,
  ToolStatusMessage,
  TransportChoice,
  TurnDetectionChoice,
  WireItem,
} from "../types";
import { isRealtimeEvent } from "./events";

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

function nonNegative(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

const TRANSPORTS: readonly TransportChoice[] = ["auto", "webrtc", "websocket"];
const TURN_DETECTION: readonly TurnDetectionChoice[] = ["server_vad", "semantic_vad", "none"];

export const DEFAULT_SETTINGS: Settings = { voice: "", instructions: "", turn_detection: "server_vad" };

export function parseSettings(value: unknown): Settings {
  const d = isDict(value) ? value : {};
  const td = d["turn_detection"];
  const settings: Settings = {
    voice: str(d["voice"], DEFAULT_SETTINGS.voice),
    instructions: str(d["instructions"], DEFAULT_SETTINGS.instructions),
    turn_detection: TURN_DETECTION.find((t) => t === td) ?? DEFAULT_SETTINGS.turn_detection,
  };
  // The kernel's objects behind what the UI shows: a custom voice, and the whole turn detection.
  const voiceConfig = d["voice_config"];
  if (isDict(voiceConfig)) settings.voice_config = voiceConfig;
  const turnConfig = d["turn_detection_config"];
  if (isDict(turnConfig)) settings.turn_detection_config = turnConfig;
  return settings;
}

/** The settings a key's session was minted with (sent beside the key, docs/wire.md), or null when not given. */
export function keySettings(value: unknown): Settings | null {
  return isDict(value) ? parseSettings(value) : null;
}

/** The same settings, whatever the order of their keys: a key minted with `minted` already has `wanted`. */
export function sameSettings(minted: Settings | null, wanted: Settings): boolean {
  return minted !== null && stableJson(minted) === stableJson(wanted);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isDict(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Where to POST the SDP offer; empty when the kernel has not set it (Connection then fails clearly). */
export function parseCallsUrl(value: unknown): string {
  return str(value, "");
}

// The kernel's ConnectionOptions (connection_options.py) is the one home of these values, and it always sets the
// whole `options` trait. They are repeated here only as the fallback for a field that is missing or malformed,
// so they must stay equal to the kernel's defaults.
export const DEFAULT_OPTIONS: ConnectionOptions = {
  transport: "auto",
  local_server_port: null,
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, deviceId: null },
  ice_servers: [],
  max_bitrate_kbps: null,
  reconnect: { max_attempts: 3, base_delay_ms: 500, max_delay_ms: 8000 },
  disconnect_grace_ms: 5000,
  stats_interval_ms: 1000,
};

function parseIceServer(value: unknown): RTCIceServer | null {
  if (!isDict(value)) return null;
  const urls = value["urls"];
  const validUrls =
    typeof urls === "string" || (Array.isArray(urls) && urls.every((u): u is string => typeof u === "string"));
  if (!validUrls) return null;
  const server: RTCIceServer = { urls };
  if (typeof value["username"] === "string") server.username = value["username"];
  if (typeof value["credential"] === "string") server.credential = value["credential"];
  return server;
}

export function parseOptions(value: unknown): ConnectionOptions {
  const d = isDict(value) ? value : {};
  const audio = isDict(d["audio"]) ? d["audio"] : {};
  const reconnect = isDict(d["reconnect"]) ? d["reconnect"] : {};
  const ice = Array.isArray(d["ice_servers"]) ? d["ice_servers"] : [];
  const bitrate = d["max_bitrate_kbps"];
  const deviceId = audio["deviceId"];
  const defaults = DEFAULT_OPTIONS;
  const transport = d["transport"];
  const port = d["local_server_port"];
  return {
    transport: TRANSPORTS.find((t) => t === transport) ?? defaults.transport,
    local_server_port:
      typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536 ? port : null,
    audio: {
      echoCancellation: bool(audio["echoCancellation"], defaults.audio.echoCancellation),
      noiseSuppression: bool(audio["noiseSuppression"], defaults.audio.noiseSuppression),
      autoGainControl: bool(audio["autoGainControl"], defaults.audio.autoGainControl),
      deviceId: typeof deviceId === "string" && deviceId !== "" ? deviceId : null,
    },
    ice_servers: ice.map(parseIceServer).filter((s): s is RTCIceServer => s !== null),
    max_bitrate_kbps: typeof bitrate === "number" && bitrate > 0 ? bitrate : null,
    reconnect: {
      max_attempts: Math.floor(nonNegative(reconnect["max_attempts"], defaults.reconnect.max_attempts)),
      base_delay_ms: nonNegative(reconnect["base_delay_ms"], defaults.reconnect.base_delay_ms),
      max_delay_ms: nonNegative(reconnect["max_delay_ms"], defaults.reconnect.max_delay_ms),
    },
    disconnect_grace_ms: nonNegative(d["disconnect_grace_ms"], defaults.disconnect_grace_ms),
    stats_interval_ms: Math.max(100, nonNegative(d["stats_interval_ms"], defaults.stats_interval_ms)),
  };
}

export function parseAck(value: unknown): AckMessage | null {
  if (!isDict(value) || value["type"] !== "rtw:ack") return null;
  const client = value["client"];
  const seq = value["seq"];
  if (typeof client !== "string" || typeof seq !== "number" || !Number.isInteger(seq)) return null;
  return { type: "rtw:ack", client, seq };
}

function parseToolStatus(d: Dict): ToolStatusMessage | null {
  const state = d["state"];
  if (state !== "waiting" && state !== "running" && state !== "done" && state !== "error") return null;
  if (typeof d["call_id"] !== "string") return null;
  const message: ToolStatusMessage = {
    name: "tool_status",
    call_id: d["call_id"],
    state,
    tool: str(d["tool"], ""),
    arguments: str(d["arguments"], ""),
  };
  if (typeof d["output"] === "string") message.output = d["output"];
  if (typeof d["error"] === "string") message.error = d["error"];
  return message;
}

function parseNotice(d: Dict): NoticeMessage | null {
  const level = d["level"];
  if (level !== "info" && level !== "warning" && level !== "error") return null;
  return { name: "notice", level, text: str(d["text"], "") };
}

function parseCommandBody(d: Dict): KernelCommand | null {
  switch (d["name"]) {
    case "connect":
      return typeof d["key"] === "string" && d["key"] !== ""
        ? { name: "connect", key: { value: d["key"], settings: keySettings(d["settings"]) } }
        : { name: "connect" };
    case "disconnect":
      return { name: "disconnect" };
    case "interrupt":
      return { name: "interrupt" };
    case "send": {
      const event: unknown = d["event"];
      return isRealtimeEvent(event) ? { name: "send", event } : null;
    }
    case "tool_status":
      return parseToolStatus(d);
    case "notice":
      return parseNotice(d);
    case "agent":
      return typeof d["response_id"] === "string" && typeof d["agent"] === "string" && d["agent"] !== ""
        ? { name: "agent", response_id: d["response_id"], agent: d["agent"] }
        : null;
    default:
      return null;
  }
}

/**
 * A kernel command from a `msg:custom` message, or null for anything else (acks, anywidget's own
 * command responses). Accepts `{type: "rtw:cmd", command: {name, ...}}` and the flat `{type: "rtw:cmd", name, ...}`.
 */
export function parseCommand(value: unknown): KernelCommand | null {
  if (!isDict(value) || value["type"] !== "rtw:cmd") return null;
  const body = value["command"];
  return parseCommandBody(isDict(body) ? body : value);
}

export interface MintReply {
  key: string;
}

export interface History {
  items: WireItem[];
}

const ITEM_KINDS = new Set(["event", "stats", "timeline", "voice_latency"]);

/** Items from the `history` reply; only shape-checked on `k` and `t`, since the kernel stored what the browser sent. */
export function parseHistory(value: unknown): History {
  const d = isDict(value) ? value : {};
  const items = Array.isArray(d["items"]) ? d["items"] : [];
  return {
    items: items.filter(
      (i): i is WireItem => isDict(i) && ITEM_KINDS.has(String(i["k"])) && typeof i["t"] === "number",
    ),
  };
}

export function parseClockReply(value: unknown): number | null {
  if (!isDict(value)) return null;
  const t = value["t_kernel"];
  return typeof t === "number" && Number.isFinite(t) ? t : null;
}
