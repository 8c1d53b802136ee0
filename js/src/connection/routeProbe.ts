// Why a WebSocket route failed. A browser WebSocket that fails its handshake says only "1006": no status, no body.
// One plain HTTP request to the same URL (with the key as a header, as the API takes it) tells a refused
// connection from a login or error page that a proxy answered instead of the server, or a missing proxy route.

/** `ws(s)://…` → `http(s)://…`. */
export function httpUrl(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.toString();
}

/** A short reason in words, or null when the probe learnt nothing (the server may be fine and the socket not). */
export async function diagnoseRoute(wsUrl: string, key: string, signal: AbortSignal): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch(httpUrl(wsUrl), {
      headers: { Authorization: `Bearer ${key}` },
      signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]),
      credentials: "same-origin",
    });
  } catch (error) {
    if (signal.aborted) return null;
    const text = error instanceof Error ? error.message : String(error);
    return `not reachable (${text})`;
  }
  const type = response.headers.get("Content-Type") ?? "";
  await response.body?.cancel().catch(() => undefined);
  if (type.includes("text/html")) {
    return `answered with a web page (HTTP ${response.status}, HTML), not the realtime server`;
  }
  if (response.status === 404) return "not found (HTTP 404): no such route";
  if (response.status === 401 || response.status === 403) return `refused (HTTP ${response.status})`;
  return null;
}
