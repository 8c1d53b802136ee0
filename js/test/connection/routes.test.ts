import { describe, expect, it } from "vitest";
import { candidateRoutes, proxiablePort, websocketUrl, type PageEnvironment } from "../../src/connection/routes";
import { httpUrl } from "../../src/connection/routeProbe";

const CALLS = "http://127.0.0.1:8123/v1/realtime/calls";

function page(overrides: Partial<PageEnvironment> = {}): PageEnvironment {
  return { href: "https://hub.example/user/ada/lab", jupyterBaseUrl: null, colabProxyPort: null, ...overrides };
}

describe("websocketUrl", () => {
  it("maps the calls URL to the realtime WebSocket on the same base", () => {
    expect(websocketUrl(CALLS)).toBe("ws://127.0.0.1:8123/v1/realtime");
    expect(websocketUrl("https://api.openai.com/v1/realtime/calls")).toBe("wss://api.openai.com/v1/realtime");
  });

  it("and back for the probe", () => {
    expect(httpUrl("wss://hub.example/proxy/1/v1/realtime")).toBe("https://hub.example/proxy/1/v1/realtime");
  });
});

describe("candidateRoutes", () => {
  it("is direct only for a server that is not the kernel's local server", async () => {
    const routes = await candidateRoutes(CALLS, null, page({ jupyterBaseUrl: "/user/ada/" }));
    expect(routes.map((r) => r.name)).toEqual(["direct"]);
  });

  it("adds jupyter-server-proxy under the Jupyter base URL, on the page's own scheme", async () => {
    const routes = await candidateRoutes(CALLS, 8123, page({ jupyterBaseUrl: "/user/ada/" }));
    expect(routes).toEqual([
      { name: "direct", url: "ws://127.0.0.1:8123/v1/realtime" },
      { name: "jupyter-proxy", url: "wss://hub.example/user/ada/proxy/8123/v1/realtime" },
    ]);
  });

  it("adds Colab's port proxy, and survives its refusal", async () => {
    const colab = page({ colabProxyPort: (port) => Promise.resolve(`https://${port}-abc.colab.dev/`) });
    const routes = await candidateRoutes(CALLS, 8123, colab);
    expect(routes.at(-1)).toEqual({ name: "colab-proxy", url: "wss://8123-abc.colab.dev/v1/realtime" });

    const refusing = page({ colabProxyPort: () => Promise.reject(new Error("no")) });
    expect((await candidateRoutes(CALLS, 8123, refusing)).map((r) => r.name)).toEqual(["direct"]);
  });
});

describe("proxiablePort", () => {
  it("is the local server's port only when the calls URL points at it", () => {
    expect(proxiablePort(CALLS, 8123)).toBe(8123);
    expect(proxiablePort(CALLS, 9999)).toBeNull();
    expect(proxiablePort(CALLS, null)).toBeNull();
    expect(proxiablePort("not a url", 8123)).toBeNull();
  });
});
