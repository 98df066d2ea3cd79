// Lua scripts of the Upstash store, as constants with their SHA-1 (scripts.test.ts checks each). They mirror
// src/algorithms line by line; the differential test runs both on the same random sequence.

/**
 * Token-bucket helpers both scripts include (mirror of algorithms/token-bucket.ts), after their `local now`. A bucket
 * is stored as "milli:ts" or "milli:ts:rem": whole milli-units, when, and the refill beyond them in 1/period of a
 * milli-unit (omitted when 0). Every value stays an integer below 2^53 (the policy bounds burst x period x 1000), so
 * Lua's doubles compute exactly what TypeScript does.
 */
const BUCKET_LUA = `-- a bucket brought up to now; missing (or unreadable) = full
local function refill(raw, rate, period, burst)
  local cap = burst * 1000
  if not raw then return cap, 0 end
  local sm, st, sr = string.match(raw, "^(%d+):(%d+):?(%d*)$")
  if not sm then return cap, 0 end
  local elapsed = math.max(0, now - tonumber(st))
  if elapsed >= math.ceil((burst * period) / rate) then return cap, 0 end
  local add = elapsed * rate * 1000
  local level = tonumber(sm) * period + (tonumber(sr) or 0)
  if add >= cap * period - level then return cap, 0 end
  local v = level + add
  local milli = math.floor(v / period)
  return milli, v - milli * period
end
-- takes units (a return when negative): never below 0, never above the burst
local function take(milli, rem, units, burst)
  milli = milli - units * 1000
  if milli < 0 then return 0, 0 end
  if milli >= burst * 1000 then return burst * 1000, 0 end
  return milli, rem
end
local function encode(milli, rem)
  if rem > 0 then return string.format("%d:%d:%d", milli, now, rem) end
  return string.format("%d:%d", milli, now)
end`;

/** The sharer registry (mirror of algorithms/sharers.ts) and the fair grant (mirror of acquire.ts fairGrant), after
 * `caller`, `win` and `slots`. */
const SHARERS_LUA = `-- isolates that drew on this limit lately (the caller included): a grant is at most an equal share of what is left
local function sharers(key, ttl)
  if caller == "" then return 1 end
  local live = {}
  local mine = -1
  local raw = redis.call("HGET", key, tenant)
  if raw then
    for id, ts in string.gmatch(raw, "([^,]+):(%d+)") do
      ts = tonumber(ts)
      if id == caller then mine = math.max(mine, ts)
      elseif ts >= now - win then live[#live + 1] = { id, ts } end
    end
  end
  table.sort(live, function(a, b) return a[2] > b[2] end)
  local parts = { caller .. ":" .. string.format("%d", now) }
  for j = 1, math.min(#live, slots - 1) do parts[#parts + 1] = live[j][1] .. ":" .. string.format("%d", live[j][2]) end
  -- listed within the last quarter of the window: the entry still counts the caller, and is not written again
  if mine < now - win / 4 and redis.call("HSET", key, tenant, table.concat(parts, ",")) == 1 then
    redis.call("PEXPIRE", key, ttl)
  end
  return #parts
end
-- shared: one share stays in reserve for whichever isolate runs out first
local function fairGrant(min, want, avail, s)
  if s <= 1 then return math.max(min, math.min(want, avail)) end
  return math.max(min, math.min(want, math.floor(avail / (s + 1))))
end`;

/**
 * ACQUIRE: all-or-nothing grant over one tenant's limits (mirror of algorithms/acquire.ts planAcquire, with the
 * sharer registry of algorithms/sharers.ts).
 * KEYS, per item in order: calendar -> its usage hash; sliding -> previous bucket hash, current bucket hash;
 *   token bucket -> its bucket hash; then the item's sharer-registry hash.
 * ARGV[1] tenant (hash field), ARGV[2] now (ms), ARGV[3] item count, ARGV[4] caller isolate id ("" = none),
 *   ARGV[5] sharer window (ms), ARGV[6] sharer slots, then 9 values per item:
 *   kind ("f" calendar | "s" sliding | "b" bucket), mode ("e" enforce | "s" shadow), limit, min, want,
 *   p1, p2, p3 (f: period end ms; s: window size ms; b: rate, period ms, burst), ttl (ms, PEXPIRE: relative, so
 *   replays with a simulated clock expire like live traffic).
 * Returns { ok (1|0), then per item: granted, available after, resetAt ms, retryAt ms (-1: never) }.
 *
 * Every Redis command is billed, so a counter is taken optimistically: HINCRBY by `want` answers the count after,
 * which tells what was there (no read), and only what is not granted goes back (a refused request, or the part of a
 * lease over what is left). Once an item is refused, the items after it are only read.
 */
