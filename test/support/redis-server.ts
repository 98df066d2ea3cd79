// Re-export: the private redis-server helper lives in tools/ (dev:redis and the benchmark use it too).
export * from "../../tools/redis-server.ts";
