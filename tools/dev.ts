// `npm run dev`: the demo origin on :8788 and `wrangler dev` on http://127.0.0.1:8787 wired to it, with the embedded
// memory store. No account and no network needed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { startDemoOrigin } from "./demo-origin.ts";

const originPort = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const port = Number(process.env.PORT ?? 8787);
const adminToken = process.env.ADMIN_TOKEN ?? `dev-${randomBytes(12).toString("hex")}`;
const extra = process.argv.slice(2);

const origin = await startDemoOrigin(originPort);
console.log(`[quotagate] demo origin listening on ${origin.url}`);
console.log(`[quotagate] admin token for this session: ${adminToken}`);
console.log(`[quotagate] starting the gateway on http://127.0.0.1:${port} (memory store) ...`);

const vars = [
  `ORIGIN_URL:${origin.url}`,
  `ADMIN_TOKEN:${adminToken}`,
  ...(process.env.QG_EXTRA_VARS?.split(" ").filter(Boolean) ?? []),
];
const child = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--show-interactive-dev-session=false",
    ...vars.flatMap((v) => ["--var", v]),
    ...extra,
  ],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      DO_NOT_TRACK: "1",
    },
  },
);

const stop = () => {
  child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
child.on("exit", async (code) => {
  await origin.close();
  process.exit(code ?? 0);
});
