// Loopback test origin (Node) with a control server on a port of its own: it records every request it serves (for the
// fuzz suite), sends a response one chunk per control call, reports the bytes of a request body as they arrive (for
// the streaming tests) and holds slow requests until told to answer them, counting how many are in flight at once
// (for the concurrency tests), so tests coordinate with it through the control port instead of sleeping. The control
// port also plays a quota store in an outage and prints lines for tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ORIGIN_MARK, ORIGIN_MARK_VALUE, type RecordedRequest, type Script } from "./loopback-protocol.ts";

export interface LoopbackOrigin {
  originPort: number;
  controlPort: number;
  close(): Promise<void>;
}

/** A response held open: chunk k + 1 goes out when the control port is told `next`. */
interface Gate {
  res: ServerResponse;
  sent: number;
  chunks: string[];
}

/** A request body being received: bytes so far, and the control calls waiting for a count. */
interface Upload {
  bytes: number;
  chunks: number;
  ended: boolean;
  waiters: Array<{ atLeast: number; answer: () => void }>;
}

/** A group of slow requests: held until released, counted while in flight. */
interface SlowGroup {
  arrived: number;
  finished: number;
  inflight: number;
  maxInflight: number;
  /** Tenant (X-Quotagate-Tenant) of each arrival, in order. */
  order: string[];
  held: Array<() => void>;
  waiters: Array<{ atLeast: number; answer: () => void }>;
}

const gateChunk = (k: number) => `chunk ${k}\n`;

class OriginState {
  readonly records: RecordedRequest[] = [];
  /** Requests Node's HTTP parser refused before a handler saw them (answered 400 by this origin, marked). */
  clientErrors = 0;
  readonly gates = new Map<string, Gate>();
  readonly scripts = new Map<string, Script>();
  /** Scripted responses whose connection has closed (ended, cut, or dropped by the client), and who waits for that. */
  readonly closed = new Set<string>();
  readonly closeWaiters = new Map<string, Array<() => void>>();

  markClosed(id: string): void {
    this.closed.add(id);
    for (const w of this.closeWaiters.get(id) ?? []) w();
    this.closeWaiters.delete(id);
  }
  readonly uploads = new Map<string, Upload>();
  readonly slow = new Map<string, SlowGroup>();

  slowGroup(id: string): SlowGroup {
    let g = this.slow.get(id);
    if (!g) {
      g = { arrived: 0, finished: 0, inflight: 0, maxInflight: 0, order: [], held: [], waiters: [] };
      this.slow.set(id, g);
    }
    return g;
  }

  wakeSlow(g: SlowGroup): void {
    const ready = g.waiters.filter((w) => g.arrived >= w.atLeast);
    g.waiters = g.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.answer();
  }

  upload(id: string): Upload {
    let u = this.uploads.get(id);
    if (!u) {
      u = { bytes: 0, chunks: 0, ended: false, waiters: [] };
      this.uploads.set(id, u);
    }
    return u;
  }

  wake(u: Upload): void {
    const ready = u.waiters.filter((w) => u.ended || u.bytes >= w.atLeast);
    u.waiters = u.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.answer();
  }
}

const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...extra });
  res.end(JSON.stringify(body));
};

/**
 * `/__loopback/gated/<id>?chunks=n`: chunk 0 at once, each further chunk on a control call; `/__loopback/upload/<id>`:
 * counts the body as it arrives; anything else is recorded and answered 200 (or NNN for a `/status/NNN` segment).
 */
