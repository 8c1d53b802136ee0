// Shared types: the wire to the kernel (docs/wire.md) and the seam between the connection layer and the UI.
// The connection layer (src/connection/) implements `Controller`; the UI (src/ui/) only reads it.

import type { PlayState } from "./audio/casePlayer";

/** A Realtime event as JSON. Narrowed by `type` where it is used; never trusted past the parse step. */
export interface RealtimeEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export type Status = "idle" | "minting" | "connecting" | "connected" | "reconnecting" | "closed" | "failed";

export type ErrorCode =
  | "bad_key"
  | "key_rejected"
  | "no_access"
  | "rate_limited"
  | "server_error"
  | "network"
  | "sdp_rejected"
  | "ice_failed"
  | "channel_closed"
  | "mic_denied"
  | "mic_missing"
  | "session_update_rejected"
  | "malformed_event"
  | "tool_error"
  | "autoplay_blocked"
  | "kernel_timeout"
  | "kernel_lost"
  | "audio_blocked"
  | "unreachable"
  | "unknown";

/** A failure as a person sees it: what happened and what to do next. Rendered as text, never HTML. */
export interface WidgetError {
  code: ErrorCode;
  message: string;
  hint: string;
}

/** Why the connection runs without a microphone (receive-only: typed turns in, audio and transcript out). */
export type MicOffReason =
  | "not_requested"
  | "insecure_context"
  | "unsupported"
  | "vscode_webview"
  | "denied"
  | "missing"
  | "lost"
  | "failed";

/** The microphone is off: why, what it means, and how to turn it on where that is possible. Rendered as text. */
export interface MicOff {
  reason: MicOffReason;
  message: string;
  hint: string;
  /** The browser's own words (e.g. "NotAllowedError: Permission denied"), or "". */
  detail: string;
}

export type TurnDetectionChoice = "server_vad" | "semantic_vad" | "none";

/** The `settings` trait: what the UI edits before connecting. */
export interface Settings {
  voice: string;
  instructions: string;
  turn_detection: TurnDetectionChoice;
  /** A custom voice's object (`{id}`), sent in place of its id; null for a built-in voice. */
  voice_config?: Record<string, unknown> | null;
  /** The kernel's whole turn detection object (thresholds and all), for the connect-time session.update. */
  turn_detection_config?: Record<string, unknown> | null;
}

/** Which transport carries the session: `auto` tries WebRTC and falls back to WebSocket. */
export type TransportChoice = "auto" | "webrtc" | "websocket";

/** The `options` trait: how to connect. */
export interface ConnectionOptions {
  transport: TransportChoice;
  /** The kernel's local server's port, when the widget uses it: the Jupyter proxy routes need it. */
  local_server_port: number | null;
  audio: {
    echoCancellation: boolean;
    noiseSuppression: boolean;
    autoGainControl: boolean;
    deviceId: string | null;
  };
  ice_servers: RTCIceServer[];
  max_bitrate_kbps: number | null;
  reconnect: { max_attempts: number; base_delay_ms: number; max_delay_ms: number };
  disconnect_grace_ms: number;
  stats_interval_ms: number;
}

// ---- Items sent to the kernel in batches (each has k and t: browser ms since the Unix epoch) ----

export interface EventItem {
  k: "event";
  t: number;
  dir: "client" | "server";
  event: RealtimeEvent | null;
  /** Only when the message was not valid JSON: its text, cut to 2,000 characters. */
  raw?: string;
}

export interface StatsItem {
  k: "stats";
  t: number;
  rtt_ms: number | null;
  jitter_ms: number | null;
  packets_received: number | null;
  packets_lost: number | null;
  bytes_received: number | null;
  bytes_sent: number | null;
  bitrate_in_kbps: number | null;
  bitrate_out_kbps: number | null;
  audio_level_in: number | null;
  audio_level_out: number | null;
  codec: string | null;
}

export type TimelineWhat =
  | "connect_requested"
  | "mint_start"
  | "mint_end"
  | "mic_start"
  | "mic_ready"
  | "offer_created"
  | "answer_received"
  | "ice_state"
  | "connection_state"
  | "dc_open"
  | "session_update_sent"
  | "session_updated"
  | "session_update_unconfirmed"
  | "connected"
  | "first_audio"
  | "disconnected"
  | "reconnect_scheduled"
  | "closed"
  | "failed"
  | "clock_offset"
  | "mic_error"
  | "autoplay_blocked"
  | "transport"
  | "route_tried"
  | "ws_open"
  | "mic_off"
  | "commands_over_custom_messages"
  | "play_spoken"
  | "play_stopped"
  | "play_error"
  | "playback_started"
  | "playback_drained";

export interface TimelineItem {
  k: "timeline";
  t: number;
  what: TimelineWhat;
  attempt: number;
  detail: Record<string, unknown>;
}

export interface VoiceLatencyItem {
  k: "voice_latency";
  t: number;
  ms: number;
  user_speech_end_t: number;
  assistant_audio_start_t: number;
}

