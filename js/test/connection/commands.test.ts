import { afterEach, describe, expect, it, vi } from "vitest";
import type { Experimental } from "@anywidget/types";
import { CommandInvoker, COMMAND_KIND, COMMAND_RESPONSE_KIND, sendCommand } from "../../src/connection/commands";
import { KernelClient } from "../../src/connection/kernel";
import { ConnectFailure } from "../../src/connection/errors";
import { FakeModel } from "./fakes";

/** A kernel that answers anywidget commands sent as custom messages, as anywidget's Python handler does. */
function answeringModel(reply: (name: string, msg: unknown) => unknown): FakeModel {
  const model = new FakeModel();
  const send = model.send.bind(model);
  model.send = (content: unknown) => {
    send(content);
    const request = content as { id: string; kind: string; name: string; msg: unknown };
    if (request.kind !== COMMAND_KIND) return;
    queueMicrotask(() =>
      model.emit("msg:custom", { id: request.id, kind: COMMAND_RESPONSE_KIND, response: reply(request.name, request.msg) }),
    );
  };
  return model;
}

/** marimo's `experimental`: renders anywidgets, but its invoke always throws. */
const marimoExperimental: Experimental = {
  invoke: () => Promise.reject(new Error("anywidget.invoke not supported in marimo. Please file an issue")),
};

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("sendCommand (custom messages)", () => {
  it("sends anywidget's command format and resolves with the matching reply only", async () => {
    const model = new FakeModel();
    const pending = sendCommand(model, "clock", { t_browser: 1 }, new AbortController().signal);
    const request = model.sent[0] as Record<string, unknown>;
    expect(request).toMatchObject({ kind: "anywidget-command", name: "clock", msg: { t_browser: 1 } });
    expect(typeof request["id"]).toBe("string");
    // Another request's reply, and an unrelated message, are not this one's answer.
    model.emit("msg:custom", { id: "someone-else", kind: COMMAND_RESPONSE_KIND, response: { t_kernel: 0 } });
    model.emit("msg:custom", { type: "rtw:ack", client: "c", seq: 1 });
    model.emit("msg:custom", { id: request["id"], kind: COMMAND_RESPONSE_KIND, response: { t_kernel: 42 } });
    await expect(pending).resolves.toEqual({ t_kernel: 42 });
  });

  it("rejects with the signal's reason and stops listening when aborted", async () => {
    const model = new FakeModel();
    const off = vi.spyOn(model, "off");
    const abort = new AbortController();
    const pending = sendCommand(model, "history", {}, abort.signal);
    abort.abort(new Error("gave up"));
    await expect(pending).rejects.toThrow("gave up");
    expect(off).toHaveBeenCalledWith("msg:custom", expect.any(Function));
  });

  it("does not send at all when the signal has already aborted", async () => {
    const model = new FakeModel();
    const abort = new AbortController();
    abort.abort(new Error("too late"));
    await expect(sendCommand(model, "history", {}, abort.signal)).rejects.toThrow("too late");
    expect(model.sent).toEqual([]);
  });
});

describe("CommandInvoker", () => {
  it("uses invoke where it works, and sends nothing itself", async () => {
    const model = new FakeModel();
    const names: string[] = [];
    const invoke = (name: string) => {
      names.push(name);
      return Promise.resolve([{ ok: true }, []] as [unknown, DataView[]]);
    };
    const commands = new CommandInvoker({ invoke } as unknown as Experimental, model);
    await expect(commands.invoke("mint_key", { attempt: 1 }, new AbortController().signal)).resolves.toEqual({
      ok: true,
    });
    expect(names).toEqual(["mint_key"]);
    expect(model.sent).toEqual([]);
    expect(commands.currentPath).toBe("invoke");
  });

  it("falls back to custom messages when invoke throws (marimo), once, and says why", async () => {
    const model = answeringModel((name) => ({ answered: name }));
    const reasons: string[] = [];
    const commands = new CommandInvoker(marimoExperimental, model, (reason) => reasons.push(reason));
    const signal = new AbortController().signal;
    await expect(commands.invoke("history", {}, signal)).resolves.toEqual({ answered: "history" });
    await expect(commands.invoke("clock", {}, signal)).resolves.toEqual({ answered: "clock" });
    expect(commands.currentPath).toBe("custom_message");
    expect(reasons).toEqual([expect.stringContaining("not supported in marimo")]);
    expect(model.sent.map((m) => (m as { name: string }).name)).toEqual(["history", "clock"]);
  });

  it("reports the switch once when requests sent together all fail over invoke", async () => {
    const model = answeringModel((name) => name);
    const reasons: string[] = [];
    const commands = new CommandInvoker(marimoExperimental, model, (reason) => reasons.push(reason));
    const signal = new AbortController().signal;
    await expect(Promise.all([commands.invoke("history", {}, signal), commands.invoke("clock", {}, signal)])).resolves.toEqual([
      "history",
      "clock",
    ]);
    expect(reasons).toHaveLength(1);
  });

  it("uses custom messages from the start where there is no invoke", async () => {
    const model = answeringModel(() => "pong");
    const commands = new CommandInvoker(undefined, model);
    expect(commands.currentPath).toBe("custom_message");
    await expect(commands.invoke("clock", {}, new AbortController().signal)).resolves.toBe("pong");
  });

  it("keeps invoke after a timeout of its own: the signal's abort is the answer, not a broken invoke", async () => {
    const model = new FakeModel();
    const abort = new AbortController();
    const invoke = (_n: string, _m: unknown, options?: { signal?: AbortSignal }) =>
      new Promise<[unknown, DataView[]]>((_, reject) => {
        options?.signal?.addEventListener("abort", () => reject(new Error("cancelled")));
      });
    const commands = new CommandInvoker({ invoke } as unknown as Experimental, model);
    const pending = commands.invoke("mint_key", {}, abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(pending).rejects.toThrow("cancelled");
    expect(commands.currentPath).toBe("invoke");
    expect(model.sent).toEqual([]);
  });
});

describe("KernelClient over custom messages", () => {
  it("mints a key through the fallback path", async () => {
    const settings = { voice: "", instructions: "Be brief.", turn_detection: "server_vad" };
    const model = answeringModel(() => ({ ok: true, value: "ek_from_kernel", expires_at: 0, settings }));
    const kernel = new KernelClient(new CommandInvoker(marimoExperimental, model), () => undefined);
    await expect(kernel.mintKey(1)).resolves.toEqual({ value: "ek_from_kernel", settings });
  });

  it("times out after KERNEL_TIMEOUT_MS with kernel_timeout, as over invoke", async () => {
    vi.useFakeTimers();
    // AbortSignal.timeout runs on the platform's own timer, which fake timers do not drive.
    vi.spyOn(AbortSignal, "timeout").mockImplementation((ms) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), ms);
      return controller.signal;
    });
    const model = new FakeModel(); // nobody answers
    const kernel = new KernelClient(new CommandInvoker(undefined, model), () => undefined);
    const pending = kernel.mintKey(1);
    const failed = expect(pending).rejects.toSatisfy((e) => e instanceof ConnectFailure && e.code === "kernel_timeout");
    await vi.advanceTimersByTimeAsync(30_001);
    await failed;
  });

  it("reports the busy hint while a user-facing request waits, on the fallback path too", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const busy: boolean[] = [];
    const kernel = new KernelClient(new CommandInvoker(undefined, model), (b) => busy.push(b));
    const abort = new AbortController();
    const pending = kernel.mintKey(1, abort.signal).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1500);
    expect(busy).toEqual([true]);
    abort.abort();
    await pending;
    expect(busy).toEqual([true, false]);
  });
});
