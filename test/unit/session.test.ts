// The stateless session calls (session.ts) against the test homeserver.
import * as assert from 'node:assert/strict';
import { MatrixApiError } from '../../src/core/errors';
import { HttpClient } from '../../src/core/http';
import { loginWithPassword, logout, requestRefresh, whoami } from '../../src/core/session';
import { TestHomeserver } from '../support/homeserver';

const isError = (status: number, errcode: string, soft?: boolean) => (e: unknown) =>
  e instanceof MatrixApiError && e.status === status && e.errcode === errcode && (soft === undefined || e.softLogout === soft);

describe('session calls against the test homeserver', function () {
  this.timeout(10_000);
  let hs: TestHomeserver;
  const http = new HttpClient({ timeoutMs: 3_000 });

  afterEach(async () => {
    await hs.stop();
  });

  describe('with a server that issues expiring tokens', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start({ honourCustomRefreshLifetime: true });
    });

    it('logs in with refresh tokens and computes the expiry', async () => {
      const before = Date.now();
      const login = await loginWithPassword(http, hs.baseUrl, {
        user: '@alice:localhost',
        password: 'wonderland',
        deviceDisplayName: 'test',
      });
      assert.equal(login.userId, '@alice:localhost');
      assert.match(login.tokens.refreshToken ?? '', /^syr_/);
      assert.ok(login.tokens.expiresAt! - login.tokens.issuedAt === 300_000);
      assert.ok(login.tokens.issuedAt >= before);
      assert.deepEqual(hs.devices('@alice:localhost'), [{ userId: '@alice:localhost', deviceId: login.deviceId, displayName: 'test' }]);
    });

    it('re-uses a device when asked (sign in again)', async () => {
      const first = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      const again = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland', deviceId: first.deviceId });
      assert.equal(again.deviceId, first.deviceId);
      assert.equal(hs.devices('@alice:localhost').length, 1);
    });

    it('reports a wrong password as 403 M_FORBIDDEN', async () => {
      await assert.rejects(loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'nope' }), isError(403, 'M_FORBIDDEN'));
    });

    it('sends the custom refresh-token lifetime only when it is set (login and refresh)', async () => {
      const plain = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      assert.equal(hs.refreshTokenExpiresAt(plain.tokens.refreshToken!), null);
      const custom = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland', refreshTokenLifetimeMs: 120_000 });
      const exp = hs.refreshTokenExpiresAt(custom.tokens.refreshToken!);
      assert.ok(typeof exp === 'number' && Math.abs(exp - (Date.now() + 120_000)) < 5_000);

      const refreshedPlain = await requestRefresh(http, hs.baseUrl, plain.tokens.refreshToken!);
      assert.equal(hs.refreshTokenExpiresAt(refreshedPlain.refreshToken!), null);
      const refreshedCustom = await requestRefresh(http, hs.baseUrl, refreshedPlain.refreshToken!, { refreshTokenLifetimeMs: 60_000 });
      const exp2 = hs.refreshTokenExpiresAt(refreshedCustom.refreshToken!);
      assert.ok(typeof exp2 === 'number' && Math.abs(exp2 - (Date.now() + 60_000)) < 5_000);
    });

    it('follows the rotation rules: the old refresh token dies once the new access token is used', async () => {
      const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      const r0 = login.tokens.refreshToken!;
      const first = await requestRefresh(http, hs.baseUrl, r0);
      // Not used yet: a retry with R0 is allowed and replaces the first result.
      const retry = await requestRefresh(http, hs.baseUrl, r0);
      await assert.rejects(whoami(http, hs.baseUrl, first.accessToken), isError(401, 'M_UNKNOWN_TOKEN'));
      await whoami(http, hs.baseUrl, retry.accessToken);
      await assert.rejects(requestRefresh(http, hs.baseUrl, r0), isError(403, 'M_FORBIDDEN'));
      await assert.rejects(requestRefresh(http, hs.baseUrl, 'syr_garbage'), isError(401, 'M_UNKNOWN_TOKEN'));
    });

    it('whoami, then logout ends the session for good (401 without soft logout)', async () => {
      const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      const me = await whoami(http, hs.baseUrl, login.tokens.accessToken);
      assert.deepEqual(me, { userId: '@alice:localhost', deviceId: login.deviceId, isGuest: false });
      await logout(http, hs.baseUrl, login.tokens.accessToken);
      await assert.rejects(whoami(http, hs.baseUrl, login.tokens.accessToken), isError(401, 'M_UNKNOWN_TOKEN', false));
      assert.deepEqual(hs.devices('@alice:localhost'), []);
    });

    it('an expired access token is a soft logout', async () => {
      const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      hs.expireAccessToken(login.tokens.accessToken);
      await assert.rejects(whoami(http, hs.baseUrl, login.tokens.accessToken), isError(401, 'M_UNKNOWN_TOKEN', true));
    });
  });

  it('a server without refresh support gives a non-expiring token and no refresh token', async () => {
    hs = await TestHomeserver.start({ accessTokenLifetimeMs: null });
    const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
    assert.equal(login.tokens.refreshToken, undefined);
    assert.equal(login.tokens.expiresAt, undefined);
    await whoami(http, hs.baseUrl, login.tokens.accessToken);
  });
});
