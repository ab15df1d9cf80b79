// OAuth 2.0 sessions rotate through the same TokenRotator as password
// sessions (single flight, cross-process lock, lost answers kept survivable),
// asking the authorization server's token endpoint instead of /refresh, from
// the grant stored with the tokens. Real oidc-provider, real test homeserver.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MatrixApiError, RequestFailedError } from '../../src/core/errors';
import { FileLock, MemoryLock } from '../../src/core/fileLock';
import { HttpClient } from '../../src/core/http';
import { discoverAuthMetadata } from '../../src/core/oauth/metadata';
import { revokeToken } from '../../src/core/oauth/revoke';
import { SessionEndedError, TokenRotator, type TokenStore } from '../../src/core/rotation';
import { whoami, type SessionTokens } from '../../src/core/session';
import { signInWithBrowser } from '../../src/node/browserSignIn';
import { loopbackPage } from '../../src/node/loopbackRedirect';
import { startOAuthHomeserver, TestBrowser, type OAuthSetup } from '../support/oauth';

const ID = 'alice-oauth';
const REFRESH_GRANT = 'refresh_token';
const pages = { success: loopbackPage('ok', 'ok'), failure: loopbackPage('no', 'no') };

class MapStore implements TokenStore {
  readonly map = new Map<string, SessionTokens>();
  readonly ended: string[] = [];
  async get(id: string) {
    const t = this.map.get(id);
    return t && structuredClone(t);
  }
  async set(id: string, tokens: SessionTokens) {
    this.map.set(id, structuredClone(tokens));
  }
  async markEnded(id: string, reason: MatrixApiError) {
    this.ended.push(`${id}:${reason.errcode}`);
  }
}

describe('OAuth 2.0 sessions through the shared rotation path', function () {
  this.timeout(20_000);
  let setup: OAuthSetup;
  let store: MapStore;
  const http = new HttpClient({ timeoutMs: 2_000 });
  const account = () => ({ id: ID, homeserverUrl: setup.hs.baseUrl });

  beforeEach(async () => {
    setup = await startOAuthHomeserver();
    store = new MapStore();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    const signedIn = await signInWithBrowser(http, setup.hs.baseUrl, meta, {
      pages,
      openBrowser: async (url) => (void browser.signInThroughRedirect(url), true),
    });
    await store.set(ID, signedIn.tokens);
    setup.hs.requests.length = 0;
    setup.auth.requests.length = 0;
  });
  afterEach(async () => setup.stop());

  it('100 concurrent callers → one refresh_token grant, never /refresh, and the new token works', async () => {
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    // About to expire: 10 s left of a 310-s lifetime (an explicit validity is capped at half the lifetime, see usableMargin).
    await store.set(ID, { ...(await store.get(ID))!, issuedAt: Date.now() - 300_000, expiresAt: Date.now() + 10_000 });
    const before = (await store.get(ID))!;
    const tokens = await Promise.all(Array.from({ length: 100 }, () => rotator.getAccessToken(account())));
    assert.equal(new Set(tokens).size, 1);
    assert.notEqual(tokens[0], before.accessToken);
    assert.equal(setup.auth.count('/token', REFRESH_GRANT), 1);
    assert.equal(setup.hs.count('POST', /\/refresh$/), 0);
    const stored = (await store.get(ID))!;
    assert.equal(stored.accessToken, tokens[0]);
    assert.deepEqual({ ...stored.oauth, scope: undefined }, { ...before.oauth, scope: undefined });
    assert.equal((await whoami(http, setup.hs.baseUrl, tokens[0])).userId, '@alice:localhost');
  });

  it('two processes sharing the store and a file lock rotate once', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oauth-rot-'));
    try {
      const a = new TokenRotator({ http, store, lock: new FileLock(dir) });
      const b = new TokenRotator({ http, store, lock: new FileLock(dir) });
      const seen = (await store.get(ID))!;
      const [x, y] = await Promise.all([a.rotate(account(), { seen }), b.rotate(account(), { seen })]);
      assert.equal(x.accessToken, y.accessToken);
      assert.equal(setup.auth.count('/token', REFRESH_GRANT), 1);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a lost token answer is retried with the old refresh token and the session survives (MAS re-issues it)', async () => {
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock(), retryDelaysMs: [20, 20] });
    setup.auth.dropTokenResponseAfterCommit(1);
    const fresh = await rotator.rotate(account());
    assert.equal(setup.auth.count('/token', REFRESH_GRANT), 2);
    assert.equal((await whoami(http, setup.hs.baseUrl, fresh.accessToken)).userId, '@alice:localhost');
    const again = await rotator.rotate(account());
    assert.equal((await whoami(http, setup.hs.baseUrl, again.accessToken)).userId, '@alice:localhost');
  });

  it('invalid_grant re-reads the store: newer tokens from another window are adopted, not ended', async () => {
    const stale = (await store.get(ID))!;
    // Another window rotates and uses its new tokens.
    const other = await new TokenRotator({ http, store, lock: new MemoryLock() }).rotate(account());
    await whoami(http, setup.hs.baseUrl, other.accessToken);
    // This window's copy lagged behind when it took its (separate) lock.
    let handedStale = false;
    const laggingStore: TokenStore = {
      get: async (id, opts) => (opts?.forRotation && !handedStale ? ((handedStale = true), structuredClone(stale)) : store.get(id)),
      set: (id, t) => store.set(id, t),
      markEnded: (id, r) => store.markEnded(id, r),
    };
    const result = await new TokenRotator({ http, store: laggingStore, lock: new MemoryLock() }).rotate(account(), { seen: stale });
    assert.equal(result.accessToken, other.accessToken);
    assert.deepEqual(store.ended, []);
    assert.equal((await whoami(http, setup.hs.baseUrl, other.accessToken)).userId, '@alice:localhost');
  });

  it('a revoked refresh token ends the session once (invalid_grant), keeping the tokens', async () => {
    const before = (await store.get(ID))!;
    await revokeToken(http, before.oauth!, before.refreshToken!, 'refresh_token');
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock() });
    await assert.rejects(
      rotator.rotate(account()),
      (e) => e instanceof SessionEndedError && e.reason.errcode === 'invalid_grant' && /sign in again/.test(e.message),
    );
    assert.deepEqual(store.ended, [`${ID}:invalid_grant`]);
    assert.equal((await store.get(ID))?.refreshToken, before.refreshToken);
  });

  it('a server that forgot the client ends the session (invalid_client)', async () => {
    setup.auth.forgetClients();
    await assert.rejects(
      new TokenRotator({ http, store, lock: new MemoryLock() }).rotate(account()),
      (e) => e instanceof SessionEndedError && e.reason.errcode === 'invalid_client',
    );
  });

  it('auth server down at start-up: the session is kept, and rotation works from the stored grant once it is back, without discovery', async () => {
    setup.auth.setDown(true);
    const rotator = new TokenRotator({ http, store, lock: new MemoryLock(), retryDelaysMs: [10, 10] });
    await assert.rejects(rotator.rotate(account()), (e) => e instanceof RequestFailedError && e.kind === 'network');
    assert.deepEqual(store.ended, []);
    setup.auth.setDown(false);
    const fresh = await rotator.rotate(account());
    assert.equal((await whoami(http, setup.hs.baseUrl, fresh.accessToken)).userId, '@alice:localhost');
    assert.equal(setup.hs.count('GET', /auth_metadata$/), 0);
    assert.equal(setup.auth.count('/.well-known/openid-configuration'), 0);
  });
});
