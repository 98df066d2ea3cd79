// `npm run dev`: the demo origin on :8788 and `wrangler dev` on http://127.0.0.1:8787 wired to it, with the embedded
// memory store. No account and no network needed.
import { randomBytes } from "node:crypto";
import { startDemoOrigin } from "./demo-origin.ts";
import { runWranglerDev } from "./wrangler-dev.ts";

const port = Number(process.env.PORT ?? 8787);
const adminToken = process.env.ADMIN_TOKEN ?? `dev-${randomBytes(12).toString("hex")}`;

const origin = await startDemoOrigin(Number(process.env.DEMO_ORIGIN_PORT ?? 8788));
console.log(`[quotagate] demo origin listening on ${origin.url}`);
console.log(`[quotagate] admin token for this session: ${adminToken}`);
console.log(`[quotagate] starting the gateway on http://127.0.0.1:${port} (memory store) ...`);

runWranglerDev({
  port,
  vars: { ORIGIN_URL: origin.url, ADMIN_TOKEN: adminToken },
  extraArgs: process.argv.slice(2),
  cleanup: () => origin.close(),
});
