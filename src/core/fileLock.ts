// A lock shared by processes that share a folder: several VS Code windows
// (globalStorage is per profile, not per window), or the CLI run twice at once.
// Exclusive create of a lock file; a holder that died leaves a file that turns
// stale after `staleMs` because live holders touch it every `staleMs / 3`.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sleep } from './http';
import { t } from './l10n';
import { nodeCrypto, nodeOs } from './nodeModules';

export interface ExclusiveLock {
  /** Runs `fn` while holding the lock named `key`; releases it however `fn` ends. */
  run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface FileLockOptions {
  staleMs?: number;
  acquireTimeoutMs?: number;
  pollMs?: number;
}

/**
 * The holder was a process on this machine that no longer exists (killed,
 * crashed): its lock need not age first. Another host's, or a live one's, must.
 */
function holderIsGone(holder: string): boolean {
  const [pid, , host] = holder.split(':');
  if (host !== nodeOs().hostname() || !/^\d+$/.test(pid ?? '') || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class FileLock implements ExclusiveLock {
  private readonly staleMs: number;
  private readonly acquireTimeoutMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly dir: string,
    options: FileLockOptions = {},
  ) {
    this.staleMs = options.staleMs ?? 30_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 120_000;
    this.pollMs = options.pollMs ?? 25;
  }

  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const file = path.join(this.dir, `${nodeCrypto().createHash('sha256').update(key).digest('hex').slice(0, 32)}.lock`);
    const owner = `${process.pid}:${nodeCrypto().randomUUID()}:${nodeOs().hostname()}`;
    await this.acquire(file, owner, signal);
    const heartbeat = setInterval(
      () => {
        const now = new Date();
        fs.utimes(file, now, now).catch(() => undefined);
      },
      Math.max(10, Math.floor(this.staleMs / 3)),
    );
    try {
      return await fn();
    } finally {
      clearInterval(heartbeat);
      await this.release(file, owner);
    }
  }

  private async acquire(file: string, owner: string, signal?: AbortSignal): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const deadline = Date.now() + this.acquireTimeoutMs;
    for (;;) {
      try {
        await fs.writeFile(file, owner, { flag: 'wx', mode: 0o600 });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      await this.breakIfStale(file);
      if (Date.now() > deadline) {
        throw new Error(
          t(
            'Another Matrix DevTools window or process has held the token lock for over {0} s; if none is running, delete {1}.',
            Math.round(this.acquireTimeoutMs / 1000),
            file,
          ),
        );
      }
      // Jitter keeps two waiting windows from polling in lockstep.
      await sleep(this.pollMs + Math.floor(Math.random() * this.pollMs), signal);
    }
  }

  private async breakIfStale(file: string): Promise<void> {
    let stat;
    let holder: string;
    try {
      [stat, holder] = await Promise.all([fs.stat(file), fs.readFile(file, 'utf8')]);
    } catch {
      return; // released meanwhile
    }
    if (Date.now() - stat.mtimeMs < this.staleMs && !holderIsGone(holder)) return;
    // Move it aside first, so two breakers cannot both delete a fresh lock:
    // only the one whose rename took the stale holder's file deletes it.
    const aside = `${file}.${nodeCrypto().randomUUID()}.stale`;
    try {
      await fs.rename(file, aside);
    } catch {
      return;
    }
    const taken = await fs.readFile(aside, 'utf8').catch(() => '');
    if (taken === holder) {
      await fs.rm(aside, { force: true });
    } else {
      // We grabbed someone's fresh lock by accident: put it back if the slot is still free.
      await fs.link(aside, file).catch(() => undefined);
      await fs.rm(aside, { force: true });
    }
  }

  private async release(file: string, owner: string): Promise<void> {
    const holder = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (holder === owner) await fs.rm(file, { force: true });
  }
}

/** In-process lock for tests and for stores no other process can see. */
export class MemoryLock implements ExclusiveLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(fn);
    this.tails.set(key, result);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === result) this.tails.delete(key);
    }
  }
}
