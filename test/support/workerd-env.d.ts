// Types of the workerd test project: the bindings vitest.config.ts gives the worker, and the main module behind `exports`.

declare namespace Cloudflare {
  interface Env {
    ORIGIN_URL: string;
    ADMIN_TOKEN: string;
    JWT_SECRET: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
