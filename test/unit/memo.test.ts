import * as assert from 'node:assert/strict';
import { memoByKey } from '../../src/core/memo';

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
});
