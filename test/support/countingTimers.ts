// Timers for the account model that count what is still pending, so a test
// can prove that nothing is left running after dispose. Real timers
// underneath, unref'd like realTimers: process.getActiveResourcesInfo()
// does not list those, so only this count sees them.
import type { DisposableLike } from '../../src/vscode/ports';
import { realTimers, type Timers } from '../../src/vscode/accounts/types';

export class CountingTimers implements Timers {
  private readonly live = new Map<object, string>();

  setTimeout(fn: () => void, ms: number): DisposableLike {
    const key = {};
    const where = (new Error().stack ?? '').split('\n').slice(2, 5).join(' |').replace(/\s+/g, ' ');
    const handle = realTimers.setTimeout(() => {
      this.live.delete(key);
      fn();
    }, ms);
    this.live.set(key, `${ms} ms, set at ${where}`);
    return {
      dispose: () => {
        this.live.delete(key);
        handle.dispose();
      },
    };
  }

  /** Timers set and neither fired nor disposed, with where they were set. */
  pending(): string[] {
    return [...this.live.values()];
  }
}