export const ACQUIRE_LUA = `local tenant = ARGV[1]
local now = tonumber(ARGV[2])
${BUCKET_LUA}
local n = tonumber(ARGV[3])
local caller, win, slots = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
${SHARERS_LUA}
local items = {}
local k = 1
local ok = true
-- a counter's stored units: taken optimistically while every item so far fits, else only read
local function counter(it, key)
  it.key = key
  if ok and it.want > 0 then
    local c = redis.call("HINCRBY", key, tenant, it.want)
    it.took, it.fresh = it.want, c == it.want
    return math.max(0, c - it.want)
  end
  it.took = 0
  return math.max(0, tonumber(redis.call("HGET", key, tenant)) or 0)
end
for i = 1, n do
  local b = 6 + (i - 1) * 9
  local it = { kind = ARGV[b + 1], mode = ARGV[b + 2], limit = tonumber(ARGV[b + 3]), min = tonumber(ARGV[b + 4]),
    want = tonumber(ARGV[b + 5]), p1 = tonumber(ARGV[b + 6]), p2 = tonumber(ARGV[b + 7]), p3 = tonumber(ARGV[b + 8]),
    exp = tonumber(ARGV[b + 9]), took = 0 }
  if it.kind == "f" then
    local used = counter(it, KEYS[k])
    k = k + 1
    it.avail = math.max(0, it.limit - used)
    it.reset = it.p1
    if it.avail >= it.min then it.retry = it.reset elseif it.min > it.limit then it.retry = -1 else it.retry = it.p1 end
  elseif it.kind == "s" then
    local prev = math.max(0, tonumber(redis.call("HGET", KEYS[k], tenant)) or 0)
    local cur = counter(it, KEYS[k + 1])
    k = k + 2
    local size = it.p1
    local start = math.floor(now / size) * size
    local elapsed = now - start
    -- the previous bucket counts in proportion to its overlap, rounded up (never under-counts)
    it.avail = math.max(0, it.limit - math.ceil(prev * (size - elapsed) / size) - cur)
    it.reset = start + size
    local room = it.limit - cur - it.min
    if it.avail >= it.min then
      it.retry = it.reset
    elseif room >= 0 then
      if prev <= room then it.retry = now else
        local e = math.ceil(size - (room * size) / prev)
        it.retry = start + math.min(size, math.max(e, elapsed))
      end
    else
      local nextRoom = it.limit - it.min
      if nextRoom < 0 then it.retry = -1
      elseif cur == 0 then it.retry = start + size else
        local e = math.ceil(size - (nextRoom * size) / cur)
        it.retry = start + size + math.min(size, math.max(0, e))
      end
    end
  else
    it.key = KEYS[k]
    k = k + 1
    local rate, period, burst = it.p1, it.p2, it.p3
    local milli, rem = refill(redis.call("HGET", it.key, tenant), rate, period, burst)
    it.milli, it.rem = milli, rem
    it.avail = math.floor(milli / 1000)
    -- the first whole ms at which the refill has added the deficit; never, past the burst
    local function at(units)
      if units > burst then return -1 end
      local deficit = units * 1000 * period - (milli * period + rem)
      if deficit <= 0 then return now end
      return now + math.ceil(deficit / (rate * 1000))
    end
    it.reset = at(burst)
    if it.avail >= it.min then it.retry = it.reset else it.retry = at(it.min) end
  end
  it.reg = KEYS[k]
  k = k + 1
  if it.mode == "e" and it.avail < it.min then ok = false end
  items[i] = it
end
local out = { ok and 1 or 0 }
for i = 1, n do
  local it = items[i]
  local granted = 0
  if ok then
    if it.mode == "s" then granted = it.want
    else
      -- the registry only where a fair split could cut the grant (mirror of planAcquire)
      local s = 1
      if it.want > it.min and it.avail < it.want * slots then s = sharers(it.reg, it.exp) end
      granted = fairGrant(it.min, it.want, it.avail, s)
    end
  end
  if it.kind == "b" then
    if granted > 0 then
      redis.call("HSET", it.key, tenant, encode(take(it.milli, it.rem, granted, it.p3)))
      redis.call("PEXPIRE", it.key, it.exp)
    end
  elseif it.took > 0 then
    local back = it.took - granted
    -- nothing granted from a field this call found at 0 or missing: no field (nor hash) is left behind
    if granted == 0 and it.fresh then redis.call("HDEL", it.key, tenant)
    elseif back > 0 then redis.call("HINCRBY", it.key, tenant, -back) end
    -- a field created by this grant may be the hash's first: give the hash its expiry
    if granted > 0 and it.fresh then redis.call("PEXPIRE", it.key, it.exp) end
  end
  out[#out + 1] = granted
  -- a shadow limit may pass its limit: its available goes below 0 (what it would have denied)
  if it.mode == "s" then out[#out + 1] = it.avail - granted else out[#out + 1] = math.max(0, it.avail - granted) end
  out[#out + 1] = it.reset
  out[#out + 1] = it.retry
end
return out`;
export const ACQUIRE_SHA = "0ef3afd60e670e015090afd8e930fb5ff56c7120";

