// The Agents JS SDK's WebRTC transport (OpenAIRealtimeWebRTC), pointed at a local server with `baseUrl`.
// The SDK runs unchanged; the steps it takes inside connect() are timed by wrapping the browser APIs it calls
// (getUserMedia, RTCPeerConnection, fetch), so no SDK code is patched.
// window.runCall({base, apiKey}) resolves to {marks: {step: ms since the start}, callId}; window.hangUp() ends it.
import { OpenAIRealtimeWebRTC } from "@openai/agents-realtime";

let marks = null;
let t0 = 0;
const mark = (name) => {
  if (marks !== null && !(name in marks)) marks[name] = performance.now() - t0;
};
let firstAudio = () => undefined;

const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  mark("mic_start");
  const stream = await getUserMedia(constraints);
  mark("mic_ready");
  return stream;
};

const setLocalDescription = RTCPeerConnection.prototype.setLocalDescription;
RTCPeerConnection.prototype.setLocalDescription = async function (description) {
  const result = await setLocalDescription.call(this, description);
  if (description && description.type === "offer") mark("offer_created");
  return result;
};

const createDataChannel = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (label, options) {
  const dc = createDataChannel.call(this, label, options);
  dc.addEventListener("open", () => mark("dc_open"));
  dc.addEventListener("message", (e) => {
    if (JSON.parse(e.data).type === "session.updated") mark("session_updated");
  });
  const send = dc.send;
  dc.send = function (data) {
    if (typeof data === "string" && data.includes('"session.update"')) mark("session_update_sent");
    return send.call(this, data);
  };
  this.addEventListener("track", (e) => {
    e.track.addEventListener("unmute", () => { mark("first_audio"); firstAudio(); }, { once: true });
  });
  return dc;
};

const realFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  const response = await realFetch(input, init);
  if (url.endsWith("/realtime/calls")) mark("answer_received");
  return response;
};

let transport = null;

function hangUp() {
  if (transport !== null) transport.close();
  transport = null;
}

async function runCall({ base, apiKey, model = "gpt-realtime" }) {
  hangUp();
  marks = {};
  t0 = performance.now();
  const heard = new Promise((resolve) => { firstAudio = resolve; });
  mark("connect_requested");
  transport = new OpenAIRealtimeWebRTC({ baseUrl: `${base}/realtime/calls` });
  await transport.connect({
    model,
    initialSessionConfig: { instructions: "Be brief." },
    apiKey: async () => {
      mark("mint_start");
      const minted = await realFetch(`${base}/realtime/client_secrets`, {
        method: "POST",
        headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ session: { type: "realtime", model } }),
      });
      if (!minted.ok) throw new Error(`client_secrets: HTTP ${minted.status}`);
      const key = (await minted.json()).value;
      mark("mint_end");
      return key;
    },
  });
  mark("connected");
  await Promise.race([heard, new Promise((r) => setTimeout(r, 5000))]);
  const result = { marks, callId: transport.callId };
  marks = null;
  return result;
}

window.runCall = runCall;
window.hangUp = hangUp;
