/**
 * Settles like `work`, or rejects with `timeoutError()` after `ms` if `work` has not settled by then.
 * The timer is cleared either way. `work` itself is not cancelled: callers that hold a resource
 * opened late (a database connection) release it themselves.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
