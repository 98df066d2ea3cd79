// Worker-thread entry of the replay job pool: runs the jobs it is sent, one at a time, and reports progress. Each
// thread has its own event loop, globals (the fetch meter, the simulated Date.now) and private servers.
import { parentPort } from "node:worker_threads";
import { type JobSpec, runJob } from "./job.ts";

export type JobMessage =
  | { type: "progress"; done: number }
  | { type: "done"; row: Awaited<ReturnType<typeof runJob>> }
  | { type: "error"; message: string };

const port = parentPort!;
port.on("message", (spec: JobSpec) => {
  let last = 0;
  runJob(spec, (done) => {
    const now = performance.now();
    if (now - last >= 500) {
      last = now;
      port.postMessage({ type: "progress", done } satisfies JobMessage);
    }
  }).then(
    (row) => port.postMessage({ type: "done", row } satisfies JobMessage),
    (err: unknown) =>
      port.postMessage({
        type: "error",
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies JobMessage),
  );
});
