// Two small per-account bookkeeping helpers of the account manager.

/** Runs the tasks of one account one after another; different accounts run side by side. */
export class PerAccountQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run(id: string, task: () => Promise<void>, onError: (e: unknown) => void): Promise<void> {
    const next = (this.tails.get(id) ?? Promise.resolve()).then(task).catch(onError);
    this.tails.set(id, next);
    void next.finally(() => {
      if (this.tails.get(id) === next) this.tails.delete(id);
    });
    return next;
  }
}

/** Which accounts have an operation of some kind in progress (nested runs count). */
export class PerAccountActivity {
  private readonly running = new Map<string, number>();

  has(id: string): boolean {
    return this.running.has(id);
  }

  async during<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.running.set(id, (this.running.get(id) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.running.get(id) ?? 1) - 1;
      if (n > 0) this.running.set(id, n);
      else this.running.delete(id);
    }
  }
}
