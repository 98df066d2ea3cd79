// FairTenantQueue: waiting entries in one FIFO lane per tenant, served by weighted round-robin over the lanes, so one
// tenant's many entries delay another tenant's entry by at most one visit of each lane ahead (weight entries each).
// In "fifo" order the lanes are served by arrival instead (the oldest head first): one tenant's backlog then delays
// everyone behind it, which is what an operator compares fairness against.
// Hand-written: the libraries at hand are priority or FIFO queues; none keeps per-key lanes with a turn ring and
// removal of any entry (an aborted or expired wait leaves from the middle of its lane).

export interface QueueEntry<T> {
  readonly tenant: string;
  readonly item: T;
  /** Arrival rank in the queue (serves "fifo" order). */
  readonly seq: number;
}

/** How waiting entries are served across tenants. */
export type QueueOrder = "round-robin" | "fifo";

interface Lane<T> {
  tenant: string;
  items: Array<QueueEntry<T>>;
  weight: number;
  /** Entries this lane may still take in its current visit (set when the visit begins). */
  credit: number;
}

/**
 * A new lane joins the ring just before the lane being served, i.e. at the end of the current round: every lane
 * already waiting gets its visit first, then the newcomer. A visit serves up to `weight` entries of the lane.
 */
export class FairTenantQueue<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly ring: Array<Lane<T>> = [];
  /** Index in `ring` of the lane being served. */
  private cursor = 0;
  private count = 0;
  private seq = 0;
  private readonly order: QueueOrder;

  constructor(order: QueueOrder = "round-robin") {
    this.order = order;
  }

  get size(): number {
    return this.count;
  }

  depth(tenant: string): number {
    return this.lanes.get(tenant)?.items.length ?? 0;
  }

  /** Tenants with entries, each with its depth. */
  depths(): Array<[tenant: string, depth: number]> {
    return this.ring.map((l) => [l.tenant, l.items.length]);
  }

  /** Appends an entry to its tenant's lane; `weight` (at least 1) is the lane's turns per visit from now on. */
  push(tenant: string, item: T, weight = 1): QueueEntry<T> {
    const entry: QueueEntry<T> = { tenant, item, seq: this.seq++ };
    const w = Math.max(1, Math.floor(weight));
    let lane = this.lanes.get(tenant);
    if (!lane) {
      lane = { tenant, items: [], weight: w, credit: w };
      this.lanes.set(tenant, lane);
      if (this.ring.length === 0) {
        this.ring.push(lane);
        this.cursor = 0;
      } else {
        this.ring.splice(this.cursor, 0, lane);
        this.cursor++;
      }
    }
    lane.weight = w;
    lane.items.push(entry);
    this.count++;
    return entry;
  }

  /** Takes an entry out wherever it is (no turn is spent); false when it was not queued. */
  remove(entry: QueueEntry<T>): boolean {
    const lane = this.lanes.get(entry.tenant);
    const i = lane ? lane.items.indexOf(entry) : -1;
    if (!lane || i < 0) return false;
    lane.items.splice(i, 1);
    this.count--;
    if (lane.items.length === 0) this.dropLane(lane);
    return true;
  }

  /** The entry whose turn it is among the lanes `eligible` accepts (all by default), without taking it. */
  peek(eligible: (tenant: string) => boolean = () => true): QueueEntry<T> | undefined {
    const n = this.ring.length;
    if (this.order === "fifo") {
      let oldest: QueueEntry<T> | undefined;
      for (const lane of this.ring)
        if (eligible(lane.tenant) && (!oldest || lane.items[0]!.seq < oldest.seq)) oldest = lane.items[0];
      return oldest;
    }
    for (let k = 0; k < n; k++) {
      const lane = this.ring[(this.cursor + k) % n]!;
      if (eligible(lane.tenant)) return lane.items[0];
    }
    return undefined;
  }

  /** Takes the entry `peek` returned, spending one turn of its lane's visit (lanes skipped to reach it lose theirs). */
  take(entry: QueueEntry<T>): void {
    const lane = this.lanes.get(entry.tenant);
    if (!lane || lane.items[0] !== entry) throw new Error("take: not the head of its lane");
    const at = this.ring.indexOf(lane);
    if (at !== this.cursor) {
      this.cursor = at;
      lane.credit = lane.weight;
    }
    lane.items.shift();
    this.count--;
    lane.credit--;
    if (lane.items.length === 0) this.dropLane(lane);
    else if (lane.credit <= 0) this.advance();
  }

  /** peek + take. */
  shift(eligible?: (tenant: string) => boolean): QueueEntry<T> | undefined {
    const entry = this.peek(eligible);
    if (entry) this.take(entry);
    return entry;
  }

  private advance(): void {
    this.cursor = (this.cursor + 1) % this.ring.length;
    const next = this.ring[this.cursor]!;
    next.credit = next.weight;
  }

  private dropLane(lane: Lane<T>): void {
    this.lanes.delete(lane.tenant);
    const at = this.ring.indexOf(lane);
    this.ring.splice(at, 1);
    if (this.ring.length === 0) {
      this.cursor = 0;
      return;
    }
    if (at < this.cursor) this.cursor--;
    else if (at === this.cursor) {
      // The lane being served left: the next one begins its visit.
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const next = this.ring[this.cursor]!;
      next.credit = next.weight;
    }
  }
}
