// The gateway's checks on a request bound for the origin: its normalised path (the one pricing, exemptions and the
// admin check use), never an admin path, never a GET or HEAD body (which the proxy could not forward).
import { QuotaGateError } from "../core/errors.ts";
import type { CompiledPolicy } from "../policy/compiled-policy.ts";
import { isAdminPath, type RequestPath } from "../policy/path.ts";

/** The normalised path of a request the catch-all route would proxy; throws a 4xx QuotaGateError for one that must
 * not reach the origin. Admin paths reach here only when spelled other than the admin router's routes
 * (`//admin/...`, `/ADMIN/...`, `/admin;x/...`): they are refused, never proxied with their admin credentials. */
export function proxiedPath(req: Request, policy: CompiledPolicy): RequestPath {
  refuseBodyless(req);
  const path = policy.normalisePath(new URL(req.url).pathname);
  if (isAdminPath(path)) {
    throw new QuotaGateError(
      "not_found",
      "no such route: admin routes are served only at their exact paths (e.g. /admin/quota/stats) and never proxied",
    );
  }
  return path;
}

/** GET and HEAD carry no body to the origin (fetch cannot send one): a request that has one is refused rather than
 * forwarded without it. `Content-Length: 0` is no body. */
function refuseBodyless(req: Request): void {
  if (req.method !== "GET" && req.method !== "HEAD") return;
  const length = req.headers.get("content-length");
  const chunked = req.headers.get("transfer-encoding") !== null;
  if (chunked || (length !== null && length.trim() !== "0")) {
    throw new QuotaGateError(
      "bad_request",
      `a ${req.method} request cannot carry a body to the origin (it has ${chunked ? "Transfer-Encoding" : `Content-Length: ${length}`}); send it with POST or without a body`,
    );
  }
}
