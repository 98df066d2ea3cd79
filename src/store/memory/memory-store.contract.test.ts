// Runs the Store contract against the embedded MemoryStore.
import { describeStoreContract } from "../contract.case.ts";
import { createMemoryStore } from "./memory-store.ts";

describeStoreContract("MemoryStore", () => ({ store: createMemoryStore() }));
