// The quota policy's schema (zod): tiers, limits, route costs and token rules, exempt routes, path matching, CORS and
// tenant identification. Strict: an unknown key is an error, so a typo fails at startup instead of silently doing
// nothing.
import * as z from "zod";
import { patternProblem } from "./path.ts";
import { tokenRulesSchema } from "./token-rules.ts";
import { parseWindow } from "./window-spec.ts";

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "use 1-64 letters, digits, '_', '.' or '-'");

export const limitSchema = z.strictObject({
  dimension: name.default("requests"),
  window: z.string().superRefine((w, ctx) => {
    const parsed = parseWindow(w);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
  }),
  /** Units per window; for a token bucket it may be left out (it is the burst). At most 1e12: counts pass through
   * Redis Lua as doubles, exact only up to 2^53, and this keeps counts, costs and leases far below that. */
  limit: z.number().int().positive().max(1e12).optional(),
  mode: z.enum(["enforce", "shadow"]).default("enforce"),
  sync: z.enum(["strict", "async"]).default("strict"),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "use 1-64 letters, digits, '_' or '-'")
    .optional(),
});

/** What a tier does while the store is unreachable: admit and settle later, refuse (503), or admit a bounded share. */
export const failureSchema = z.enum(["open", "closed", "degraded"]);
/** Under `degraded`, the share of each limit one isolate may admit per window while the store is away. */
const degradedShareSchema = z.number().gt(0).max(1);

/** Requests of one tenant in flight at once, across isolates. */
const concurrencySchema = z.number().int().positive().max(1_000_000);

/** How a tier's refused requests may wait instead of being answered 429 (or 503) at once. */
export const tierQueueSchema = z
  .strictObject({
    /** Longest wait granted; a `Prefer: wait` above it gets this much. 0: the tier never waits. */
    maxWaitSeconds: z.number().int().min(0).max(3_600).default(0),
    /** Wait granted to a request without `Prefer: wait` (0: only requests that ask wait). */
    defaultWaitSeconds: z.number().int().min(0).max(3_600).default(0),
    /** Requests of one tenant waiting at once in an isolate; more are answered 429. */
    maxDepth: z.number().int().min(1).max(100_000).default(100),
    /** Turns per round when waiting requests are admitted round-robin across tenants. */
    weight: z.number().int().min(1).max(100).default(1),
  })
  .refine((q) => q.defaultWaitSeconds <= q.maxWaitSeconds, {
    path: ["defaultWaitSeconds"],
    message: "must not exceed maxWaitSeconds",
  });

export const tierSchema = z.strictObject({
  limits: z.array(limitSchema).min(1),
  failure: failureSchema.optional(),
  degradedShare: degradedShareSchema.optional(),
  concurrency: concurrencySchema.optional(),
  queue: tierQueueSchema.optional(),
});

/** An override leaves out what it does not change: mode and sync are inherited from the tier's limit. */
export const overrideLimitSchema = limitSchema.extend({
  mode: z.enum(["enforce", "shadow"]).optional(),
  sync: z.enum(["strict", "async"]).optional(),
});

export const overridesSchema = z.strictObject({
  limits: z.array(overrideLimitSchema).optional(),
  failure: failureSchema.optional(),
  /** Replaces the tier's concurrency limit for this tenant. */
  concurrency: concurrencySchema.optional(),
});

