// The `wait` preference of the Prefer request header (RFC 7240 §4.3): how many seconds the client is willing to wait.
// A malformed value is ignored (the request is treated as if it had not asked), never an error.

/** RFC 9110 §1.2.2: a delta-seconds value too large to hold is taken as this. */
const DELTA_SECONDS_MAX = 2_147_483_648;

/** Splits a header value on commas outside quoted strings. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted && ch === "\\" && i + 1 < value.length) {
      cur += ch + value[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Seconds asked by `Prefer: wait=<delta-seconds>` (the value may be quoted), or undefined when the header has no
 * usable wait preference. Only the first `wait` counts (RFC 7240 §2); its parameters are ignored.
 */
export function preferredWaitSeconds(headers: Headers): number | undefined {
  const raw = headers.get("prefer");
  if (raw === null) return undefined;
  for (const item of splitList(raw)) {
    const [pref = ""] = item.split(";");
    const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*(.*?))?\s*$/.exec(pref);
    if (!m || m[1]!.toLowerCase() !== "wait") continue;
    const value = (m[2] ?? "").replace(/^"(.*)"$/, "$1");
    if (!/^\d+$/.test(value)) return undefined;
    return Math.min(Number(value), DELTA_SECONDS_MAX);
  }
  return undefined;
}
