// `npm run dev:redis`: a private redis-server, the local Upstash-compatible server in front of it, the demo origin
// and `wrangler dev` wired to them: the production data path (UpstashStore) on one machine, no account needed.
import { randomBytes } from "node:crypto";
import { startDemoOrigin } from "./demo-origin.ts";
import { startRedisServer } from "./redis-server.ts";
import { startUpstashLocal } from "./upstash-local/server.ts";
import { runWranglerDev } from "./wrangler-dev.ts";

const port = Number(process.env.PORT ?? 8787);
const upstashPort = Number(process.env.UPSTASH_LOCAL_PORT ?? 8079);
const adminToken = process.env.ADMIN_TOKEN ?? `dev-${randomBytes(12).toString("hex")}`;
const token = process.env.UPSTASH_LOCAL_TOKEN ?? randomBytes(16).toString("hex");

console.log("[quotagate] starting a private redis-server ...");
const redis = await startRedisServer();
console.log(`[quotagate] redis-server on ${redis.url}`);
const upstash = await startUpstashLocal({ redisUrl: redis.url, token, port: upstashPort });
console.log(`[quotagate] Upstash-compatible REST server on ${upstash.url} (token ${token})`);
const origin = await startDemoOrigin(Number(process.env.DEMO_ORIGIN_PORT ?? 8788));
console.log(`[quotagate] demo origin on ${origin.url}`);
console.log(`[quotagate] admin token for this session: ${adminToken}`);
console.log(`[quotagate] starting the gateway on http://127.0.0.1:${port} (Upstash store) ...`);

runWranglerDev({
  port,
  vars: {
    ORIGIN_URL: origin.url,
    ADMIN_TOKEN: adminToken,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: token,
  },
  extraArgs: process.argv.slice(2),
  cleanup: async () => {
    await Promise.allSettled([origin.close(), upstash.close()]);
    await redis.stop();
  },
});