/** A route or exempt pattern: a normalised path where `*` matches any run of characters. */
const pathPattern = z
  .string()
  .startsWith("/")
  .superRefine((p, ctx) => {
    const problem = patternProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const routeRuleSchema = z
  .strictObject({
    method: z
      .string()
      .regex(/^(\*|[A-Z]+)$/, 'an upper-case HTTP method or "*"')
      .default("*"),
    path: pathPattern,
    cost: z.record(name, z.number().int().min(0).max(1e9)).default({}),
    /** The route's token cost is reserved from the request body and settled from the response. */
    tokens: tokenRulesSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.tokens && r.tokens.dimension in r.cost)
      ctx.addIssue({
        code: "custom",
        path: ["cost", r.tokens.dimension],
        message: `set by the route's token rules (tokens.dimension); remove it from cost`,
      });
  });

/** How request paths are compared with route and exempt patterns (see path.ts). */
export const pathsSchema = z.strictObject({
  caseSensitive: z.boolean().default(false),
  encodedSlashes: z.enum(["refuse", "keep"]).default("refuse"),
});

/** Tenant ids starting with `ip:` (any case) belong to the client-IP mode: no other credential may name one. */
export const RESERVED_TENANT_PREFIX = /^ip:/i;

/** A browser origin as the Origin header sends it: scheme, host and port only (the URL standard's serialisation). */
const corsOrigin = z.string().superRefine((o, ctx) => {
  if (o === "*") return;
  let serialised: string | undefined;
  try {
    const url = new URL(o);
    if (url.protocol === "http:" || url.protocol === "https:") serialised = url.origin;
  } catch {}
  if (serialised !== o) {
    ctx.addIssue({
      code: "custom",
      message: `not an origin as browsers send it${serialised ? ` (write "${serialised}")` : ""}: scheme://host[:port], no path or trailing slash, e.g. "https://app.example.com", or "*"`,
    });
  }
});

/** CORS answered by the gateway for browser clients (absent: the gateway does no CORS). */
export const corsSchema = z
  .strictObject({
    origins: z.array(corsOrigin).min(1),
    methods: z
      .array(z.string().regex(/^[A-Z]+$/, "an upper-case HTTP method"))
      .min(1)
      .default(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    /** Request headers a page may send; default: Authorization, Content-Type and the identity headers enabled. */
    headers: z.array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "a header name")).optional(),
    maxAgeSec: z.number().int().min(0).max(86_400).default(600),
    credentials: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.origins.includes("*") && c.origins.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["origins"],
        message: '"*" stands alone: it already allows every origin',
      });
    }
    if (c.origins.includes("*") && c.credentials) {
      ctx.addIssue({
        code: "custom",
        path: ["credentials"],
        message:
          'cannot be true with origins ["*"]: browsers refuse credentials for a wildcard origin; list the origins',
      });
    }
  });

const idPattern = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, "printable ASCII without spaces")
  .refine(
    (id) => !RESERVED_TENANT_PREFIX.test(id),
    'the "ip:" prefix is reserved for tenants identified by client IP',
  );

export const identitySchema = z.strictObject({
  /** Which credential is looked at first; the first one present decides. */
  order: z
    .array(z.enum(["apiKey", "jwt", "header", "ip"]))
    .min(1)
    .default(["apiKey", "jwt", "header", "ip"]),
  maxIdLength: z.number().int().min(1).max(256).default(128),
  header: z
    .strictObject({
      /** Trust a client-supplied tenant header. Only for traffic that already passed an authenticating proxy. */
      enabled: z.boolean().default(false),
      name: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/)
        .default("X-Tenant-ID"),
    })
    .prefault({}),
  apiKey: z
    .strictObject({
      enabled: z.boolean().default(false),
      header: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/)
        .default("X-API-Key"),
      /** SHA-256 (hex) of each key -> its tenant (and optionally tier). Keys themselves never sit in the policy. */
      keys: z
        .record(
          z.string().regex(/^[0-9a-f]{64}$/, "the SHA-256 of the key in lower-case hex"),
          z.strictObject({ tenant: idPattern, tier: name.optional() }),
        )
        .default({}),
    })
    .prefault({}),
  jwt: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Claim holding the tenant id. */
      claim: z.string().min(1).default("sub"),
      /** Optional claim naming the tenant's tier. */
      tierClaim: z.string().min(1).optional(),
      /** Required `iss`, when set. */
      issuer: z.string().min(1).optional(),
      /** Required in `aud` (a string or a list), when set. */
      audience: z.string().min(1).optional(),
      /** Seconds of clock difference with the token issuer allowed for exp, nbf and iat. */
      clockToleranceSec: z.number().int().min(0).max(300).default(0),
    })
    .prefault({}),
  ip: z
    .strictObject({
      /** Anonymous traffic is limited per client IP (CF-Connecting-IP) as tenant `ip:<address>`. */
      enabled: z.boolean().default(false),
      tier: name.default("free"),
    })
    .prefault({}),
});

