// End to end in workerd, path aspect: routes are priced and exempted by the normalised path (escapes of unreserved
// characters, case, duplicate slashes, dot segments, ;params), the origin is asked for the path that was priced, and
// paths no origin should see are refused with 400.
import { describe, expect, it } from "vitest";
import type { PolicyInput } from "../src/policy/policy-schema.ts";
import {
  asTenant,
  expectProblem,
  originEcho,
  policyJson,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

/** One chat call (not the demo origin's own chat endpoint: the echo answers it) costs 40 tokens and the free tier has 40 a day: after one, the budget is spent. */
const budget = (patch: Partial<PolicyInput> = {}) =>
  workerWith({
    QUOTA_POLICY: policyJson({
      tiers: {
        free: {
          limits: [
            { window: "minute", limit: 100 },
            { dimension: "tokens", window: "day", limit: 40 },
          ],
        },
      },
      routes: [{ method: "POST", path: "/v1/chat/*", cost: { tokens: 40 } }],
      exempt: ["/health", "/public/*"],
      ...patch,
    }),
  });

const post = (tenant: string) => ({ ...asTenant(tenant), method: "POST", body: "{}" });

describe("route pricing on the normalised path", () => {
  it("charges every spelling of a priced route: once the budget is spent, none reaches the origin", async () => {
    const w = budget();
    await originEcho(await w.fetch("/v1/chat/complete", post("t-spent")));
    for (const path of [
      "/v1/%63hat/complete",
      "/V1/chat/complete",
      "/v1/CHAT/Complete",
      "/v1/chat//complete",
      "//v1/chat/complete",
      "/v1/chat/complete;x",
      "/v1;x/chat/complete",
      "/v1/x/../chat/complete",
      "/v1/./chat/complete/",
      "/v1/%2e%2e/v1/chat/complete",
    ]) {
      const problem = await expectProblem(await w.fetch(path, post("t-spent")), 429);
      expect(problem["violated-policies"], path).toEqual(["tokens-day"]);
    }
  });

  it("asks the origin for the path it priced: escapes decoded, slashes collapsed, dots removed; case and ;params kept", async () => {
    const w = budget();
    const cases: Array<[string, string]> = [
      ["/v1/%63hat/complete?stream=1", "/v1/chat/complete?stream=1"],
      ["/v1/chat//complete", "/v1/chat/complete"],
      ["/v1/x/../chat/complete", "/v1/chat/complete"],
      ["/V1/Chat/complete;jsessionid=7/", "/V1/Chat/complete;jsessionid=7/"],
      ["/v1/caf%c3%a9", "/v1/caf%C3%A9"],
    ];
    for (const [sent, target] of cases) {
      const echo = await originEcho(await w.fetch(sent, asTenant(`t-forward-${target.length}`)));
      expect(echo.target, sent).toBe(target);
    }
  });

  it("compares case when the policy says paths are case-sensitive", async () => {
    const w = budget({ paths: { caseSensitive: true } });
    await originEcho(await w.fetch("/v1/chat/complete", post("t-case")));
    await expectProblem(await w.fetch("/v1/%63hat//complete", post("t-case")), 429);
    // Another route to a case-sensitive origin: priced by default (one request), not by the chat rule.
    const upper = await w.fetch("/V1/chat/complete", post("t-case"));
    expect((await originEcho(upper)).target).toBe("/V1/chat/complete");
  });
});

describe("exempt routes on the normalised path", () => {
  it("exempts every spelling of an exempt route, and nothing else", async () => {
    const w = budget();
    for (const path of ["/public/a", "/PUBLIC/a", "/%70ublic/a", "//public//a", "/public;v=1/a", "/public"]) {
      const res = await w.fetch(path);
      expect(res.headers.get("RateLimit"), path).toBeNull();
      await originEcho(res);
    }
    // Dot segments cannot climb out of an exempt prefix into a priced route.
    await expectProblem(await w.fetch("/public/../v1/chat/complete", { method: "POST" }), 401);
  });
});

describe("refused paths", () => {
  it("answers 400 for an encoded slash, an encoded NUL or a dot segment with ;params, before any origin", async () => {
    const w = budget();
    for (const path of ["/v1/chat%2Fcomplete", "/v1%5Cchat", "/v1/chat%00", "/public/..;/v1/chat/complete"]) {
      const problem = await expectProblem(await w.fetch(path, post("t-refused")), 400);
      expect(problem.type).toBe("urn:quotagate:problem:bad-request");
      expect(problem.detail).toMatch(/^request path refused/);
    }
  });

  it("passes encoded slashes on, encoded, when the policy keeps them", async () => {
    const w = budget({ paths: { encodedSlashes: "keep" } });
    const echo = await originEcho(await w.fetch("/v1/files/a%2fb", asTenant("t-keep")));
    expect(echo.target).toBe("/v1/files/a%2Fb");
  });
});