/**
 * ADJUST: applies usage deltas (lease returns, async counts, fail-open settlements) of many tenants in one call
 * (mirror of algorithms/acquire.ts applyDelta): counters never below 0, buckets never above their burst.
 * KEYS: one hash per delta. ARGV[1] now (ms), then 7 values per delta: tenant, units, kind ("c" counter | "b"
 *   bucket), rate, period ms, burst, ttl (ms).
 * Returns the value after each delta (bucket: whole tokens left). A return to a counter that is gone or at 0 leaves
 * no field behind (HINCRBY, then HDEL when it created one: one command in the common case), so every hash this
 * script writes has an expiry.
 */
export const ADJUST_LUA = `local now = tonumber(ARGV[1])
${BUCKET_LUA}
local out = {}
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 7
  local key, tenant, units, kind = KEYS[i], ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3]
  local exp = tonumber(ARGV[b + 7])
  if kind == "b" then
    local rate, period, burst = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
    local raw = redis.call("HGET", key, tenant)
    if units <= 0 and not raw then
      -- a missing bucket is full: a return (or nothing) changes nothing, and writes nothing
      out[i] = burst
    else
      local milli, rem = refill(raw, rate, period, burst)
      milli, rem = take(milli, rem, units, burst)
      redis.call("HSET", key, tenant, encode(milli, rem))
      redis.call("PEXPIRE", key, exp)
      out[i] = math.floor(milli / 1000)
    end
  else
    local v = 0
    if units == 0 then
      v = tonumber(redis.call("HGET", key, tenant)) or 0
    else
      v = redis.call("HINCRBY", key, tenant, units)
      if units < 0 and v == units then
        -- a return to a field that was gone or at 0 (its period's hash expired, or an admin reset): nothing to give
        -- back, and nothing may stay behind (a field below 0, or a hash without an expiry)
        redis.call("HDEL", key, tenant)
        v = 0
      elseif v < 0 then
        -- a return of more than is counted: the counter stays at 0 (a negative one would hand out extra units)
        redis.call("HSET", key, tenant, 0)
        v = 0
      elseif v == units then
        -- a field created by this delta may be the hash's first: give the hash its expiry
        redis.call("PEXPIRE", key, exp)
      end
    end
    out[i] = v
  end
end
return out`;
export const ADJUST_SHA = "1b870bed755c9094bc7d5faad9cad811d0f5f904";

/**
 * SIZE: tenants and bytes held by the shards of one usage period, in one round trip.
 * KEYS: the period's shard hashes. Returns { fields, bytes } summed over the keys (missing keys count 0).
 */
export const SIZE_LUA = `local fields, bytes = 0, 0
for i = 1, #KEYS do
  fields = fields + redis.call("HLEN", KEYS[i])
  bytes = bytes + (redis.call("MEMORY", "USAGE", KEYS[i]) or 0)
end
return { fields, bytes }`;
export const SIZE_SHA = "66a2eac860ae40b414408cf18375ddd768773394";

