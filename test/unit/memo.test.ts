import * as assert from 'node:assert/strict';
import { memoByKey, memoByPair, sharedPerKey } from '../../src/core/memo';

describe('memoByKey', () => {
  it('computes each key once and forgets the oldest beyond its bound', () => {
    const computed: string[] = [];
    const upper = memoByKey(2, (k) => {
      computed.push(k);
      return k.toUpperCase();
    });
    assert.equal(upper('a'), 'A');
    assert.equal(upper('a'), 'A');
    assert.equal(upper('b'), 'B');
    assert.deepEqual(computed, ['a', 'b']);
    upper('c'); // forgets 'a'
    upper('b');
    upper('a');
    assert.deepEqual(computed, ['a', 'b', 'c', 'a']);
  });

  it('remembers undefined answers too', () => {
    let calls = 0;
    const none = memoByKey(4, () => (calls++, undefined));
    none('x');
    none('x');
    assert.equal(calls, 1);
  });

  it('memoByPair: computes each ordered pair once, undefined included, and starts over when full', () => {
    const computed: string[] = [];
    const joined = memoByPair(3, (a, b) => {
      computed.push(`${a}+${b}`);
      return a === b ? undefined : `${a}${b}`;
    });
    assert.equal(joined('a', 'b'), 'ab');
    assert.equal(joined('a', 'b'), 'ab');
    assert.equal(joined('b', 'a'), 'ba');
    assert.equal(joined('a', 'a'), undefined);
    assert.equal(joined('a', 'a'), undefined);
    assert.deepEqual(computed, ['a+b', 'b+a', 'a+a']);
    joined('c', 'd'); // a fourth pair: the three before are forgotten
    joined('c', 'd');
    joined('a', 'b');
    assert.deepEqual(computed, ['a+b', 'b+a', 'a+a', 'c+d', 'a+b']);
  });

  it('sharedPerKey: concurrent callers share one call per key, and a failed one is tried again', async () => {
    const calls: string[] = [];
    let fail = true;
    const fetchOnce = sharedPerKey(async (key: string, suffix: string) => {
      calls.push(key);
      await new Promise((r) => setTimeout(r, 5));
      if (key === 'bad' && fail) throw new Error('down');
      return key + suffix;
    });
    assert.deepEqual(await Promise.all([fetchOnce('a', '!'), fetchOnce('a', '?'), fetchOnce('b', '!')]), ['a!', 'a!', 'b!']);
    const failed = await Promise.allSettled([fetchOnce('bad', '!'), fetchOnce('bad', '!')]);
    assert.deepEqual(
      failed.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await fetchOnce('bad', '!'), 'bad!');
    assert.equal(await fetchOnce('a', '?'), 'a!');
    assert.deepEqual(calls, ['a', 'b', 'bad', 'bad']);
  });
});
