// Starts and stops a private redis-server on a free loopback port (never 6379), for tests, `npm run dev:redis`, the
// benchmark and the outage drills (which kill it and start it again on the same port and data).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

export type RedisServer = {
  url: string;
  port: number;
  /** Its data directory. */
  dir: string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no shutdown save. A directory the caller gave stays for a restart. */
  kill(): Promise<void>;
};

export type RedisServerOptions = {
  /** Listen on this loopback port (to start again where clients expect it); default a free one. */
  port?: number;
  /** Keep the data here and leave it on stop (a restart on it reloads it); default a temporary directory, removed. */
  dir?: string;
  /** An append-only file synced on every write, so a crash loses nothing Redis answered; default no persistence. */
  durable?: boolean;
};

/** The binary to run; REDIS_SERVER_BIN lets a machine point at a build outside PATH (or at none, to try a run without). */
const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
/** How to get redis-server on the Debian/Ubuntu machines this project runs on. */
export const REDIS_INSTALL_COMMAND = "apt-get install -y redis-server";
const PING_ATTEMPTS = 200;
const PING_INTERVAL_MS = 25;

let available: boolean | undefined;

/** Whether redis-server can be run here (checked once per process). */
export function redisAvailable(): boolean {
  if (available === undefined) {
    const probe = spawnSync(REDIS_SERVER_BIN, ["--version"], { stdio: "ignore" });
    available = probe.error === undefined && probe.status === 0;
  }
  return available;
}

/** Why redis-server cannot run here, with the install command; undefined when it can. */
export function redisMissingReason(): string | undefined {
  if (redisAvailable()) return undefined;
  return `redis-server not found (tried "${REDIS_SERVER_BIN}"): install it with ${REDIS_INSTALL_COMMAND}`;
}

/**
 * Whether this run must have redis-server: in CI (env CI set, and not "false") a missing binary
 * fails the Redis-backed suites, because a silently skipped suite would pass the build.
 */
export function redisRequired(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

/** Asks the OS for a free loopback port. The port is released before redis-server binds it, hence the retry in startRedisServer. */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port === 6379 || port === 0 ? reject(new Error("no usable port")) : resolve(port)));
    });
  });
}

/** One PING over a raw socket; true when the answer is +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function startOnce(opts: RedisServerOptions): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "quotagate-redis-"));
  const persistence = opts.durable
    ? ["--appendonly", "yes", "--appendfsync", "always"]
    : ["--appendonly", "no"];
  // A private instance: loopback only, no snapshots, nothing written outside `dir`.
  const child = spawn(
    REDIS_SERVER_BIN,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      ...persistence,
      "--protected-mode",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--logfile",
      "",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const keepLog = (chunk: Buffer): void => {
    log = (log + chunk.toString("utf8")).slice(-4_000);
  };
  child.stdout?.on("data", keepLog);
  child.stderr?.on("data", keepLog);
  // Never leave a redis-server behind if the test process dies without calling stop().
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const cleanup = (): void => {
    process.off("exit", killOnExit);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  for (let attempt = 0; attempt < PING_ATTEMPTS; attempt += 1) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await ping(port)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        dir,
        async kill() {
          const gone = exited(child);
          child.kill("SIGKILL");
          await gone;
          cleanup();
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = exited(child);
            child.kill("SIGTERM");
            const escalate = setTimeout(() => child.kill("SIGKILL"), 5_000);
            await gone;
            clearTimeout(escalate);
          }
          cleanup();
        },
      };
    }
    await delay(PING_INTERVAL_MS);
  }
  child.kill("SIGKILL");
  await exited(child);
  cleanup();
  throw new Error(`redis-server did not answer PING on port ${port}:\n${log}`);
}

/** Spawns a private redis-server on a loopback port (a free one unless given, never 6379) and resolves once it answers
 * PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  if (opts.port === 6379) throw new Error("refusing port 6379: that is where a real Redis lives");
  let lastError: unknown;
  // The free port can be taken between probing and binding; a fresh port usually fixes that (a given port is retried).
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(opts);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
