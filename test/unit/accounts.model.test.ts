// The parts of the accounts feature that need no homeserver: the rotation
// timer, the cross-window secret store, presentation and scope matching.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RotationScheduler } from '../../src/vscode/accounts/scheduler';
import { InMemorySecretBackend, InMemorySecretStorage } from '../support/memoryStorage';
import { SecretTokenStore, secretKeyFor } from '../../src/vscode/accounts/secretTokenStore';
import { accountItemModel, contextValueFor, markdownToText, parseLifetime } from '../../src/vscode/accounts/present';
import type { AccountView, Timers } from '../../src/vscode/accounts/types';
import type { DisposableLike } from '../../src/vscode/ports';
import { accountMatchesScopes } from '../../src/vscode/auth/sessions';

/** A clock and timers the test moves by hand. */
class ManualTime implements Timers {
  now = 1_000_000;
  private pending: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  setTimeout(fn: () => void, ms: number): DisposableLike {
    const entry = { at: this.now + ms, fn, cancelled: false };
    this.pending.push(entry);
    return { dispose: () => (entry.cancelled = true) };
  }

  /** Moves the clock, firing timers in order (a timer fires at its time or later, never earlier). */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const next = this.pending.filter((p) => !p.cancelled && p.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.now = Math.max(this.now, next.at);
      next.cancelled = true;
      next.fn();
      await flush();
    }
    this.now = end;
    await flush();
  }

  /** The laptop sleeps: wall-clock time passes, monotonic timers do not move. */
  async sleepLaptop(ms: number): Promise<void> {
    this.now += ms;
    for (const p of this.pending) p.at += ms;
    await flush();
  }

  pendingWaits(): number[] {
    return this.pending.filter((p) => !p.cancelled).map((p) => p.at - this.now);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

describe('accounts: rotation timer', () => {
  it('rotates when the due time comes, then re-arms for the next due time', async () => {
    const time = new ManualTime();
    let due = time.now + 200_000;
    const rotations: number[] = [];
    const scheduler = new RotationScheduler({
      now: () => time.now,
      timers: time,
      dueAt: () => due,
      rotate: async () => {
        rotations.push(time.now);
        due = time.now + 200_000;
      },
    });
    scheduler.arm('a');
    await time.advance(199_000);
    assert.equal(rotations.length, 0, 'not before the due time');
    await time.advance(1_000);
    assert.deepEqual(rotations, [1_200_000]);
    assert.equal(scheduler.nextCheckAt('a'), 1_400_000);
    await time.advance(200_000);
    assert.equal(rotations.length, 2);
    scheduler.dispose();
  });

  it('never waits longer than maxWaitMs, so a wake-up from sleep is noticed by the real clock', async () => {
    const time = new ManualTime();
    const due = time.now + 10 * 60_000;
    let rotated = 0;
    const scheduler = new RotationScheduler({
      now: () => time.now,
      timers: time,
      maxWaitMs: 60_000,
      dueAt: () => (rotated ? undefined : due),
      rotate: async () => void rotated++,
    });
    scheduler.arm('a');
    assert.ok(
      time.pendingWaits().every((w) => w <= 60_000),
      'each single wait is capped',
    );
    // Asleep for 20 minutes: the timer does not advance, but the real time passes the due time.
    await time.sleepLaptop(20 * 60_000);
    assert.equal(rotated, 0);
    await time.advance(60_000);
    assert.equal(rotated, 1, 'rotated within one capped wait after waking');
    scheduler.dispose();
  });

  it('backs off after a failure instead of retrying in a tight loop', async () => {
    const time = new ManualTime();
    const due = time.now + 1_000;
    const attempts: number[] = [];
    const scheduler = new RotationScheduler({
      now: () => time.now,
      timers: time,
      failureBackoffMs: [5_000, 20_000],
      dueAt: () => due,
      rotate: async () => {
        attempts.push(time.now - due);
        throw new Error('network down');
      },
    });
    scheduler.arm('a');
    await time.advance(30_000);
    assert.deepEqual(attempts, [0, 5_000, 25_000]);
    scheduler.dispose();
  });

  it('stops when there is nothing to rotate any more', async () => {
    const time = new ManualTime();
    let due: number | undefined = time.now + 1_000;
    const scheduler = new RotationScheduler({
      now: () => time.now,
      timers: time,
      dueAt: () => due,
      rotate: async () => void (due = undefined),
    });
    scheduler.arm('a');
    await time.advance(2_000);
    assert.equal(scheduler.nextCheckAt('a'), undefined);
    assert.deepEqual(time.pendingWaits(), []);
    scheduler.dispose();
  });
  it('dispose stops new rotations, and settled() waits for those under way to finish storing', async () => {
    const time = new ManualTime();
    const finish: Array<() => void> = [];
    const stored: string[] = [];
    const scheduler = new RotationScheduler({
      now: () => time.now,
      timers: time,
      dueAt: () => time.now,
      rotate: async (id) => {
        await new Promise<void>((resolve) => finish.push(resolve));
        stored.push(id);
      },
    });
    scheduler.arm('a');
    scheduler.arm('b');
    await time.advance(0);
    assert.equal(finish.length, 2, 'both rotations started');
    scheduler.dispose();
    let settled = false;
    const waiting = scheduler.settled().then(() => (settled = true));
    finish[0]();
    await flush();
    assert.deepEqual(stored, ['a']);
    assert.equal(settled, false, 'settled while a rotation was still under way');
    finish[1]();
    await waiting;
    assert.deepEqual(stored, ['a', 'b']);
    await time.advance(60_000);
    assert.equal(finish.length, 2, 'a rotation started after dispose');
  });
});

describe('accounts: secret token store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-secrets-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const tokens = (n: number) => ({
    accessToken: `syt_access_${n}_abcdef`,
    refreshToken: `syr_refresh_${n}_abcdef`,
    issuedAt: n,
    expiresAt: n + 300_000,
  });

  it('keeps one entry per account and keeps the tokens of an ended session', async () => {
    const secrets = InMemorySecretStorage.standalone();
    const store = new SecretTokenStore(secrets, { coherenceDir: dir });
    await store.set('a', tokens(1));
    assert.deepEqual(secrets.keys(), [secretKeyFor('a')]);
    assert.deepEqual(await store.get('a'), tokens(1));
    await store.markEnded('a', { errcode: 'M_FORBIDDEN' }, 5);
    assert.equal(await store.get('a'), undefined, 'an ended session hands out no token');
    assert.deepEqual((await store.read('a'))?.tokens, tokens(1), 'but its tokens are kept');
    assert.deepEqual((await store.read('a'))?.ended, { at: 5, errcode: 'M_FORBIDDEN' });
    await store.delete('a');
    assert.deepEqual(secrets.keys(), []);
  });

  it('makes a lagging window wait for another window’s write instead of reading the old refresh token', async () => {
    const backend = new InMemorySecretBackend();
    const windowA = new SecretTokenStore(backend.openWindow(300), { coherenceDir: dir });
    const windowB = new SecretTokenStore(backend.openWindow(300), { coherenceDir: dir });
    await windowA.set('a', tokens(1));
    await new Promise((r) => setTimeout(r, 350));
    await windowA.set('a', tokens(2));
    const started = Date.now();
    assert.deepEqual(await windowB.get('a'), tokens(2));
    assert.ok(Date.now() - started >= 150, 'it waited for the write to arrive');
  });

  it('without the shared marker folder the lagging window reads stale tokens (the failure the marker prevents)', async () => {
    const backend = new InMemorySecretBackend();
    const windowA = new SecretTokenStore(backend.openWindow(300));
    const windowB = new SecretTokenStore(backend.openWindow(300));
    await windowA.set('a', tokens(1));
    await new Promise((r) => setTimeout(r, 350));
    await windowA.set('a', tokens(2));
    assert.deepEqual(await windowB.get('a'), tokens(1));
  });

  it('still refuses to rotate with a copy that missed another window’s write long after it happened', async () => {
    const backend = new InMemorySecretBackend();
    const windowA = new SecretTokenStore(backend.openWindow(), { coherenceDir: dir });
    await windowA.set('a', tokens(1));
    const windowB = new SecretTokenStore(backend.openWindow(Infinity), { coherenceDir: dir, catchUpTimeoutMs: 50, markerTrustMs: 20 });
    await windowA.set('a', tokens(2));
    await new Promise((r) => setTimeout(r, 60)); // older than markerTrustMs: age alone proves nothing
    await assert.rejects(windowB.get('a', { forRotation: true }), { name: 'StaleTokensError' });
    assert.deepEqual(await windowB.get('a'), tokens(1), 'a plain read still answers with what the window has');
  });

  it('trusts an entry written after the marker (its writer stopped before updating the marker)', async () => {
    const secrets = InMemorySecretStorage.standalone();
    const store = new SecretTokenStore(secrets, { coherenceDir: dir, catchUpTimeoutMs: 2_000 });
    await store.set('a', tokens(1));
    // What a writer that died between its two writes leaves: the new entry, the old marker.
    const entry = JSON.parse((await secrets.get(secretKeyFor('a')))!);
    await secrets.store(
      secretKeyFor('a'),
      JSON.stringify({ ...entry, tokens: tokens(2), generation: 'newer', writtenAt: entry.writtenAt + 1 }),
    );
    const started = Date.now();
    assert.deepEqual(await store.get('a', { forRotation: true }), tokens(2));
    assert.ok(Date.now() - started < 1_000, 'it did not wait for a marker that will never change');
  });

  it('stops waiting after the catch-up timeout when the write never arrives', async () => {
    const backend = new InMemorySecretBackend();
    const windowA = new SecretTokenStore(backend.openWindow(10_000), { coherenceDir: dir });
    const windowB = new SecretTokenStore(backend.openWindow(10_000), { coherenceDir: dir, catchUpTimeoutMs: 200 });
    await windowA.set('a', tokens(1));
    const started = Date.now();
    assert.equal(await windowB.get('a'), undefined);
    assert.ok(Date.now() - started < 2_000);
  });
});

