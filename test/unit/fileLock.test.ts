// The cross-window lock, exercised by real separate processes.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLock, MemoryLock } from '../../src/core/fileLock';

const lockModule = path.resolve(__dirname, '../../src/core/fileLock.js');

/** A worker process: N times, under the lock, read a counter file, wait a little, write it + 1. */
const worker = `
const { FileLock } = require(${JSON.stringify(lockModule)});
const fs = require('fs');
const [dir, counter, rounds] = process.argv.slice(1);
const lock = new FileLock(dir, { pollMs: 5 });
(async () => {
  for (let i = 0; i < Number(rounds); i++) {
    await lock.run('account', async () => {
      const n = Number(fs.readFileSync(counter, 'utf8'));
      await new Promise((r) => setTimeout(r, 2));
      fs.writeFileSync(counter, String(n + 1));
    });
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', worker, ...args], (err, _out, stderr) =>
      err ? reject(new Error(stderr || err.message)) : resolve(),
    ),
  );
}

describe('FileLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-lock-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lets only one process at a time into the critical section', async () => {
    const counter = path.join(dir, 'counter');
    await fs.writeFile(counter, '0');
    await Promise.all([1, 2, 3, 4].map(() => run([path.join(dir, 'locks'), counter, '15'])));
    assert.equal(await fs.readFile(counter, 'utf8'), '60');
  });

  it('releases the lock when the work throws', async () => {
    const lock = new FileLock(dir);
    await assert.rejects(
      lock.run('k', async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await lock.run('k', async () => 'again'), 'again');
  });

  it('takes over a lock whose holder died (stale file)', async () => {
    const lock = new FileLock(dir, { staleMs: 200 });
    // A holder that crashed leaves its file behind and never touches it again.
    await lock.run('k', async () => {
      const [file] = (await fs.readdir(dir)).filter((f) => f.endsWith('.lock'));
      await fs.copyFile(path.join(dir, file), path.join(dir, `${file}.copy`));
    });
    const [copy] = (await fs.readdir(dir)).filter((f) => f.endsWith('.copy'));
    await fs.rename(path.join(dir, copy), path.join(dir, copy.replace(/\.copy$/, '')));
    const old = new Date(Date.now() - 10_000);
    await fs.utimes(path.join(dir, copy.replace(/\.copy$/, '')), old, old);
    const started = Date.now();
    assert.equal(await lock.run('k', async () => 'taken'), 'taken');
    assert.ok(Date.now() - started < 2000);
  });

  it('waits for a live holder instead of breaking its lock', async () => {
    // staleMs leaves the heartbeat (every staleMs / 3) room for a busy machine's event-loop stalls.
    const lock = new FileLock(dir, { staleMs: 600 });
    const order: string[] = [];
    const first = lock.run('k', async () => {
      order.push('first in');
      await new Promise((r) => setTimeout(r, 1_500)); // longer than staleMs: the heartbeat must keep it fresh
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 30));
    const second = lock.run('k', async () => void order.push('second'));
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second']);
  });

  it('MemoryLock serialises work per key', async () => {
    const lock = new MemoryLock();
    let inside = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lock.run('k', async () => {
          max = Math.max(max, ++inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        }),
      ),
    );
    assert.equal(max, 1);
  });
});
