// Path (and model name) patterns of the policy: `*` matches any run of characters, everything else is literal.

/** `*` matches any run of characters (slashes included); everything else is literal. */
export function compilePathPattern(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}
