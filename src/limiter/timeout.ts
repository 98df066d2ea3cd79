// Bounded waits on the store: a call that does not answer in time fails with a TimeoutError the failure policy sees.
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** After a timeout or abort the store may have applied a write without answering. */
export const uncertain = (err: unknown): boolean =>
  err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
