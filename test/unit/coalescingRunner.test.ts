// The registration rescan runs one scan at a time; a caller that changed
// something and asks for a rescan must get a scan that started after its call.
import * as assert from 'node:assert/strict';
import { CoalescingRunner } from '../../src/core/concurrency';

/** A task whose runs finish only when the test says so; each run records what it saw. */
function controlledTask() {
  const finishers: Array<() => void> = [];
  const seen: number[] = [];
  let state = 0;
  const task = () =>
    new Promise<void>((resolve) => {
      seen.push(state);
      finishers.push(resolve);
    });
  return { task, seen, finishers, setState: (v: number) => (state = v) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescingRunner (registration rescans)', () => {
  it('a call during a run resolves only after a follow-up run that saw the change', async () => {
    const t = controlledTask();
    const runner = new CoalescingRunner(t.task);
    const first = runner.run();
    t.setState(1); // the caller's change, after the first run has started
    let secondDone = false;
    const second = runner.run().then(() => (secondDone = true));
    assert.notEqual(second, first);
    t.finishers[0]();
    await first;
    await tick();
    assert.equal(secondDone, false, 'the second call resolved with the run that started before it');
    assert.deepEqual(t.seen, [0, 1]);
    t.finishers[1]();
    await second;
    assert.equal(secondDone, true);
  });

  it('calls made during one run share a single follow-up run', async () => {
    const t = controlledTask();
    const runner = new CoalescingRunner(t.task);
    const first = runner.run();
    const a = runner.run();
    const b = runner.run();
    assert.equal(a, b);
    t.finishers[0]();
    await first;
    await tick();
    assert.equal(t.finishers.length, 2, 'exactly one follow-up run');
    t.finishers[1]();
    await Promise.all([a, b]);
    runner.run();
    assert.equal(t.finishers.length, 3, 'an idle runner starts right away');
  });

  it('a failed run does not stop the follow-up, and the caller of the failed run sees the error', async () => {
    let calls = 0;
    const runner = new CoalescingRunner(async () => {
      calls++;
      if (calls === 1) {
        await tick();
        throw new Error('scan failed');
      }
    });
    const first = runner.run();
    const second = runner.run();
    await assert.rejects(first, /scan failed/);
    await second;
    assert.equal(calls, 2);
  });
});
