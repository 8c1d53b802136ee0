// A peer connection made ready before the click: an audio sender still without its track (a widget made with
// microphone=False keeps one too, for widget.play()'s mixer), the "oai-events" channel, and the local offer set (its
// certificate made, its candidates gathering). A connect then starts with the POST of the offer. It asks for
// nothing (no microphone, no key, no call on the server), so it may be made as soon as the widget shows.

/** A prepared peer is replaced after this long unused, so its candidates stay those of the current network. */
export const PREPARED_PEER_MAX_AGE_MS = 4 * 60_000;

export interface PreparedPeer {
  pc: RTCPeerConnection;
  /** The audio sender; the mic's track joins it with `replaceTrack` once getUserMedia answers. A refused mic (or
   * microphone=False) leaves it without a track: it sends nothing until widget.play() puts its mixer's track in,
   * which needs no new offer. */
  sender: RTCRtpSender;
  dc: RTCDataChannel;
  /** The offer's SDP, without candidates (none are trickled: the server learns ours from our checks). */
  offerSdp(): string;
}

/** Makes the peer connection, its audio transceiver and data channel, and sets the local offer. */
export async function preparePeer(iceServers: RTCIceServer[]): Promise<PreparedPeer> {
  const pc = new RTCPeerConnection({ iceServers });
  try {
    // With or without a microphone the audio is sendrecv: a sender with no track sends nothing, and keeps the way
    // open for the mic's track or widget.play()'s mixer without a new offer.
    const { sender } = pc.addTransceiver("audio", { direction: "sendrecv" });
    // Created before the offer, so that the offer negotiates it.
    const dc = pc.createDataChannel("oai-events");
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // The offer as created, without the candidates gathered since: as at a connect made from scratch, the server
    // learns ours from our connectivity checks (prflx), so a server whose own candidates cannot be reached fails
    // ICE as it would without preparation, instead of reaching us the other way round.
    const sdp = offer.sdp ?? "";
    return { pc, sender, dc, offerSdp: () => sdp };
  } catch (error) {
    pc.close();
    throw error;
  }
}

/** Keeps at most one prepared peer for the next connect, for the ICE servers and microphone choice it was made
 * with. */
export class PeerPreparer {
  private pending: { peer: Promise<PreparedPeer>; shape: string; timer: ReturnType<typeof setTimeout> } | null =
    null;

  constructor(
    private readonly make: (iceServers: RTCIceServer[], microphone: boolean) => Promise<PreparedPeer> = preparePeer,
  ) {}

  /** Starts preparing a peer unless one is ready or on its way; does nothing without WebRTC. */
  prepare(iceServers: RTCIceServer[], microphone: boolean): void {
    const shape = JSON.stringify([iceServers, microphone]);
    if (this.pending !== null && this.pending.shape === shape) return;
    this.discard();
    if (typeof RTCPeerConnection === "undefined") return;
    const peer = this.make(iceServers, microphone);
    peer.catch(() => undefined); // a failed preparation just means the connect makes its own
    const timer = setTimeout(() => {
      this.discard();
      this.prepare(iceServers, microphone);
    }, PREPARED_PEER_MAX_AGE_MS);
    this.pending = { peer, shape, timer };
  }

  /** The prepared peer for these ICE servers and microphone choice, once; null when there is none (the connect
   * makes its own). */
  take(iceServers: RTCIceServer[], microphone: boolean): Promise<PreparedPeer> | null {
    const pending = this.pending;
    if (pending === null) return null;
    clearTimeout(pending.timer);
    this.pending = null;
    if (pending.shape === JSON.stringify([iceServers, microphone])) return pending.peer;
    void pending.peer.then((p) => p.pc.close(), () => undefined);
    return null;
  }

  /** Closes the unused prepared peer, if any. */
  discard(): void {
    const pending = this.pending;
    if (pending === null) return;
    clearTimeout(pending.timer);
    this.pending = null;
    void pending.peer.then((p) => p.pc.close(), () => undefined);
  }
}
