// Where the browser can open the Realtime WebSocket: the server's own URL (direct), or, for the kernel's local
// server on a machine the browser cannot reach (JupyterHub, Colab, a server over SSH), through the Jupyter server:
// jupyter-server-proxy's `<base_url>proxy/<port>/` (it forwards WebSockets and the requested subprotocols), or
// Colab's kernel port proxy (`google.colab.kernel.proxyPort(port)`, which resolves to the proxied origin).

export type RouteName = "direct" | "jupyter-proxy" | "colab-proxy";

export interface Route {
  name: RouteName;
  url: string;
}

/** What the page offers; read from the real page by `pageEnvironment()`, given directly in tests. */
export interface PageEnvironment {
  href: string;
  /** The Jupyter server's base URL from the page's `jupyter-config-data` (JupyterLab, Notebook 7), if any. */
  jupyterBaseUrl: string | null;
  /** Colab's `google.colab.kernel.proxyPort`, if the page has it. */
  colabProxyPort: ((port: number, options: { cache: boolean }) => Promise<string>) | null;
}

/** `http(s)://host/v1/realtime/calls` → `ws(s)://host/v1/realtime`: the same API base, its WebSocket endpoint. */
export function websocketUrl(callsUrl: string, base?: string): string {
  const url = new URL(callsUrl, base);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  url.pathname = url.pathname.replace(/\/calls\/?$/, "");
  url.search = "";
  url.hash = "";
  return url.toString();
}

function proxied(prefix: string, base: string): string {
  const url = new URL(prefix.endsWith("/") ? prefix : `${prefix}/`, base);
  url.pathname = `${url.pathname}v1/realtime`;
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/**
 * The kernel's local server's port when `callsUrl` points at it, else null: the proxy routes lead to that port on
 * the kernel's machine, so a calls URL pointing anywhere else (another server, a port changed by hand) has none.
 */
export function proxiablePort(callsUrl: string, localServerPort: number | null): number | null {
  if (localServerPort === null) return null;
  try {
    return Number(new URL(callsUrl).port) === localServerPort ? localServerPort : null;
  } catch {
    return null;
  }
}

/** The routes to try, in order: direct first; the proxies only for the kernel's local server (`port`). */
export async function candidateRoutes(callsUrl: string, port: number | null, page: PageEnvironment): Promise<Route[]> {
  const routes: Route[] = [{ name: "direct", url: websocketUrl(callsUrl, page.href) }];
  if (port === null) return routes;
  if (page.jupyterBaseUrl !== null) {
    routes.push({ name: "jupyter-proxy", url: proxied(`${page.jupyterBaseUrl}proxy/${port}/`, page.href) });
  }
  if (page.colabProxyPort !== null) {
    try {
      const origin = await page.colabProxyPort(port, { cache: false });
      routes.push({ name: "colab-proxy", url: proxied(origin, page.href) });
    } catch {
      // Not really Colab, or its proxy refused: the other routes stand.
    }
  }
  return routes;
}

interface ColabWindow {
  google?: { colab?: { kernel?: { proxyPort?: unknown } } };
}

/** The real page: its URL, Jupyter's config data and Colab's API, where present. */
export function pageEnvironment(): PageEnvironment {
  // Absent in the unit tests' Node, whose globalThis is not a Window.
  const page: Partial<Pick<Window, "document" | "location">> = globalThis;
  const doc = page.document;
  let jupyterBaseUrl: string | null = null;
  const config = doc?.getElementById("jupyter-config-data")?.textContent;
  if (config) {
    try {
      const parsed: unknown = JSON.parse(config);
      const base = (parsed as { baseUrl?: unknown }).baseUrl;
      if (typeof base === "string") jupyterBaseUrl = base.endsWith("/") ? base : `${base}/`;
    } catch {
      // Not Jupyter's config after all.
    }
  }
  const proxyPort = (globalThis as ColabWindow).google?.colab?.kernel?.proxyPort;
  return {
    href: page.location?.href ?? "http://localhost/",
    jupyterBaseUrl,
    colabProxyPort:
      typeof proxyPort === "function"
        ? (port, options) => (proxyPort as (p: number, o: { cache: boolean }) => Promise<string>)(port, options)
        : null,
  };
}
