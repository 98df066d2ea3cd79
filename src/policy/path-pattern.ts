// Path (and model name) patterns of the policy: `*` matches any run of characters, everything else is literal.

/** `*` matches any run of characters (slashes included); everything else is literal. A trailing `/*` also matches
 * the path without it (`/static/` is matched as `/static`). Case-insensitive policies compare lower-cased paths. */
export function compilePathPattern(pattern: string, caseSensitive = true): RegExp {
  const p = caseSensitive ? pattern : pattern.toLowerCase();
  const [head, tail] = p.endsWith("/*") && p.length > 2 ? [p.slice(0, -2), "(/.*)?"] : [p, ""];
  const body = head
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}${tail}$`);
}
