// TokenRotator (the core the extension and the CLI share) against the test
// homeserver over HTTP: single flight, cross-instance locking, lost answers,
// refused refresh tokens, soft logout.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MatrixApiError, RequestFailedError } from '../../src/core/errors';
import { FileLock, MemoryLock } from '../../src/core/fileLock';
import { HttpClient } from '../../src/core/http';
import {
  DEFAULT_ROTATION_POLICY,
  NoSessionError,
  NotRotatableError,
  rotationDueAt,
  SessionEndedError,
  TokenRotator,
  type TokenStore,
} from '../../src/core/rotation';
import { loginWithPassword, whoami, type SessionTokens } from '../../src/core/session';
import { TestHomeserver } from '../support/homeserver';

const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
const ACCOUNT = 'alice';

/** A store that, like the real ones, hands out copies. */
class MapStore implements TokenStore {
  readonly map = new Map<string, SessionTokens>();
  readonly ended: string[] = [];
  async get(id: string) {
    const t = this.map.get(id);
    return t && { ...t };
  }
  async set(id: string, tokens: SessionTokens) {
    this.map.set(id, { ...tokens });
  }
}

class EndingStore extends MapStore {
  async markEnded(id: string, reason: MatrixApiError) {
    this.ended.push(`${id}:${reason.errcode}`);
    this.map.delete(id);
  }
}

describe('TokenRotator against the test homeserver', function () {
  this.timeout(20_000);
  let hs: TestHomeserver;
  let http: HttpClient;
  let store: MapStore;
  let account: { id: string; homeserverUrl: string; refreshTokenLifetimeMs?: number };

  async function signIn(target: MapStore = store): Promise<SessionTokens> {
    const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
    await target.set(ACCOUNT, login.tokens);
    return login.tokens;
  }

  beforeEach(async () => {
    hs = await TestHomeserver.start();
    http = new HttpClient({ timeoutMs: 3_000 });
    store = new MapStore();
    account = { id: ACCOUNT, homeserverUrl: hs.baseUrl };
  });
  afterEach(async () => {
    await hs.stop();
  });

  it('100 concurrent callers with an expired token: exactly one /refresh, every caller gets the same working token', async () => {
    const old = await signIn();
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock(), now: () => Date.now() + 301_000 });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => rotator.getAccessToken(account)));
    assert.equal(hs.count('POST', REFRESH), 1);
    assert.equal(new Set(tokens).size, 1);
    assert.notEqual(tokens[0], old.accessToken);
    assert.equal((await whoami(http, hs.baseUrl, tokens[0])).userId, '@alice:localhost');
  });

  it('two rotators (as in two processes) sharing a store and a file lock refresh once', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-rot-'));
    try {
      await signIn();
      const one = new TokenRotator({ http, store, lock: new FileLock(dir, { pollMs: 5 }) });
      const two = new TokenRotator({ http, store, lock: new FileLock(dir, { pollMs: 5 }) });
      const seen = await store.get(ACCOUNT);
      const [a, b] = await Promise.all([one.rotate(account, { seen }), two.rotate(account, { seen })]);
      assert.equal(hs.count('POST', REFRESH), 1);
      assert.equal(a.accessToken, b.accessToken);
      assert.equal((await whoami(http, hs.baseUrl, a.accessToken)).userId, '@alice:localhost');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('without the lock, the same two rotators refresh twice and the first result dies (why the lock exists)', async () => {
    await signIn();
    const storeOne = new MapStore();
    const storeTwo = new MapStore();
    await storeOne.set(ACCOUNT, (await store.get(ACCOUNT))!);
    await storeTwo.set(ACCOUNT, (await store.get(ACCOUNT))!);
    const one = new TokenRotator({ http, store: storeOne, lock: new MemoryLock() });
    const two = new TokenRotator({ http, store: storeTwo, lock: new MemoryLock() });
    const a = await one.rotate(account);
    const b = await two.rotate(account);
    assert.equal(hs.count('POST', REFRESH), 2);
    await whoami(http, hs.baseUrl, b.accessToken);
    await assert.rejects(
      whoami(http, hs.baseUrl, a.accessToken),
      (e: unknown) => e instanceof MatrixApiError && e.errcode === 'M_UNKNOWN_TOKEN',
    );
  });

  it('a refresh answer lost after the server committed it: retried with the old refresh token, the session survives', async () => {
    const old = await signIn();
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock(), retryDelaysMs: [10, 10] });
    hs.dropResponseAfterCommit('refresh');
    const fresh = await rotator.rotate(account);
    assert.deepEqual(
      hs.requests.filter((r) => REFRESH.test(r.path)).map((r) => `${r.status}${r.dropped ? ' dropped' : ''}`),
      ['200 dropped', '200'],
    );
    assert.notEqual(fresh.refreshToken, old.refreshToken);
    assert.deepEqual(await store.get(ACCOUNT), fresh);
    await whoami(http, hs.baseUrl, fresh.accessToken);
    await rotator.rotate(account);
    assert.equal(hs.count('POST', REFRESH), 3);
  });

  it('when every attempt is lost, the old tokens are kept and a later rotation still works with them', async () => {
    const old = await signIn();
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock(), retryDelaysMs: [10, 10] });
    hs.dropResponseAfterCommit('refresh', 3);
    await assert.rejects(rotator.rotate(account), (e: unknown) => e instanceof RequestFailedError && e.kind === 'network');
    assert.deepEqual(await store.get(ACCOUNT), old, 'old tokens kept');
    const fresh = await rotator.rotate(account);
    await whoami(http, hs.baseUrl, fresh.accessToken);
    assert.equal(hs.count('POST', REFRESH), 4);
  });

  it('/refresh 403: SessionEndedError once, tokens kept by a plain store, marked ended by a store that can', async () => {
    await hs.stop();
    hs = await TestHomeserver.start({ refreshTokenLifetimeMs: 100 });
    account.homeserverUrl = hs.baseUrl;
    const old = await signIn();
    await new Promise((r) => setTimeout(r, 150));
    const ended: string[] = [];
    const rotator = new TokenRotator({
      http,
      store,
      lock: new MemoryLock(),
      events: { onSessionEnded: (id, e) => ended.push(`${id} ${e.reason.errcode}`) },
    });
    const results = await Promise.allSettled([rotator.rotate(account), rotator.rotate(account)]);
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof SessionEndedError));
    assert.deepEqual(ended, ['alice M_FORBIDDEN']);
    assert.deepEqual(await store.get(ACCOUNT), old, 'nothing deleted');

    const ending = new EndingStore();
    await ending.set(ACCOUNT, old);
    const second = new TokenRotator({ http, store: ending, lock: new MemoryLock() });
    await assert.rejects(second.rotate(account), SessionEndedError);
    assert.deepEqual(ending.ended, ['alice:M_FORBIDDEN']);
    await assert.rejects(second.rotate(account), NoSessionError, 'the next holder does not send the dead token again');
    assert.equal(hs.count('POST', REFRESH), 2);
  });

  it('an unknown refresh token (401 M_UNKNOWN_TOKEN) also ends the session', async () => {
    const old = await signIn();
    await store.set(ACCOUNT, { ...old, refreshToken: 'syr_garbage_token_000000' });
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    await assert.rejects(rotator.rotate(account), (e: unknown) => e instanceof SessionEndedError && e.reason.status === 401);
  });

  it('soft logout on a call: one rotation, one retry, success', async () => {
    const old = await signIn();
    hs.expireAccessToken(old.accessToken);
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    const me = await rotator.withAccessToken(account, (token) => whoami(http, hs.baseUrl, token));
    assert.equal(me.userId, '@alice:localhost');
    assert.equal(hs.count('POST', REFRESH), 1);
    assert.deepEqual(
      hs.requests.filter((r) => /whoami$/.test(r.path)).map((r) => r.status),
      [401, 200],
    );
  });

  it('a hard 401 for the current token is not retried and rotates nothing', async () => {
    await signIn();
    hs.logoutAllDevices('@alice:localhost');
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    await assert.rejects(
      rotator.withAccessToken(account, (token) => whoami(http, hs.baseUrl, token)),
      (e: unknown) => e instanceof MatrixApiError && !e.softLogout,
    );
    assert.equal(hs.count('POST', REFRESH), 0);
    assert.equal(hs.count('GET', /whoami$/), 1);
  });

  it('a non-expiring session (server without refresh support) works and is never rotated', async () => {
    await hs.stop();
    hs = await TestHomeserver.start({ accessTokenLifetimeMs: null });
    account.homeserverUrl = hs.baseUrl;
    const tokens = await signIn();
    assert.equal(tokens.refreshToken, undefined);
    assert.equal(tokens.expiresAt, undefined);
    assert.equal(rotationDueAt(tokens), undefined);
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    assert.equal(await rotator.getAccessToken(account), tokens.accessToken);
    await assert.rejects(rotator.rotate(account), NotRotatableError);
    assert.equal(hs.count('POST', REFRESH), 0);
  });
});

