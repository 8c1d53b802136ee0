import { describe, expect, it } from "vitest";
import {
  DEFAULT_OPTIONS,
  parseAck,
  parseCommand,
  parseHistory,
  parseOptions,
  parseSettings,
} from "../../src/connection/traits";

describe("parseSettings", () => {
  it("keeps valid values and falls back per field", () => {
    expect(parseSettings({ voice: "cedar", instructions: "x", turn_detection: "none" })).toEqual({
      voice: "cedar",
      instructions: "x",
      turn_detection: "none",
    });
    expect(parseSettings({ voice: 3, turn_detection: "loud" })).toEqual({
      voice: "",
      instructions: "",
      turn_detection: "server_vad",
    });
    expect(parseSettings(null).turn_detection).toBe("server_vad");
  });
});

describe("parseOptions", () => {
  it("falls back to the kernel's defaults (ConnectionOptions) for an empty trait", () => {
    expect(parseOptions({})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS.reconnect).toEqual({ max_attempts: 3, base_delay_ms: 500, max_delay_ms: 8000 });
    expect(DEFAULT_OPTIONS.max_bitrate_kbps).toBeNull();
    expect(DEFAULT_OPTIONS.ice_servers).toEqual([]);
    expect(DEFAULT_OPTIONS.disconnect_grace_ms).toBe(5000);
    expect(DEFAULT_OPTIONS.stats_interval_ms).toBe(1000);
    expect(DEFAULT_OPTIONS.audio).toEqual({
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
      deviceId: null,
    });
  });

  it("reads every field the kernel sets", () => {
    const options = parseOptions({
      transport: "websocket",
      local_server_port: 8123,
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, deviceId: "mic-2" },
      ice_servers: [{ urls: "turn:t.example:3478", username: "u", credential: "c" }, { urls: 5 }, "junk"],
      max_bitrate_kbps: 32,
      reconnect: { max_attempts: 3, base_delay_ms: 250, max_delay_ms: 4000 },
      disconnect_grace_ms: 2000,
      stats_interval_ms: 500,
    });
    expect(options).toEqual({
      transport: "websocket",
      local_server_port: 8123,
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, deviceId: "mic-2" },
      ice_servers: [{ urls: "turn:t.example:3478", username: "u", credential: "c" }],
      max_bitrate_kbps: 32,
      reconnect: { max_attempts: 3, base_delay_ms: 250, max_delay_ms: 4000 },
      disconnect_grace_ms: 2000,
      stats_interval_ms: 500,
    });
  });

  it("rejects nonsense numbers", () => {
    const options = parseOptions({ max_bitrate_kbps: -1, disconnect_grace_ms: -5, stats_interval_ms: 1 });
    expect(options.max_bitrate_kbps).toBeNull();
    expect(options.disconnect_grace_ms).toBe(5000);
    expect(options.stats_interval_ms).toBe(100);
  });
});

describe("parseCommand", () => {
  it("reads the nested and the flat envelope", () => {
    expect(parseCommand({ type: "rtw:cmd", command: { name: "connect" } })).toEqual({ name: "connect" });
    expect(parseCommand({ type: "rtw:cmd", name: "interrupt" })).toEqual({ name: "interrupt" });
  });

  it("checks send events and tool states", () => {
    expect(parseCommand({ type: "rtw:cmd", command: { name: "send", event: { nope: 1 } } })).toBeNull();
    expect(
      parseCommand({
        type: "rtw:cmd",
        command: { name: "tool_status", call_id: "c", state: "error", tool: "f", arguments: "{}", error: "boom" },
      }),
    ).toEqual({ name: "tool_status", call_id: "c", state: "error", tool: "f", arguments: "{}", error: "boom" });
    expect(parseCommand({ type: "rtw:cmd", command: { name: "tool_status", call_id: "c", state: "?" } })).toBeNull();
  });

  it("ignores anywidget's own messages and unknown commands", () => {
    expect(parseCommand({ kind: "anywidget-command-response", id: "1", response: {} })).toBeNull();
    expect(parseCommand({ type: "rtw:cmd", command: { name: "reboot" } })).toBeNull();
    expect(parseCommand("text")).toBeNull();
  });
});

describe("parseAck", () => {
  it("accepts integer seqs only", () => {
    expect(parseAck({ type: "rtw:ack", client: "c", seq: 3 })).toEqual({ type: "rtw:ack", client: "c", seq: 3 });
    expect(parseAck({ type: "rtw:ack", client: "c", seq: 1.5 })).toBeNull();
    expect(parseAck({ type: "rtw:cmd", client: "c", seq: 1 })).toBeNull();
  });
});

describe("parseHistory", () => {
  it("keeps items with a known kind and a time", () => {
    expect(
      parseHistory({ items: [{ k: "event", t: 1, dir: "server", event: null }, { k: "x", t: 1 }, { k: "stats" }] }).items,
    ).toHaveLength(1);
    expect(parseHistory(undefined).items).toEqual([]);
  });
});

describe("parseSettings keeps the kernel's objects", () => {
  it("passes a custom voice and the whole turn detection on to the connect-time session.update", () => {
    const tuned = { type: "server_vad", threshold: 0.8 };
    const settings = parseSettings({
      voice: "voice_1",
      voice_config: { id: "voice_1" },
      instructions: "",
      turn_detection: "server_vad",
      turn_detection_config: tuned,
    });
    expect(settings.voice_config).toEqual({ id: "voice_1" });
    expect(settings.turn_detection_config).toEqual(tuned);
    expect(parseSettings({ voice: "marin", voice_config: null }).voice_config).toBeUndefined();
  });
});
