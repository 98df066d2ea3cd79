// Request paths: the one normaliser behind route pricing, exempt routes and the admin-path check, and the path the
// proxy forwards, so that what is priced is what the origin is asked for.
import { QuotaGateError } from "../core/errors.ts";

export interface PathOptions {
  /** Match route and exempt patterns case-sensitively (for origins whose routes are case-sensitive). */
  caseSensitive: boolean;
  /** `%2F` and `%5C` in a path: refused (400), or kept encoded (for origins that never decode them to separators). */
  encodedSlashes: "refuse" | "keep";
}

export interface RequestPath {
  /** Sent to the origin: unreserved characters percent-decoded (RFC 3986 §2.3) and other escapes upper-cased,
   * duplicate slashes collapsed, dot segments removed; case, `;params` and a trailing slash are kept. */
  readonly forward: string;
  /** Matched against route and exempt patterns: `forward` with each segment's `;params` stripped, empty segments
   * dropped, no trailing slash, and lower-cased unless the policy matches case-sensitively. */
  readonly match: string;
}

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

const refuse = (detail: string): never => {
  throw new QuotaGateError("bad_request", `request path refused: ${detail}`);
};

const isDot = (segment: string) => segment === "." || segment === "..";

/** Normalises a URL path (as `new URL(url).pathname` gives it); throws a 400 QuotaGateError for a path no origin
 * should be asked for (an encoded NUL, an encoded slash unless kept, a dot segment carrying `;params`). */
export function normalisePath(raw: string, opts: PathOptions): RequestPath {
  if (!raw.startsWith("/")) refuse("it must start with '/'");
  const decoded = decodeUnreserved(raw);
  if (decoded.includes("%00")) refuse("it contains an encoded NUL (%00)");
  if (opts.encodedSlashes === "refuse" && /%(2F|5C)/.test(decoded)) {
    refuse("it contains an encoded slash (%2F or %5C), which origins may decode into a path separator");
  }
  const parts = decoded.slice(1).split("/");
  const last = parts.at(-1) ?? "";
  const out: string[] = [];
  for (const segment of parts) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      out.pop();
      continue;
    }
    const bare = segment.split(";", 1)[0]!;
    // `..;x` is `..` to origins that strip parameters (Tomcat, Jetty): never let it climb past a priced route.
    if (isDot(bare)) refuse(`the segment "${segment}" is a dot segment with parameters`);
    out.push(segment);
  }
  const trailing = out.length > 0 && (last === "" || isDot(last));
  const forward = `/${out.join("/")}${trailing ? "/" : ""}`;
  const matched = `/${out
    .map((s) => s.split(";", 1)[0]!)
    .filter(Boolean)
    .join("/")}`;
  return { forward, match: opts.caseSensitive ? matched : matched.toLowerCase() };
}

/** Whether a normalised path belongs to the admin API (whatever its case: `/ADMIN` is never proxied). */
export function isAdminPath(path: RequestPath): boolean {
  const p = path.match.toLowerCase();
  return p === "/admin" || p.startsWith("/admin/");
}

/** A route or exempt pattern written as the paths it matches look (so it can match at all), or why not. */
export function patternProblem(pattern: string): string | null {
  let normal: RequestPath;
  try {
    normal = normalisePath(pattern, { caseSensitive: true, encodedSlashes: "keep" });
  } catch (err) {
    return (err as Error).message;
  }
  return normal.match === pattern
    ? null
    : `write it as the paths it matches are compared: "${normal.match}" (no '//', '.' or '..' segments, ';params', trailing '/', or escapes of unreserved characters)`;
}
