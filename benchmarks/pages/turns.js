// A Realtime call over WebRTC, as a page makes it, that times what the page hears of each reply.
// window.runTurns({base, apiKey, session, seconds}) connects (ephemeral key, getUserMedia, offer POST, the
// "oai-events" channel), listens for `seconds` while the fake microphone speaks its turns, hangs up, and resolves to
// {events, onsets, stats, outputLatencyMs}: every server event's type and arrival (epoch ms), each onset of
// reply audio as played (epoch ms of the first 128-sample block over a level, after 200 ms under it), and the
// inbound audio RTP's jitter-buffer counters every 100 ms. One clock for all: performance.timeOrigin + now().
// The standard key is in the page only because this is a local benchmark.
"use strict";

const clock = () => performance.timeOrigin + performance.now();

// Runs on the audio rendering thread: the remote track's audio as it leaves the browser's jitter buffer for the
// speakers. Posts the context frame of each onset (a block over the level after QUIET_BLOCKS blocks under it),
// for two levels: any sound above the noise floor, and loud speech (RMS over 1000 of 32767, as the aiortc mode).
const WORKLET = `
const LEVELS = { sound: 64 / 32768, loud: 1000 / 32768 };
const QUIET_BLOCKS = Math.ceil(0.2 * sampleRate / 128);
class Onsets extends AudioWorkletProcessor {
  constructor() { super(); this.quiet = { sound: QUIET_BLOCKS, loud: QUIET_BLOCKS }; }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    let sum = 0, peak = 0;
    for (let i = 0; i < channel.length; i++) { const v = channel[i]; sum += v * v; peak = Math.max(peak, Math.abs(v)); }
    const measure = { sound: peak, loud: Math.sqrt(sum / channel.length) };
    for (const kind of ["sound", "loud"]) {
      if (measure[kind] > LEVELS[kind]) {
        if (this.quiet[kind] >= QUIET_BLOCKS) this.port.postMessage({ kind, frame: currentFrame });
        this.quiet[kind] = 0;
      } else this.quiet[kind] += 1;
    }
    return true;
  }
}
registerProcessor("onsets", Onsets);
`;

async function listen(stream, onsets) {
  const context = new AudioContext();
  const url = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
  await context.audioWorklet.addModule(url);
  const node = new AudioWorkletNode(context, "onsets");
  node.port.onmessage = (e) => {
    // The block at context frame f is heard when the output reaches it: map through the output's own timestamp.
    const now = context.getOutputTimestamp();
    const heardAt = performance.timeOrigin + now.performanceTime + (e.data.frame / context.sampleRate - now.contextTime) * 1000;
    onsets.push({ kind: e.data.kind, t: heardAt });
  };
  context.createMediaStreamSource(stream).connect(node);
  await context.resume();
  return context;
}

async function jitterSample(pc, stats) {
  const report = await pc.getStats();
  for (const s of report.values()) {
    if (s.type !== "inbound-rtp" || s.kind !== "audio") continue;
    stats.push({
      t: clock(),
      delay: s.jitterBufferDelay ?? null,
      target: s.jitterBufferTargetDelay ?? null,
      emitted: s.jitterBufferEmittedCount ?? null,
    });
  }
}

async function runTurns({ base, apiKey, session, seconds }) {
  const minted = await fetch(`${base}/realtime/client_secrets`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ session }),
  });
  if (!minted.ok) throw new Error(`client_secrets: HTTP ${minted.status}`);
  const key = (await minted.json()).value;
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = new RTCPeerConnection();
  const events = [];
  const onsets = [];
  const stats = [];
  // Played through an audio element, as a page does (Chromium feeds Web Audio from a remote track only then).
  const audio = document.createElement("audio");
  audio.autoplay = true;
  let context = null;
  const tracked = new Promise((resolve) => {
    pc.ontrack = (e) => {
      audio.srcObject = e.streams[0];
      void listen(e.streams[0], onsets).then((c) => { context = c; resolve(); });
    };
  });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const dc = pc.createDataChannel("oai-events");
  dc.addEventListener("message", (e) => events.push({ t: clock(), type: JSON.parse(e.data).type }));
  const opened = new Promise((resolve) => dc.addEventListener("open", resolve, { once: true }));
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await fetch(`${base}/realtime/calls`, {
    method: "POST",
    body: pc.localDescription.sdp,
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${key}` },
  });
  if (!answer.ok) throw new Error(`calls: HTTP ${answer.status}`);
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
  await opened;
  await tracked;
  const timer = setInterval(() => void jitterSample(pc, stats), 100);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  const outputLatencyMs = context === null ? null : ((context.outputLatency || 0) + context.baseLatency) * 1000;
  dc.close();
  for (const t of mic.getTracks()) t.stop();
  pc.close();
  audio.srcObject = null;
  if (context !== null) await context.close();
  return { events, onsets, stats, outputLatencyMs };
}

window.runTurns = runTurns;
