// Runs `wrangler dev` offline on 127.0.0.1 with the given vars, forwarding Ctrl-C, and cleans up after it exits.
import { spawn } from "node:child_process";

export function runWranglerDev(opts: {
  port: number;
  vars: Record<string, string>;
  extraArgs?: string[];
  cleanup: () => Promise<unknown>;
}): void {
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(opts.port)];
  args.push("--show-interactive-dev-session=false");
  for (const [k, v] of Object.entries(opts.vars)) args.push("--var", `${k}:${v}`);
  const child = spawn("npx", [...args, ...(opts.extraArgs ?? [])], {
    stdio: "inherit",
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      DO_NOT_TRACK: "1",
    },
  });
  const stop = () => {
    child.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  child.on("exit", async (code) => {
    await opts.cleanup();
    process.exit(code ?? 0);
  });
}
