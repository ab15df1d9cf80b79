/**
 * Runs `worker` over `items` with at most `limit` in flight, in order of start.
 * Once `signal` aborts, items not yet started get `onSkipped` instead (the
 * workers already running see the same signal and decide themselves).
 */
export async function runWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
  onSkipped: (item: T, index: number) => R,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = signal?.aborted ? onSkipped(items[index], index) : await worker(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
