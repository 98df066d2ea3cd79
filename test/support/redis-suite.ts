// Registers the suites that need redis-server the same way in every test file: run with it; without it, fail in CI and skip (with the reason) elsewhere.
import { describe, inject, it } from "vitest";

/**
 * `describe`, for a suite that needs the run's redis-server (and the local Upstash server in front
 * of it). Every suite registers at least one test whatever happens, so a file of such suites never
 * ends in "No test suite found". When redis-server is missing, the body is replaced by one test
 * named after the reason (with the install command): under CI it fails, because a silently skipped
 * suite would pass the build; elsewhere it is skipped and a notice is printed. Vitest-only imports,
 * so the workerd suites use it too.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (inject("redisAvailable")) {
    describe(name, body);
    return;
  }
  const reason = inject("redisMissingReason");
  if (inject("redisRequired")) {
    describe(name, () => {
      it(`fails: ${reason}`, () => {
        throw new Error(`${reason}. CI is set, so the real-Redis suites must run rather than be skipped.`);
      });
    });
    return;
  }
  console.warn(`[redis] skipping "${name}": ${reason}`);
  describe(name, () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
