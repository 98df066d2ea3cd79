// UpstashStore: placeholder until the Lua scripts land.
import type { Store } from "../store.ts";

export interface UpstashStoreOptions {
  url: string;
  token: string;
  timeoutMs: number;
}

export function createUpstashStore(_opts: UpstashStoreOptions): Store {
  throw new Error("UpstashStore is not implemented yet");
}
