// One spec-version parser and one expiry text, shared by the tree, the ping
// pipeline and the CLI.
import * as assert from 'node:assert/strict';
import { expiryText, formatDuration } from '../../src/core/expiry';
import { compareSpecVersions, newestSpecVersion, supportsSpecVersion } from '../../src/core/homeserver';
import { summarizeVersions } from '../../src/vscode/accounts/present';

describe('spec versions', () => {
  it('orders the r0 era before v1, and v1.10 after v1.9', () => {
    const sorted = ['v1.10', 'r0.6.1', 'v1.9', 'v1.1', 'r0.5.0', 'weird'].sort(compareSpecVersions);
    assert.deepEqual(sorted, ['weird', 'r0.5.0', 'r0.6.1', 'v1.1', 'v1.9', 'v1.10']);
  });

  it('the tree summary and the ping pipeline name the same newest version', () => {
    for (const list of [['r0.6.1'], ['r0.5.0', 'r0.6.1', 'v1.1'], ['v1.9', 'v1.10'], ['v1.1', 'v1.2.3']]) {
      const newest = newestSpecVersion(list);
      assert.ok(newest, `no newest version in ${list.join(', ')}`);
      assert.ok(
        summarizeVersions(list).startsWith(list.length === 1 ? newest : `up to ${newest}`),
        `${summarizeVersions(list)} vs ${newest}`,
      );
    }
  });

  it('a server with only r0 versions supports no v1 feature', () => {
    assert.equal(supportsSpecVersion({ versions: ['r0.6.1'], unstableFeatures: {} }, 'v1.1'), false);
    assert.equal(supportsSpecVersion({ versions: ['r0.6.1', 'v1.7'], unstableFeatures: {} }, 'v1.7'), true);
    assert.equal(supportsSpecVersion({ versions: ['v1.7'], unstableFeatures: {} }, 'nonsense'), false);
  });
});

describe('expiry text', () => {
  const now = 1_000_000_000;
  it('is the same words everywhere: in, ago, never', () => {
    assert.equal(expiryText(now + 45_000, now), 'expires in 45 s');
    assert.equal(expiryText(now + 3 * 60_000, now), 'expires in 3 min');
    assert.equal(expiryText(now - 2 * 60_000, now), 'expired 2 min ago');
    assert.equal(expiryText(now, now), 'expired 0 s ago');
    assert.equal(expiryText(undefined, now), 'does not expire');
  });

  it('rounds durations to one unit', () => {
    assert.deepEqual([59_000, 60_000, 119 * 60_000, 3 * 3_600_000, 49 * 3_600_000].map(formatDuration), [
      '59 s',
      '1 min',
      '119 min',
      '3 h',
      '2 d',
    ]);
  });
});
