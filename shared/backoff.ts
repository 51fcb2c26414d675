/** Waiting between retries: exponential backoff with full jitter, shared by the retry loops. */

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Delay before retry number `retry` (1 for the first retry): a uniformly random value in
 * [0, min(capMs, baseMs · 2^(retry−1))]. Full jitter spreads retries of many callers apart.
 */
export const backoffDelay = (
  retry: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
};
