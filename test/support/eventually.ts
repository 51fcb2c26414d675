/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`:
 * how tests wait for asynchronous outcomes without fixed sleeps.
 */
export const eventually = async <T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 20,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};
