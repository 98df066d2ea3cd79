// Types of the workerd test project: the bindings vitest.config.ts gives the worker, and the main module behind `exports`.

declare namespace Cloudflare {
  interface Env {
    ORIGIN_URL: string;
    ADMIN_TOKEN: string;
    JWT_SECRET: string;
    /** Local Upstash-compatible server of the run ("" when redis-server is missing). */
    TEST_UPSTASH_URL: string;
    TEST_UPSTASH_TOKEN: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