export const policySchema = z
  .strictObject({
    defaultTier: name.default("free"),
    tiers: z.record(name, tierSchema),
    /** Static tenant assignments; the admin API's runtime records take precedence. */
    tenants: z
      .record(idPattern, z.strictObject({ tier: name, overrides: overridesSchema.optional() }))
      .default({}),
    routes: z.array(routeRuleSchema).default([]),
    exempt: z.array(pathPattern).default(["/health"]),
    paths: pathsSchema.prefault({}),
    cors: corsSchema.optional(),
    identity: identitySchema.prefault({}),
    failure: failureSchema.default("open"),
    degradedShare: degradedShareSchema.default(0.1),
    concurrency: z
      .strictObject({
        /** Requests in flight to the origin at once, all tenants and isolates together (unset: no limit). */
        origin: concurrencySchema.optional(),
        /** A slot whose holder stops renewing it (its isolate died) is free again after this long. */
        slotTtlSeconds: z.number().int().min(5).max(3_600).default(30),
      })
      .prefault({}),
    queue: z
      .strictObject({
        /** Requests waiting at once in one isolate, all tenants together; more are answered 429. */
        maxDepth: z.number().int().min(1).max(1_000_000).default(5_000),
        /** While requests wait for a slot, how often an isolate looks for slots freed by other isolates. */
        recheckMs: z.number().int().min(50).max(60_000).default(1_000),
        /** How requests waiting for a slot are served across tenants: round-robin (fair), or by arrival. */
        order: z.enum(["round-robin", "fifo"]).default("round-robin"),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    if (!(p.defaultTier in p.tiers)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultTier"],
        message: `tier "${p.defaultTier}" is not defined in tiers`,
      });
    }
    if (p.identity.ip.enabled && !(p.identity.ip.tier in p.tiers)) {
      ctx.addIssue({
        code: "custom",
        path: ["identity", "ip", "tier"],
        message: `tier "${p.identity.ip.tier}" is not defined`,
      });
    }
    for (const [id, t] of Object.entries(p.tenants)) {
      if (!(t.tier in p.tiers))
        ctx.addIssue({
          code: "custom",
          path: ["tenants", id, "tier"],
          message: `tier "${t.tier}" is not defined`,
        });
    }
    const needsLimit = (l: Pick<LimitConfig, "window" | "limit">) => {
      const parsed = parseWindow(l.window);
      return parsed.ok && parsed.window.kind !== "bucket" && l.limit === undefined;
    };
    for (const [tier, t] of Object.entries(p.tiers)) {
      t.limits.forEach((l, i) => {
        if (needsLimit(l)) {
          ctx.addIssue({
            code: "custom",
            path: ["tiers", tier, "limits", i, "limit"],
            message: "required for this window",
          });
        }
      });
    }
    // An override may leave the amount out only when it changes a limit of the tier (it inherits the amount);
    // a new limit without one would compile to a limit of 0 and deny every request.
    for (const [id, t] of Object.entries(p.tenants)) {
      const base = p.tiers[t.tier]?.limits ?? [];
      t.overrides?.limits?.forEach((l, i) => {
        if (needsLimit(l) && !base.some((b) => b.dimension === l.dimension && b.window === l.window)) {
          ctx.addIssue({
            code: "custom",
            path: ["tenants", id, "overrides", "limits", i, "limit"],
            message: `required: tier "${t.tier}" has no ${l.dimension} limit over "${l.window}" to inherit it from`,
          });
        }
      });
    }
  });

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;
export type LimitConfig = z.output<typeof limitSchema>;
/** A tenant's overrides, as the policy, the admin API and the store all hold them. */
export type TenantOverrides = z.output<typeof overridesSchema>;
