// Demo origin: a loopback HTTP API for `npm run dev`, the end-to-end tests and the benchmark. It echoes what it
// receives, streams, redirects and fails on request, and answers an OpenAI-compatible chat completion (JSON or SSE)
// with deterministic usage.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { chatCompletion } from "./demo-chat.ts";

export interface DemoOrigin {
  url: string;
  port: number;
  /** Requests received, for tests that count what reached the origin. */
  requests(): number;
  close(): Promise<void>;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  // An origin-form target is a path even when it starts with `//` (resolving it would read a host out of it).
  const target = req.url ?? "/";
  const url = new URL(
    target.startsWith("/") ? `http://origin.local${target}` : target,
    "http://origin.local",
  );
  const path = url.pathname;
  if (path === "/v1/chat/completions" && req.method === "POST") {
    chatCompletion(req, res);
    return;
  }
  if (path === "/echo-body") {
    // Streams the request body straight back, chunk by chunk.
    res.writeHead(200, {
      "content-type": req.headers["content-type"] ?? "application/octet-stream",
      "x-origin": "demo",
    });
    req.pipe(res);
    return;
  }
  if (path === "/stream") {
    const chunks = Math.min(1000, Number(url.searchParams.get("chunks") ?? 5));
    res.writeHead(200, { "content-type": "text/plain", "x-origin": "demo" });
    let i = 0;
    const next = () => {
      if (i >= chunks) return void res.end();
      res.write(`chunk ${i++}\n`, () => setImmediate(next));
    };
    next();
    return;
  }
  if (path === "/redirect") {
    res.writeHead(302, { location: "/elsewhere", "x-origin": "demo" });
    res.end();
    return;
  }
  if (path.endsWith("/redirect-to")) {
    // An absolute redirect naming the origin itself, as origins unaware of the gateway in front of them send.
    const to = `http://${req.headers.host}${url.searchParams.get("to") ?? "/internal/elsewhere"}`;
    res.writeHead(302, { location: to, "content-location": to, "x-origin": "demo" });
    res.end();
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) {
    res.writeHead(Number(status[1]), { "content-type": "application/json", "x-origin": "demo" });
    res.end(JSON.stringify({ status: Number(status[1]) }));
    return;
  }
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
  });
  req.on("end", () => {
    res.writeHead(200, {
      "content-type": "application/json",
      "x-origin": "demo",
      // A header this hop alone is meant to see: the gateway must not relay it to the client (RFC 9110 §7.6.1).
      connection: "keep-alive, X-Origin-Hop",
      "keep-alive": "timeout=5",
      "x-origin-hop": "origin-only",
    });
    res.end(
      JSON.stringify({
        ok: true,
        method: req.method,
        path,
        target,
        query: url.search,
        headers: req.headers,
        body_bytes: size,
      }),
    );
  });
}

export async function startDemoOrigin(port = 0, host = "127.0.0.1"): Promise<DemoOrigin> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
