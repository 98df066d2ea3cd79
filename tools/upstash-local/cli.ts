// Command line entry for the local Upstash REST server: parses flags, starts it, stops it cleanly on SIGINT/SIGTERM.

import { parseArgs } from "node:util";
import { checkDelayMs } from "./delay.ts";
import { BodyError } from "./request-body.ts";
import { startUpstashLocal } from "./server.ts";

const USAGE = `usage: node tools/upstash-local/cli.ts --redis redis://127.0.0.1:6390 [--port 8079] [--host 127.0.0.1] [--delay-ms 0] --token <token>
  --redis     redis-server URL (env UPSTASH_LOCAL_REDIS, default redis://127.0.0.1:6379)
  --port      HTTP port, 0 for a free one (env UPSTASH_LOCAL_PORT, default 8079)
  --host      interface to listen on (env UPSTASH_LOCAL_HOST, default 127.0.0.1)
  --token     bearer token clients must send (env UPSTASH_LOCAL_TOKEN, required)
  --delay-ms  wait before every command request, to play a slow store (env UPSTASH_LOCAL_DELAY_MS, default 0: off;
              POST /__delay changes it while running)`;

function fail(message: string): never {
  console.error(`upstash-local: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: {
    redis?: string | undefined;
    port?: string | undefined;
    host?: string | undefined;
    token?: string | undefined;
    "delay-ms"?: string | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      options: {
        redis: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        token: { type: "string" },
        "delay-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  const redisUrl = values.redis ?? env.UPSTASH_LOCAL_REDIS ?? "redis://127.0.0.1:6379";
  const portText = values.port ?? env.UPSTASH_LOCAL_PORT ?? "8079";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`invalid port: ${portText}`);
  const token = values.token ?? env.UPSTASH_LOCAL_TOKEN;
  // No default token: a well-known secret on a listening port is how dev tools end up exposed.
  if (token === undefined || token === "") fail("a token is required (--token or UPSTASH_LOCAL_TOKEN)");
  const host = values.host ?? env.UPSTASH_LOCAL_HOST ?? "127.0.0.1";
  const delayText = values["delay-ms"] ?? env.UPSTASH_LOCAL_DELAY_MS ?? "0";
  let delayMs = 0;
  try {
    delayMs = checkDelayMs(/^\d+$/.test(delayText) ? Number(delayText) : delayText, "--delay-ms");
  } catch (error) {
    fail(error instanceof BodyError ? error.message.replace(/^ERR /, "") : String(error));
  }

  const server = await startUpstashLocal({ redisUrl, token, port, host, delayMs });
  // stdout carries only the URL so scripts can capture it; the human-readable line goes to stderr.
  console.log(server.url);
  console.error(
    `upstash-local: serving the Upstash REST API on ${server.url} in front of ${redisUrl}${delayMs > 0 ? `, every command request delayed ${delayMs} ms` : ""} (Ctrl-C to stop)`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`upstash-local: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.error(`upstash-local: ${signal}, shutting down`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("upstash-local: shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error("upstash-local: failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