function serveOrigin(state: OriginState, req: IncomingMessage, res: ServerResponse): void {
  const target = req.url ?? "/";
  const mark = { [ORIGIN_MARK]: ORIGIN_MARK_VALUE };
  const gated = /^\/__loopback\/gated\/([\w-]+)$/.exec(target.split("?")[0]!);
  if (gated) {
    const total = Math.max(1, Number(new URL(target, "http://o").searchParams.get("chunks") ?? 3));
    res.writeHead(200, { "content-type": "text/plain", ...mark });
    if (total === 1) return void res.end(gateChunk(0));
    state.gates.set(gated[1]!, {
      res,
      sent: 1,
      chunks: Array.from({ length: total }, (_, k) => gateChunk(k)),
    });
    res.write(gateChunk(0));
    return;
  }
  const scripted = /^\/__loopback\/scripted\/([\w-]+)$/.exec(target.split("?")[0]!);
  if (scripted) {
    serveScript(state, scripted[1]!, req, res);
    return;
  }
  // Anywhere in the path: a gateway whose ORIGIN_URL has a path prefix (an origin of its own) reaches it too.
  const slow = /\/__loopback\/slow\/([\w-]+)\/[\w-]+$/.exec(target.split("?")[0]!);
  if (slow) {
    serveSlow(state, state.slowGroup(slow[1]!), req, res, mark);
    return;
  }
  const upload = /^\/__loopback\/upload\/([\w-]+)$/.exec(target.split("?")[0]!);
  if (upload) {
    const u = state.upload(upload[1]!);
    req.on("data", (c: Buffer) => {
      u.bytes += c.length;
      u.chunks++;
      state.wake(u);
    });
    req.on("end", () => {
      u.ended = true;
      state.wake(u);
      json(res, 200, { bytes: u.bytes, chunks: u.chunks }, mark);
    });
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    state.records.push({
      method: req.method ?? "",
      target,
      headers: req.rawHeaders,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    // `/status/NNN` anywhere in the path: answer with that status (600-999 are not relayable by a Worker).
    const status = /\/status\/(\d{3})(?:\/|$)/.exec(target.split("?")[0]!);
    const code = status ? Number(status[1]) : 200;
    json(res, Math.max(code, 200), { ok: true }, mark);
  });
}

/** Records the request (body included), then answers as scripted: every chunk at once, or one per control call. */
function serveScript(state: OriginState, id: string, req: IncomingMessage, res: ServerResponse): void {
  const body: Buffer[] = [];
  req.on("data", (c: Buffer) => body.push(c));
  req.on("end", () => {
    state.records.push({
      method: req.method ?? "",
      target: req.url ?? "/",
      headers: req.rawHeaders,
      body: Buffer.concat(body).toString("utf8"),
    });
    const script = state.scripts.get(id);
    if (!script) {
      json(res, 404, { error: `no script ${id}` }, { [ORIGIN_MARK]: ORIGIN_MARK_VALUE });
      return;
    }
    res.on("close", () => state.markClosed(id));
    res.writeHead(script.status ?? 200, { ...script.headers, [ORIGIN_MARK]: ORIGIN_MARK_VALUE });
    const chunks = script.chunks;
    if (!script.hold || chunks.length <= 1) {
      for (const c of chunks) res.write(c);
      res.end();
      return;
    }
    state.gates.set(id, { res, sent: 1, chunks });
    res.write(chunks[0]);
  });
}

/**
 * `/__loopback/slow/<group>/<n>?hold=headers|body`: held until the control port releases it, with nothing sent
 * (`headers`, the default) or with its headers and a first line sent and the end held (`body`).
 */
function serveSlow(
  state: OriginState,
  g: SlowGroup,
  req: IncomingMessage,
  res: ServerResponse,
  mark: Record<string, string>,
): void {
  const holdBody = new URL(req.url ?? "/", "http://o").searchParams.get("hold") === "body";
  const tenant = req.headers["x-quotagate-tenant"];
  g.arrived++;
  g.inflight++;
  g.maxInflight = Math.max(g.maxInflight, g.inflight);
  g.order.push(typeof tenant === "string" ? tenant : "");
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    g.inflight--;
    g.finished++;
  };
  // A request whose client went away is no longer in flight.
  res.on("close", finish);
  if (holdBody) {
    res.writeHead(200, { "content-type": "text/plain", ...mark });
    res.write("start\n");
  }
  g.held.push(() => {
    if (holdBody) res.end("end\n", finish);
    else {
      res.writeHead(200, { "content-type": "text/plain", ...mark });
      res.end("slow\n", finish);
    }
  });
  state.wakeSlow(g);
}

