// The minimum a page does to start a Realtime call over WebRTC, with a time mark at each step.
// window.runCall({base, apiKey}) resolves to {marks: {step: ms since the start}, callId}; window.hangUp() ends it.
// The standard key is in the page only because this is a local benchmark: a real page gets the ephemeral key
// from its own backend.
"use strict";

let current = null;

function hangUp() {
  if (current === null) return;
  const { pc, dc, stream, audio } = current;
  current = null;
  try { dc.close(); } catch (_) { /* already closed */ }
  for (const t of stream.getTracks()) t.stop();
  pc.close();
  audio.srcObject = null;
}

async function runCall({ base, apiKey, model = "gpt-realtime" }) {
  hangUp();
  const t0 = performance.now();
  const marks = {};
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now() - t0; };
  mark("connect_requested");

  mark("mint_start");
  const minted = await fetch(`${base}/realtime/client_secrets`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ session: { type: "realtime", model } }),
  });
  if (!minted.ok) throw new Error(`client_secrets: HTTP ${minted.status}`);
  const key = (await minted.json()).value;
  mark("mint_end");

  mark("mic_start");
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  mark("mic_ready");

  const pc = new RTCPeerConnection();
  const audio = document.createElement("audio");
  audio.autoplay = true;
  const firstAudio = new Promise((resolve) => {
    pc.ontrack = (e) => {
      audio.srcObject = e.streams[0];
      e.track.addEventListener("unmute", () => { mark("first_audio"); resolve(); }, { once: true });
    };
  });
  pc.addTrack(stream.getAudioTracks()[0], stream);
  const dc = pc.createDataChannel("oai-events");
  current = { pc, dc, stream, audio };
  const opened = new Promise((resolve) => dc.addEventListener("open", resolve, { once: true }));
  const updated = new Promise((resolve) => {
    dc.addEventListener("message", (e) => {
      if (JSON.parse(e.data).type === "session.updated") resolve();
    });
  });

  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  mark("offer_created");
  const answer = await fetch(`${base}/realtime/calls`, {
    method: "POST",
    body: offer.sdp,
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${key}` },
  });
  if (!answer.ok) throw new Error(`calls: HTTP ${answer.status}`);
  const callId = (answer.headers.get("Location") || "").split("/").pop();
  mark("answer_received");
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });

  await opened;
  mark("dc_open");
  dc.send(JSON.stringify({ type: "session.update", session: { type: "realtime", instructions: "Be brief." } }));
  mark("session_update_sent");
  await updated;
  mark("session_updated");
  mark("connected");
  await Promise.race([firstAudio, new Promise((r) => setTimeout(r, 5000))]);
  return { marks, callId };
}

window.runCall = runCall;
window.hangUp = hangUp;