export type WireItem = EventItem | StatsItem | TimelineItem | VoiceLatencyItem;

export interface BatchMessage {
  type: "rtw:batch";
  client: string;
  seq: number;
  items: WireItem[];
}

export interface AckMessage {
  type: "rtw:ack";
  client: string;
  seq: number;
}

// ---- Kernel → browser commands ----

export interface ToolStatusMessage {
  name: "tool_status";
  call_id: string;
  state: "waiting" | "running" | "done" | "error";
  tool: string;
  arguments: string;
  output?: string;
  error?: string;
}

export interface NoticeMessage {
  name: "notice";
  level: "info" | "warning" | "error";
  text: string;
}

/** Which Agents SDK agent a response belongs to (a widget with `agent=`), for the transcript's speaker label. */
export interface AgentMessage {
  name: "agent";
  response_id: string;
  agent: string;
}

export type KernelCommand =
  /** `key`: an ephemeral key the kernel minted with the request (a Python `connect()`), used for this attempt. */
  | { name: "connect"; key?: { value: string; settings: Settings | null } }
  | { name: "disconnect" }
  | { name: "send"; event: RealtimeEvent }
  | { name: "interrupt" }
  | ToolStatusMessage
  | NoticeMessage
  | AgentMessage;

export interface CommandEnvelope {
  type: "rtw:cmd";
  command: KernelCommand;
}

// ---- The seam between the connection layer and the UI ----

export interface Levels {
  /** Mic level, 0..1 (RMS, perceptually scaled). */
  input: number;
  /** Remote (assistant) audio level, 0..1. */
  output: number;
}

export interface ControllerEvents {
  status: (status: Status) => void;
  error: (error: WidgetError | null) => void;
  event: (item: EventItem) => void;
  stats: (item: StatsItem) => void;
  levels: (levels: Levels) => void;
  timeline: (item: TimelineItem) => void;
  voiceLatency: (item: VoiceLatencyItem) => void;
  tool: (message: ToolStatusMessage) => void;
  notice: (message: NoticeMessage) => void;
  agent: (message: AgentMessage) => void;
  /** True while a command to the kernel has waited more than 1 s (a cell is running). */
  kernelWaiting: (waiting: boolean) => void;
  /** The remote audio could not autoplay: the UI shows a click-to-enable-audio prompt. */
  autoplayBlocked: (blocked: boolean) => void;
  /** The connection runs without a microphone (and why), or null once it has one. */
  micOff: (off: MicOff | null) => void;
  /** A case the kernel plays (widget.play) moved on a step, or ended (null). */
  play: (state: PlayState | null) => void;
  /** Both sides' audio started (true) or stopped (false) being recorded (RealtimeWidget(record_audio=True)). */
  recording: (on: boolean) => void;
}

/** One per widget model per page (created in `initialize`), shared by every view of that model. */
export interface Controller {
  readonly status: Status;
  readonly error: WidgetError | null;
  /** When the current connection reached `connected` (ms since epoch), or null. */
  readonly connectedSince: number | null;
  readonly muted: boolean;
  /** Why the latest connection attempt has no microphone, or null when it has one (or has not asked yet). */
  readonly micOff: MicOff | null;
  /** True while push-to-talk is held. */
  readonly talking: boolean;
  /** True while a connection's audio is being recorded for the kernel. */
  readonly recording: boolean;
  /** Every item seen so far in this page (restored history first), for views created later. Bounded. */
  readonly recentEvents: readonly EventItem[];
  readonly recentStats: readonly StatsItem[];
  readonly toolCalls: ReadonlyMap<string, ToolStatusMessage>;
  /** Response id → the Agents SDK agent that gave it (kernel `agent` commands). */
  readonly responseAgents: ReadonlyMap<string, string>;

  connect(): Promise<void>;
  /** Connect is being pressed: the microphone may open now, ahead of the click's connect. */
  pressConnect(): void;
  disconnect(): Promise<void>;
  setMuted(muted: boolean): void;
  /** Sends a client event on the data channel (adding an event_id) and reports it. False when not connected. */
  sendEvent(event: RealtimeEvent): boolean;
  /** Sends a user text message and asks for a response. */
  sendText(text: string): boolean;
  /** response.cancel when a response is active, then output_audio_buffer.clear. */
  interrupt(): void;
  /** Push-to-talk: press clears the input buffer and opens the mic; release commits and asks for a response. */
  pushToTalk(pressed: boolean): void;
  listMicrophones(): Promise<MediaDeviceInfo[]>;
  /** Retries remote audio playback after a user gesture (autoplay was blocked). */
  enableAudio(): Promise<void>;
  /** The case the kernel is playing into the call (widget.play), or null. */
  readonly playState: PlayState | null;
  /** Stops the case being played: its audio goes silent at once and the kernel's play ends as "stopped". */
  stopPlay(): void;
  on<K extends keyof ControllerEvents>(name: K, listener: ControllerEvents[K]): () => void;
}