/**
 * SLOTS_ACQUIRE: takes one concurrency slot in every scope, all or nothing (mirror of algorithms/slot-set.ts
 * takeSlots). Only live slots (expiry after now) count; an id already held is not counted twice.
 * KEYS: one sorted set per scope (member = slot id, score = its expiry, ms).
 * ARGV[1] slot id, ARGV[2] now (ms), ARGV[3] ttl (ms), then one limit per key.
 * Returns { ok (1|0), then per key: live slots held after the call }.
 * Upstash bills every command, so the common case (room in every scope, a new id) costs per scope ZCOUNT, ZADD NX
 * and PEXPIRE. Expired members are removed only when a scope is full (they never count, and only a holder that died
 * leaves one behind); the key's expiry, renewed with every slot, outlives its latest slot.
 */
export const SLOTS_ACQUIRE_LUA = `local id, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ok = 1
local used, held = {}, {}
for i = 1, #KEYS do
  used[i] = redis.call("ZCOUNT", KEYS[i], "(" .. string.format("%d", now), "+inf")
  if used[i] >= tonumber(ARGV[3 + i]) then
    redis.call("ZREMRANGEBYSCORE", KEYS[i], "-inf", string.format("%d", now))
    -- full, unless this id holds a live slot already (a resent call)
    local s = redis.call("ZSCORE", KEYS[i], id)
    if s and tonumber(s) > now then held[i] = true else ok = 0 end
  end
end
local out = { ok }
for i = 1, #KEYS do
  if ok == 1 then
    local exp = string.format("%d", now + ttl)
    if redis.call("ZADD", KEYS[i], "NX", exp, id) == 1 then
      used[i] = used[i] + 1
    else
      -- a resent call: its slot moves to the new expiry, and counts once (it counted already when still live)
      local s = redis.call("ZSCORE", KEYS[i], id)
      if not (s and tonumber(s) > now) then used[i] = used[i] + 1 end
      redis.call("ZADD", KEYS[i], "XX", exp, id)
    end
    redis.call("PEXPIRE", KEYS[i], ttl)
  end
  out[#out + 1] = used[i]
end
return out`;
export const SLOTS_ACQUIRE_SHA = "1c321bfecce59dbff6e7511d8d579636639974bc";

/**
 * SLOTS_RELEASE: gives a slot back in every scope.
 * KEYS: the scopes' sorted sets. ARGV[1] slot id. Returns how many were held.
 */
export const SLOTS_RELEASE_LUA = `local n = 0
for i = 1, #KEYS do n = n + redis.call("ZREM", KEYS[i], ARGV[1]) end
return n`;
export const SLOTS_RELEASE_SHA = "0ee5946099d72a40020f15483e63bb5d55267467";

/**
 * SLOTS_RENEW: moves a held slot's expiry forward where it has not expired (mirror of algorithms/slot-set.ts
 * renewSlots). KEYS: the scopes' sorted sets. ARGV[1] slot id, ARGV[2] now (ms), ARGV[3] ttl (ms).
 * Returns in how many scopes the slot is still held.
 */
export const SLOTS_RENEW_LUA = `local id, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
for i = 1, #KEYS do
  local exp = redis.call("ZSCORE", KEYS[i], id)
  if exp and tonumber(exp) > now then
    redis.call("ZADD", KEYS[i], "XX", string.format("%d", now + ttl), id)
    -- the key outlives its latest slot (no slot of the set expires later than this one)
    redis.call("PEXPIRE", KEYS[i], ttl)
    n = n + 1
  end
end
return n`;
export const SLOTS_RENEW_SHA = "d015546e5d998d5acc7f6126e66139285b10723f";

export interface LuaScript {
  name: string;
  source: string;
  sha: string;
}

export const SCRIPTS = {
  acquire: { name: "acquire", source: ACQUIRE_LUA, sha: ACQUIRE_SHA },
  adjust: { name: "adjust", source: ADJUST_LUA, sha: ADJUST_SHA },
  size: { name: "size", source: SIZE_LUA, sha: SIZE_SHA },
  slotsAcquire: { name: "slotsAcquire", source: SLOTS_ACQUIRE_LUA, sha: SLOTS_ACQUIRE_SHA },
  slotsRelease: { name: "slotsRelease", source: SLOTS_RELEASE_LUA, sha: SLOTS_RELEASE_SHA },
  slotsRenew: { name: "slotsRenew", source: SLOTS_RENEW_LUA, sha: SLOTS_RENEW_SHA },
} satisfies Record<string, LuaScript>;