describe('rotationDueAt', () => {
  const tokens = (lifetime: number): SessionTokens => ({ accessToken: 'a', refreshToken: 'r', issuedAt: 0, expiresAt: lifetime });
  it('rotates at two thirds of the lifetime by default', () => {
    assert.equal(rotationDueAt(tokens(300_000)), 200_000);
  });
  it('but at least the margin before expiry', () => {
    assert.equal(rotationDueAt(tokens(60_000)), 30_000);
    assert.equal(rotationDueAt(tokens(300_000), { lifetimeFraction: 0.95, minMarginMs: 60_000 }), 240_000);
  });
  it('halfway through a lifetime shorter than twice the margin, never at once (that would rotate in a loop)', () => {
    assert.equal(rotationDueAt(tokens(10_000), DEFAULT_ROTATION_POLICY), 5_000);
    assert.equal(rotationDueAt(tokens(2_000), DEFAULT_ROTATION_POLICY), 1_000);
    assert.equal(rotationDueAt({ ...tokens(0), expiresAt: 0 }), 0);
  });
  it('not at all without a refresh token or an expiry', () => {
    assert.equal(rotationDueAt({ accessToken: 'a', issuedAt: 0, expiresAt: 1000 }), undefined);
    assert.equal(rotationDueAt({ accessToken: 'a', refreshToken: 'r', issuedAt: 0 }), undefined);
  });
});
