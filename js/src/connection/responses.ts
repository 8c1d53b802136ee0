// One response at a time in the conversation, as the API requires: a `response.create` sent while another response
// is in progress is refused (`conversation_already_has_active_response`). A tool's follow-up or a typed message can
// arrive while a VAD-started response is still running, so requests wait their turn here, as the Agents SDK's
// WebRTC transport holds them (`responseCreateSequencer` in @openai/agents-realtime's openaiRealtimeWebRtc.ts).
import type { RealtimeEvent } from "../types";

const ALREADY_ACTIVE = "conversation_already_has_active_response";

function inConversation(event: RealtimeEvent): boolean {
  const params = event["response"] as { conversation?: unknown } | undefined;
  return params?.conversation !== "none";
}

function createdInConversation(event: RealtimeEvent): boolean {
  const response = event["response"] as { conversation_id?: unknown } | undefined;
  // Out-of-band responses (conversation "none") carry no conversation id and run beside the conversation's own.
  return response?.conversation_id !== null;
}

export class ResponseSequencer {
  /** A response in the conversation is in progress (from `response.created` to `response.done`). */
  private active = false;
  /** A `response.create` that was sent and has not been answered yet (by `response.created` or an `error`). */
  private requested: RealtimeEvent | null = null;
  private readonly waiting: RealtimeEvent[] = [];

  /** `send` puts an event on the channel (it already carries its event_id). */
  constructor(private readonly send: (event: RealtimeEvent) => void) {}

  /** How many `response.create`s are waiting for the current response to finish. */
  get held(): number {
    return this.waiting.length;
  }

  /** Sends a `response.create` now, or once no response is in progress. Out-of-band requests never wait. */
  request(create: RealtimeEvent): void {
    if (!inConversation(create)) {
      this.send(create);
      return;
    }
    this.waiting.push(create);
    this.next();
  }

  /** Follows the server's side of the conversation. */
  onServerEvent(event: RealtimeEvent): void {
    switch (event.type) {
      case "response.created":
        if (createdInConversation(event)) {
          this.active = true;
          this.requested = null;
        }
        break;
      case "response.done":
        if (createdInConversation(event)) {
          this.active = false;
          this.requested = null;
          this.next();
        }
        break;
      case "error":
        this.onError(event);
        break;
    }
  }

  /** The channel is gone: nothing waiting will be sent. */
  reset(): void {
    this.active = false;
    this.requested = null;
    this.waiting.length = 0;
  }

  private onError(event: RealtimeEvent): void {
    const error = event["error"] as { event_id?: unknown; code?: unknown } | undefined;
    const requested = this.requested;
    if (requested === null || error === undefined || error.event_id !== requested.event_id) return;
    this.requested = null;
    if (error.code === ALREADY_ACTIVE) {
      // A response we had not heard of yet (its response.created is on the way): try again after it is done.
      this.active = true;
      this.waiting.unshift(requested);
      return;
    }
    this.next();
  }

  private next(): void {
    if (this.active || this.requested !== null) return;
    const create = this.waiting.shift();
    if (create === undefined) return;
    this.requested = create;
    this.send(create);
  }
}
