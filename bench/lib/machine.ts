// What the benchmark ran on: CPU model, cores, memory, Node and redis-server versions, and which source it measured.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  redisServer: string;
  platform: string;
}

export function describeMachine(): Machine {
  const redis = spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"], {
    encoding: "utf8",
  });
  const version = /v=(\S+)/.exec(redis.stdout ?? "")?.[1] ?? "unknown";
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redisServer: version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

export interface SourceState {
  /** Commit checked out. */
  head: string;
  /** Files under src/ that differ from it (the benchmark measures the working tree). */
  dirty: string[];
  /** SHA-256 over every non-test file of src/, to tell which code produced a result. */
  srcSha256: string;
}

export function describeSource(root: string): SourceState {
  const git = (...args: string[]) =>
    spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const files = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.includes(".test.") && !f.endsWith(".case.ts"))
    .sort();
  const h = createHash("sha256");
  for (const f of files)
    h.update(f)
      .update("\0")
      .update(readFileSync(join(root, "src", f)))
      .update("\0");
  return {
    head: git("rev-parse", "--short", "HEAD") || "unknown",
    dirty: git("status", "--porcelain", "--", "src")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(3)),
    srcSha256: h.digest("hex").slice(0, 16),
  };
}
