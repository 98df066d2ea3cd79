// The loopback test origin seen from workerd: its address, and its control port (what it recorded, releasing the next
// chunk of a held response, waiting until it has received some bytes of a request body, holding and releasing slow
// requests while counting how many are in flight, printing a line).
import { expect, inject } from "vitest";
import type { RecordedRequest, Script } from "./loopback-protocol.ts";

export { ORIGIN_MARK, ORIGIN_MARK_VALUE, type RecordedRequest, type Script } from "./loopback-protocol.ts";

/** host:port of the test origin, as a leak of its address would show it. */
export const testOriginHost = (): string => `127.0.0.1:${inject("testOriginPort")}`;
export const testOriginUrl = (): string => `http://${testOriginHost()}`;
/** host:port of the control port, which also plays a quota store in an outage under /store-down. */
export const testControlHost = (): string => `127.0.0.1:${inject("testOriginControlPort")}`;
const control = (path: string) => `http://${testControlHost()}${path}`;

async function controlJson<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(control(path), init);
  const text = await res.text();
  expect(res.status, `control ${path}: ${text}`).toBe(200);
  return JSON.parse(text) as T;
}

export interface Records {
  /** Index to ask from next time. */
  next: number;
  records: RecordedRequest[];
  /** Requests the origin's HTTP parser refused, since it started. */
  client_errors: number;
}

/** Requests the test origin recorded from index `since` on. */
export const recordedSince = (since: number): Promise<Records> =>
  controlJson<Records>(`/records?since=${since}`);

/** Lets the held response `id` send its next chunk; resolves once the origin has written it. */
export const releaseNextChunk = (id: string): Promise<{ sent: number; ended: boolean }> =>
  controlJson(`/gated/${id}/next`, { method: "POST" });

/** Resolves once the test origin has received at least `bytes` bytes of upload `id` (or its end). */
export const uploadReceived = (
  id: string,
  bytes: number,
): Promise<{ bytes: number; chunks: number; ended: boolean }> => controlJson(`/uploads/${id}?bytes=${bytes}`);

/** Prints `line` from the vitest main process (shown even under `vitest --silent`, which `npm run fuzz` uses). */
export async function printLine(line: string): Promise<void> {
  await controlJson(`/log`, { method: "POST", body: line });
}
/** Scripts the response of `/__loopback/scripted/<id>` (held after its first chunk when `hold`). */
export const scriptResponse = (id: string, script: Script): Promise<{ ok: true }> =>
  controlJson(`/scripts/${id}`, { method: "POST", body: JSON.stringify(script) });

/** The origin dies in the middle of held response `id`: its connection is destroyed. */
export const cutResponse = (id: string): Promise<{ cut: boolean }> =>
  controlJson(`/gated/${id}/cut`, { method: "POST" });

/** Resolves once the connection of scripted response `id` has closed (ended, cut, or dropped by the gateway). */
export const scriptedClosed = (id: string): Promise<{ closed: true }> => controlJson(`/scripts/${id}/closed`);

export interface SlowGroupState {
  arrived: number;
  finished: number;
  inflight: number;
  max_inflight: number;
  /** Tenant of each request that reached the origin, in arrival order. */
  order: string[];
}

/** Resolves once `arrived` slow requests of `group` have reached the test origin; returns the group's counts. */
export const slowArrived = (group: string, arrived: number): Promise<SlowGroupState> =>
  controlJson(`/slow/${group}?arrived=${arrived}`);

/** Lets the test origin answer the `count` oldest held requests of `group` (all when not given). */
export const releaseSlow = (group: string, count?: number): Promise<{ released: number }> =>
  controlJson(`/slow/${group}/release${count === undefined ? "" : `?count=${count}`}`, { method: "POST" });
