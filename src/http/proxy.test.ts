// The proxy's header rewriting: Location values naming the origin become the gateway's; anything else is left alone.
import { describe, expect, it } from "vitest";
import { rewriteOriginLocation, stripHopByHop } from "./proxy.ts";

const origin = new URL("http://10.0.0.5:8080/api/");
const gateway = new URL("https://api.example.com/v1/x?y=1");

describe("rewriteOriginLocation", () => {
  it.each([
    ["http://10.0.0.5:8080/api/v1/next?a=1#f", "https://api.example.com/v1/next?a=1#f"],
    ["http://10.0.0.5:8080/api", "https://api.example.com/"],
    ["http://10.0.0.5:8080/other", "https://api.example.com/other"],
    ["HTTP://10.0.0.5:8080/api/x", "https://api.example.com/x"],
    ["//10.0.0.5:8080/api/x", "https://api.example.com/x"],
    ["http://10.0.0.5:9090/api/x", "http://10.0.0.5:9090/api/x"],
    ["https://10.0.0.5:8080/api/x", "https://10.0.0.5:8080/api/x"],
    ["https://elsewhere.example/x", "https://elsewhere.example/x"],
    ["/api/relative", "/api/relative"],
    ["relative", "relative"],
    ["http://[::1", "http://[::1"],
  ])("%s -> %s", (value, rewritten) => {
    expect(rewriteOriginLocation(value, origin, gateway)).toBe(rewritten);
  });

  it("treats the default port as the same origin", () => {
    const plain = new URL("https://origin.internal");
    expect(rewriteOriginLocation("https://origin.internal:443/a", plain, gateway)).toBe(
      "https://api.example.com/a",
    );
  });
});

describe("stripHopByHop", () => {
  it("drops the hop-by-hop headers and those Connection names, and ignores listed values that name no header", () => {
    const h = new Headers({
      connection: "keep-alive, X-Secret, a b, x/y",
      "x-secret": "1",
      "keep-alive": "5",
      ok: "1",
    });
    expect(() => stripHopByHop(h)).not.toThrow();
    expect([...h.keys()]).toEqual(["ok"]);
  });
});
