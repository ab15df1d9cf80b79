// Running work a few at a time (Ping All, Diagnose All, Refresh Accounts) and
// one at a time with coalesced follow-ups (rescans of registration files).

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

/**
 * `read` for a batch that needs `order`'s items in that order, `lanes` at a
 * time (runWithConcurrency): once item i has been read, item i + lanes is read
 * too, so that a lane's next read is done while the lane waits on item i. An
 * item read ahead is handed out once; the next ask reads it again.
 */
export function readingAhead<K, V>(order: readonly K[], lanes: number, read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const early = new Map<K, Promise<V>>();
  const position = new Map<K, number>();
  order.forEach((key, i) => {
    if (!position.has(key)) position.set(key, i);
  });
  const start = (i: number): void => {
    if (i >= order.length || early.has(order[i])) return;
    const p = read(order[i]);
    p.catch(() => undefined); // its reader sees the failure
    early.set(order[i], p);
  };
  return (key) => {
    const p = early.get(key) ?? read(key);
    early.delete(key);
    const i = position.get(key);
    if (i !== undefined) {
      const next = () => start(i + lanes);
      p.then(next, next);
    }
    return p;
  };
}

/**
 * Runs `task` one at a time. A call while a run is under way does not get that
 * run (it started before the caller's change and may have missed it) but the
 * one follow-up run that starts after it; every call made meanwhile shares it.
 */
export class CoalescingRunner {
  private running: Promise<void> | undefined;
  private followUp: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.followUp) return this.followUp;
    if (this.running) {
      const after = this.running.catch(() => undefined);
      this.followUp = after.then(() => {
        this.followUp = undefined;
        return this.start();
      });
      return this.followUp;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const run = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
