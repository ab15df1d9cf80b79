// Automatic rotation before expiry. Timers are only a wake-up call: when one
// fires, the real time is compared with the due time again, because a laptop
// that slept lets a timer fire minutes late (or, on some systems, not advance
// at all while asleep). No single wait is longer than `maxWaitMs`, so after a
// wake-up the check happens within that time.
import type { Timers } from './types';
import type { DisposableLike } from '../ports';

export interface RotationSchedulerOptions {
  now: () => number;
  timers: Timers;
  /** When the account's tokens should be rotated; undefined = nothing to schedule. */
  dueAt(accountId: string): number | undefined;
  /** Rotates (or adopts another window's rotation). Throws on failure. */
  rotate(accountId: string): Promise<void>;
  maxWaitMs?: number;
  /** Waits after consecutive failures (the last one repeats). */
  failureBackoffMs?: number[];
}

interface Slot {
  timer?: DisposableLike;
  checkAt?: number;
  running: boolean;
  failures: number;
  /** Back-off after a failed attempt: no new attempt before this time. */
  notBefore?: number;
}

export class RotationScheduler implements DisposableLike {
  private readonly slots = new Map<string, Slot>();
  private readonly maxWaitMs: number;
  private readonly backoff: number[];
  private readonly running = new Set<Promise<void>>();
  private disposed = false;

  constructor(private readonly options: RotationSchedulerOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.backoff = options.failureBackoffMs?.length ? options.failureBackoffMs : [5_000, 15_000, 30_000, 60_000];
  }

  /** (Re)computes when to look at this account next. Call after anything changed its tokens. */
  arm(accountId: string): void {
    if (this.disposed) return;
    const slot = this.slot(accountId);
    if (slot.running) return; // re-armed when the rotation finishes
    slot.failures = 0;
    slot.notBefore = undefined;
    this.schedule(accountId, slot, this.options.dueAt(accountId));
  }

  disarm(accountId: string): void {
    const slot = this.slots.get(accountId);
    slot?.timer?.dispose();
    this.slots.delete(accountId);
  }

  /** When the scheduler will next look at the account (for the tooltip and tests). */
  nextCheckAt(accountId: string): number | undefined {
    return this.slots.get(accountId)?.checkAt;
  }

  dispose(): void {
    this.disposed = true;
    for (const slot of this.slots.values()) slot.timer?.dispose();
    this.slots.clear();
  }

  /**
   * Settles when the rotations already under way have finished: dispose stops
   * new ones, but one in flight still stores its tokens and releases its lock.
   */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private slot(accountId: string): Slot {
    let slot = this.slots.get(accountId);
    if (!slot) {
      slot = { running: false, failures: 0 };
      this.slots.set(accountId, slot);
    }
    return slot;
  }

  private schedule(accountId: string, slot: Slot, at: number | undefined): void {
    slot.timer?.dispose();
    slot.timer = undefined;
    slot.checkAt = at;
    if (at === undefined || this.disposed) return;
    const wait = Math.min(Math.max(0, at - this.options.now()), this.maxWaitMs);
    slot.timer = this.options.timers.setTimeout(() => {
      const check = this.check(accountId);
      this.running.add(check);
      void check.finally(() => this.running.delete(check));
    }, wait);
  }

  private async check(accountId: string): Promise<void> {
    const slot = this.slots.get(accountId);
    if (!slot || slot.running || this.disposed) return;
    const due = this.options.dueAt(accountId);
    if (due === undefined) return this.schedule(accountId, slot, undefined);
    const target = Math.max(due, slot.notBefore ?? due);
    if (this.options.now() < target) return this.schedule(accountId, slot, target);
    slot.running = true;
    slot.timer = undefined;
    try {
      await this.options.rotate(accountId);
      slot.failures = 0;
      slot.notBefore = undefined;
    } catch {
      slot.failures++;
      slot.notBefore = this.options.now() + this.backoff[Math.min(slot.failures - 1, this.backoff.length - 1)];
    } finally {
      slot.running = false;
    }
    if (this.slots.get(accountId) !== slot || this.disposed) return;
    const nextDue = this.options.dueAt(accountId);
    this.schedule(accountId, slot, nextDue === undefined ? undefined : Math.max(nextDue, slot.notBefore ?? nextDue));
  }
}