function view(over: Partial<AccountView> = {}): AccountView {
  return {
    id: '@alice:example.org|https://matrix.example.org',
    userId: '@alice:example.org',
    homeserverUrl: 'https://matrix.example.org',
    serverName: 'example.org',
    deviceId: 'DEVICEID',
    specVersions: ['r0.6.1', 'v1.1', 'v1.11', 'v1.2'],
    signInMethod: 'password',
    state: 'signedIn',
    addedAt: 0,
    displayState: 'signedIn',
    token: { issuedAt: 0, expiresAt: 1_000_000 + 180_000, refreshable: true },
    ...over,
  };
}

describe('accounts: presentation', () => {
  it('renders label, description, tooltip and details as the user should see them', () => {
    const model = accountItemModel(view({ lastRotationAt: 1_000_000 - 120_000, refreshTokenLifetimeMs: 600_000 }), 1_000_000);
    assert.equal(model.label, '@alice:example.org');
    assert.equal(model.description, 'matrix.example.org');
    assert.equal(model.contextValue, 'account.signedIn.refreshable');
    const tooltip = markdownToText(model.tooltipMarkdown);
    for (const expected of [
      '@alice:example.org',
      'DEVICEID',
      'https://matrix.example.org',
      'expires in 3 min',
      'Last rotation: 2 min ago',
      'Custom refresh-token lifetime: 10 min',
      'v1.11',
    ]) {
      assert.ok(tooltip.includes(expected), `tooltip has "${expected}":\n${tooltip}`);
    }
    assert.ok(model.details.some((d) => d.label === 'Spec versions' && d.description === 'up to v1.11 (4 versions)'));
  });

  it('gives each state the context value the menus expect', () => {
    assert.equal(contextValueFor(view({ token: { issuedAt: 0, refreshable: false } })), 'account.signedIn');
    assert.equal(contextValueFor(view({ displayState: 'unreachable' })), 'account.signedIn.refreshable');
    assert.equal(contextValueFor(view({ displayState: 'expiringSoon' })), 'account.signedIn.refreshable');
    assert.equal(contextValueFor(view({ displayState: 'needsSignIn' })), 'account.needsSignIn');
    assert.equal(contextValueFor(view({ displayState: 'signedOut', token: undefined })), 'account.signedOut');
  });

  it('parses refresh-token lifetimes and rejects nonsense', () => {
    assert.deepEqual(parseLifetime(''), { ms: undefined });
    assert.deepEqual(parseLifetime('600000'), { ms: 600_000 });
    assert.deepEqual(parseLifetime('10m'), { ms: 600_000 });
    assert.deepEqual(parseLifetime('1h30m'), { ms: 5_400_000 });
    assert.deepEqual(parseLifetime(' 2d '), { ms: 172_800_000 });
    assert.ok('error' in parseLifetime('soon'));
    assert.ok('error' in parseLifetime('10 parsecs'));
    assert.ok('error' in parseLifetime('5'), 'under a second');
  });
});

describe('accounts: auth provider scopes', () => {
  const a = { homeserverUrl: 'https://matrix.example.org', serverName: 'example.org', userId: '@alice:example.org' };
  it('matches a homeserver by URL, host or server name, and optionally a user id', () => {
    assert.ok(accountMatchesScopes(a, undefined));
    assert.ok(accountMatchesScopes(a, []));
    assert.ok(accountMatchesScopes(a, ['https://matrix.example.org/']));
    assert.ok(accountMatchesScopes(a, ['matrix.example.org']));
    assert.ok(accountMatchesScopes(a, ['example.org']));
    assert.ok(accountMatchesScopes(a, ['example.org', '@alice:example.org']));
    assert.ok(!accountMatchesScopes(a, ['https://other.org']));
    assert.ok(!accountMatchesScopes(a, ['http://matrix.example.org']), 'scheme counts when given');
    assert.ok(!accountMatchesScopes(a, ['example.org', '@bob:example.org']));
  });
});
