// `npm run fuzz -- --runs 10000 [--seed N]`: the workerd HTTP fuzz suite (test/fuzz.workerd.test.ts) with as many
// cases as asked, printing progress; the suite's global setup reads the settings from the environment.
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(
    "usage: npm run fuzz -- [--runs N (default 10000)] [--seed=N (replays a run; printed on failure)]",
  );
  process.exit(0);
}

const positive = (name: string, text: string): string => {
  if (!/^[1-9]\d*$/.test(text)) {
    console.error(`--${name} must be a positive integer, not ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return text;
};

const env: NodeJS.ProcessEnv = {
  ...process.env,
  QUOTAGATE_FUZZ_RUNS: positive("runs", values.runs),
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
// A seed as fast-check prints it on failure (a 32-bit integer, often negative) replays that run.
if (values.seed !== undefined) {
  if (!/^-?\d+$/.test(values.seed)) {
    console.error(`--seed must be an integer, not ${JSON.stringify(values.seed)}`);
    process.exit(2);
  }
  env.QUOTAGATE_FUZZ_SEED = values.seed;
}

console.log(`fuzz: ${values.runs} cases in workerd${values.seed ? `, seed ${values.seed}` : ""}`);
// --silent: the worker's own logs (e.g. of each unexpected error) would bury the progress lines, which the suite
// prints from the main process; a failure still shows its counterexample and seed.
const args = ["vitest", "run", "--silent", "--project", "workerd", "test/fuzz.workerd.test.ts"];
const child = spawn("npx", args, {
  env,
  stdio: "inherit",
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