function serveControl(state: OriginState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://control");
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] === "records" && req.method === "GET") {
    const since = Number(url.searchParams.get("since") ?? 0);
    json(res, 200, {
      next: state.records.length,
      records: state.records.slice(since),
      client_errors: state.clientErrors,
    });
    return;
  }
  if (parts[0] === "gated" && parts[2] === "next" && req.method === "POST") {
    const gate = state.gates.get(parts[1]!);
    if (!gate) {
      json(res, 404, { error: "no such gated response" });
      return;
    }
    const k = gate.sent++;
    const ended = gate.sent >= gate.chunks.length;
    if (ended) state.gates.delete(parts[1]!);
    // Answers once the chunk (and the end of the response after the last one) has been handed to the socket.
    const answer = () => json(res, 200, { sent: gate.sent, ended });
    if (ended) gate.res.end(gate.chunks[k], answer);
    else gate.res.write(gate.chunks[k], answer);
    return;
  }
  if (parts[0] === "gated" && parts[2] === "cut" && req.method === "POST") {
    // The origin dies mid-response: its connection is destroyed without finishing the body.
    const gate = state.gates.get(parts[1]!);
    state.gates.delete(parts[1]!);
    gate?.res.destroy();
    json(res, gate ? 200 : 404, { cut: gate !== undefined });
    return;
  }
  if (parts[0] === "scripts" && parts[1] && req.method === "POST") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.scripts.set(parts[1]!, JSON.parse(Buffer.concat(chunks).toString("utf8")) as Script);
      json(res, 200, { ok: true });
    });
    return;
  }
  if (parts[0] === "scripts" && parts[2] === "closed" && req.method === "GET") {
    // Long poll: answers once the scripted response's connection has closed.
    const id = parts[1]!;
    const answer = () => json(res, 200, { closed: true });
    if (state.closed.has(id)) answer();
    else state.closeWaiters.set(id, [...(state.closeWaiters.get(id) ?? []), answer]);
    return;
  }
  if (parts[0] === "uploads" && req.method === "GET") {
    // Long poll: answers once the origin has received at least `bytes` bytes of this upload (or its end).
    const u = state.upload(parts[1]!);
    const atLeast = Number(url.searchParams.get("bytes") ?? 1);
    const answer = () => json(res, 200, { bytes: u.bytes, chunks: u.chunks, ended: u.ended });
    u.waiters.push({ atLeast, answer });
    state.wake(u);
    return;
  }
  if (parts[0] === "store-down") {
    // A quota store in an outage: every Upstash REST call under /store-down fails (without the connection-refused
    // noise workerd logs for a closed port).
    req.resume();
    json(res, 503, { error: "loopback store is down" });
    return;
  }
  if (parts[0] === "log" && req.method === "POST") {
    // A line from a test, printed by this (the vitest main) process: it shows even when vitest silences test output.
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      text += c;
    });
    req.on("end", () => {
      console.log(text);
      json(res, 200, { ok: true });
    });
    return;
  }
  if (parts[0] === "slow" && parts[1] && req.method === "GET") {
    // Long poll: answers once `arrived` requests of the group have reached the origin.
    const g = state.slowGroup(parts[1]);
    const atLeast = Number(url.searchParams.get("arrived") ?? 0);
    const answer = () =>
      json(res, 200, {
        arrived: g.arrived,
        finished: g.finished,
        inflight: g.inflight,
        max_inflight: g.maxInflight,
        order: g.order,
      });
    g.waiters.push({ atLeast, answer });
    state.wakeSlow(g);
    return;
  }
  if (parts[0] === "slow" && parts[1] && parts[2] === "release" && req.method === "POST") {
    // Answers the `count` oldest held requests of the group (all by default).
    const g = state.slowGroup(parts[1]);
    const count = Number(url.searchParams.get("count") ?? g.held.length);
    const released = g.held.splice(0, count);
    for (const r of released) r();
    json(res, 200, { released: released.length });
    return;
  }
  json(res, 404, { error: "unknown control route" });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return (server.address() as AddressInfo).port;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export async function startLoopbackOrigin(): Promise<LoopbackOrigin> {
  const state = new OriginState();
  // Header limits far above any client's: an oversized header reaches the handler instead of Node's unmarked 431.
  const origin = createServer({ maxHeaderSize: 4 * 1024 * 1024 }, (req, res) => serveOrigin(state, req, res));
  origin.on("clientError", (_err: Error, socket: Socket) => {
    state.clientErrors++;
    if (socket.writable)
      socket.end(
        `HTTP/1.1 400 Bad Request\r\n${ORIGIN_MARK}: ${ORIGIN_MARK_VALUE}\r\nconnection: close\r\n\r\n`,
      );
  });
  const control = createServer((req, res) => serveControl(state, req, res));
  const [originPort, controlPort] = [await listen(origin), await listen(control)];
  return {
    originPort,
    controlPort,
    close: async () => {
      for (const gate of state.gates.values()) gate.res.destroy();
      for (const g of state.slow.values()) for (const r of g.held.splice(0)) r();
      await Promise.all([closeServer(origin), closeServer(control)]);
    },
  };
}
