// Test projects: unit (Node), integration (Node + a private redis-server behind tools/upstash-local), workerd (the worker in
// workerd), browser (the dashboard in headless chromium against the worker bundle in workerd).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "tools/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          environment: "node",
          globalSetup: ["test/support/global-redis.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/**/*.browser.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ORIGIN_URL: `http://127.0.0.1:${inject("originPort" as never)}`,
                ADMIN_TOKEN: "test-admin-token",
                JWT_SECRET: "test-jwt-secret-0123456789",
                // Not UPSTASH_REDIS_REST_*: the main worker keeps the memory store; suites build Upstash-backed
                // workers from these ("" when redis-server is missing: those suites skip).
                TEST_UPSTASH_URL: String(inject("upstashUrl" as never)),
                TEST_UPSTASH_TOKEN: String(inject("upstashToken" as never)),
              },
            },
          })),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.workerd.test.ts"],
          globalSetup: ["test/support/global-origin.ts", "test/support/global-redis-workerd.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
