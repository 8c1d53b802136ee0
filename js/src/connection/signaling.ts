// The one HTTP exchange of a connect: the SDP offer to the calls endpoint, the answer and the call id back.
// Errors become codes a person can act on, keeping the server's own message (ConnectFailure redacts keys in it).
import { Aborted, ConnectFailure } from "./errors";

function statusFailure(status: number, detail: string): ConnectFailure {
  const text = `(HTTP ${status}) ${detail}`.trim();
  // Only ephemeral keys reach the browser, and the kernel's own key has just minted this one: a 401 here is the
  // ephemeral key's (expired, or revoked), which a fresh key fixes, unlike a wrong standard key (bad_key).
  if (status === 401) return new ConnectFailure("key_rejected", detail);
  if (status === 403) return new ConnectFailure("no_access", detail);
  if (status === 429) return new ConnectFailure("rate_limited", detail);
  if (status >= 500) return new ConnectFailure("server_error", text);
  return new ConnectFailure("sdp_rejected", text);
}

/** The server's `{"error": {"message"}}`, else its text, cut short. */
async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    const message = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
    if (typeof message === "string") return message.slice(0, 300);
  } catch {
    // not JSON
  }
  return text.slice(0, 300);
}

// The unit tests run in Node, whose globalThis is not a Window and has no location.
const page: Partial<Pick<Window, "location">> = globalThis;

function originOf(url: string): string {
  try {
    return new URL(url, page.location?.href).origin;
  } catch {
    return url;
  }
}

export interface Answer {
  sdp: string;
  callId: string | null;
  status: number;
}

/** POSTs the offer with the ephemeral key. The key lives only in this call's arguments. */
export async function postOffer(url: string, sdp: string, key: string, signal: AbortSignal): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      body: sdp,
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${key}` },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw new Aborted();
    const text = error instanceof Error ? error.message : String(error);
    throw new ConnectFailure("network", `${text} (${originOf(url)}).`);
  }
  if (!response.ok) throw statusFailure(response.status, await errorDetail(response));
  const location_ = response.headers.get("Location");
  const callId = location_ === null ? null : (location_.split("/").pop() ?? null);
  return { sdp: await response.text(), callId, status: response.status };
}
