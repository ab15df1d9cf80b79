// The OAuth 2.0 protocol functions (src/core/oauth, src/node) against a real
// authorization server (oidc-provider) and the test homeserver that delegates
// to it, over loopback HTTP; the browser is an HTTP client that follows the
// redirects and fills the sign-in form.
import * as assert from 'node:assert/strict';
import { describeError, MatrixApiError, RequestFailedError } from '../../src/core/errors';
import { HttpClient } from '../../src/core/http';
import { discoverAuthMetadata, processAuthMetadataResponse } from '../../src/core/oauth/metadata';
import { revokeToken } from '../../src/core/oauth/revoke';
import { matrixScope } from '../../src/core/oauth/scopes';
import { signInWithDeviceCode } from '../../src/core/oauth/signIn';
import { refreshOAuthTokens } from '../../src/core/oauth/token';
import { whoami } from '../../src/core/session';
import { signInWithBrowser } from '../../src/node/browserSignIn';
import { loopbackPage } from '../../src/node/loopbackRedirect';
import { startOAuthHomeserver, TestBrowser, type OAuthSetup } from '../support/oauth';

const pages = {
  success: loopbackPage('Signed in', 'You can return to VS Code.'),
  failure: loopbackPage('Not signed in', 'Return to VS Code.'),
};

describe('OAuth 2.0 protocol against oidc-provider', function () {
  this.timeout(15_000);
  let setup: OAuthSetup;
  const http = new HttpClient({ timeoutMs: 3_000 });

  afterEach(async () => setup?.stop());

  it('discovers the metadata at the stable path, and names the account page', async () => {
    setup = await startOAuthHomeserver();
    const meta = await discoverAuthMetadata(http, setup.hs.baseUrl);
    assert.equal(meta?.source, 'stable');
    assert.equal(meta?.issuer, setup.auth.issuer);
    assert.equal(meta?.accountManagementUri, `${setup.auth.issuer}/account`);
    assert.ok(meta?.deviceAuthorizationEndpoint);
  });

  it('falls back to the unstable MSC2965 path', async () => {
    setup = await startOAuthHomeserver({ delegated: { metadataPaths: 'unstable' } });
    const meta = await discoverAuthMetadata(http, setup.hs.baseUrl);
    assert.equal(meta?.source, 'unstable');
    assert.equal(setup.hs.count('GET', '/_matrix/client/v1/auth_metadata'), 1);
  });

  it('signs in through the browser redirect: DCR, PKCE, loopback, whoami', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    let tab: Promise<{ text: string }> | undefined;
    const result = await signInWithBrowser(http, setup.hs.baseUrl, meta, {
      pages,
      openBrowser: async (url) => {
        tab = browser.signInThroughRedirect(url);
        return true;
      },
    });
    assert.equal(result.userId, '@alice:localhost');
    assert.match(result.deviceId, /^[A-Z0-9]{12}$/);
    assert.equal(result.tokens.oauth?.issuer, setup.auth.issuer);
    assert.ok(result.tokens.refreshToken);
    assert.ok(result.tokens.expiresAt! - result.tokens.issuedAt === 300_000);
    assert.deepEqual(
      setup.hs.devices('@alice:localhost').map((d) => d.deviceId),
      [result.deviceId],
    );
    // The page the browser tab shows, once it has arrived (not after a guessed delay).
    assert.match((await tab!).text, /You can return to VS Code/);

    const fresh = await refreshOAuthTokens(http, result.tokens.oauth!, result.tokens.refreshToken!);
    assert.notEqual(fresh.refreshToken, result.tokens.refreshToken);
    assert.equal((await whoami(http, setup.hs.baseUrl, fresh.accessToken)).deviceId, result.deviceId);

    assert.equal(await revokeToken(http, fresh.oauth, fresh.refreshToken!, 'refresh_token'), true);
    await assert.rejects(
      whoami(http, setup.hs.baseUrl, fresh.accessToken),
      (e) => e instanceof MatrixApiError && e.errcode === 'M_UNKNOWN_TOKEN',
    );
  });

  it('signs in with a code (device grant)', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    const result = await signInWithDeviceCode(http, setup.hs.baseUrl, meta, {
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
      onCode: async (a) => {
        await browser.approveDeviceCode(a.verificationUri, a.userCode);
      },
    });
    assert.equal(result.userId, '@alice:localhost');
  });

  it('reports a denied sign-in as access_denied', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    await assert.rejects(
      signInWithBrowser(http, setup.hs.baseUrl, meta, {
        pages,
        openBrowser: async (url) => (void browser.signInThroughRedirect(url, { action: 'deny' }), true),
      }),
      (e) => e instanceof MatrixApiError && e.errcode === 'access_denied',
    );
  });
});

describe('OAuth 2.0 failure cases', function () {
  this.timeout(15_000);
  let setup: OAuthSetup;
  const http = new HttpClient({ timeoutMs: 3_000 });
  afterEach(async () => setup?.stop());

  it('polls at the interval, waits out authorization_pending, and adds 5 s on slow_down', async () => {
    setup = await startOAuthHomeserver();
    setup.auth.slowDownDevicePolls(1);
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    const waits: number[] = [];
    let code: { verificationUri: string; userCode: string } | undefined;
    const result = await signInWithDeviceCode(http, setup.hs.baseUrl, meta, {
      onCode: (a) => void (code = a),
      sleep: async (ms) => {
        waits.push(ms);
        // The person confirms only after three polls: slow_down, pending, pending.
        if (waits.length === 4) await browser.approveDeviceCode(code!.verificationUri, code!.userCode);
      },
    });
    assert.equal(result.userId, '@alice:localhost');
    assert.deepEqual(waits, [5000, 10000, 10000, 10000]);
    assert.equal(setup.auth.count('/token', 'urn:ietf:params:oauth:grant-type:device_code'), 4);
  });

  it('stops on expired_token from the server, with one sentence', async () => {
    setup = await startOAuthHomeserver({ auth: { deviceCodeTtlSeconds: 1 } });
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    await assert.rejects(
      signInWithDeviceCode(http, setup.hs.baseUrl, meta, {
        onCode: () => undefined,
        now: () => 0,
        sleep: () => new Promise((r) => setTimeout(r, 600)),
      }),
      (e) => e instanceof MatrixApiError && e.errcode === 'expired_token' && /expired before it was confirmed/.test(describeError(e)),
    );
  });

  it('stops on access_denied when the person aborts the code', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    await assert.rejects(
      signInWithDeviceCode(http, setup.hs.baseUrl, meta, {
        onCode: (a) => browser.approveDeviceCode(a.verificationUri, a.userCode, { abort: true }).then(() => undefined),
        sleep: async () => undefined,
      }),
      (e) => e instanceof MatrixApiError && e.errcode === 'access_denied',
    );
  });

  it('refuses a redirect whose state does not match, and closes the listener', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    let redirect = '';
    await assert.rejects(
      signInWithBrowser(http, setup.hs.baseUrl, meta, {
        pages,
        openBrowser: async (url) => {
          redirect = new URL(url).searchParams.get('redirect_uri')!;
          void fetch(`${redirect}?code=forged&state=not-ours`).catch(() => undefined);
          return true;
        },
      }),
      (e) => e instanceof RequestFailedError && /"state" does not match/.test(e.message),
    );
    await assert.rejects(fetch(redirect), /fetch failed/);
  });

  it('says so when the redirect port is taken', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const port = Number(new URL(setup.hs.baseUrl).port);
    await assert.rejects(
      signInWithBrowser(http, setup.hs.baseUrl, meta, { pages, port, openBrowser: async () => true }),
      (e) => e instanceof RequestFailedError && new RegExp(`Port ${port} on 127.0.0.1 is already in use`).test(e.message),
    );
  });

  it('cancels the wait for the browser and closes the listener', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const cancel = new AbortController();
    await assert.rejects(
      signInWithBrowser(http, setup.hs.baseUrl, meta, {
        pages,
        signal: cancel.signal,
        openBrowser: async () => (setTimeout(() => cancel.abort(), 20), true),
      }),
      (e) => e instanceof RequestFailedError && e.kind === 'cancelled',
    );
  });

  it('answers invalid_client for a client the server forgot', async () => {
    setup = await startOAuthHomeserver();
    const meta = (await discoverAuthMetadata(http, setup.hs.baseUrl))!;
    const browser = new TestBrowser();
    const result = await signInWithBrowser(http, setup.hs.baseUrl, meta, {
      pages,
      openBrowser: async (url) => (void browser.signInThroughRedirect(url), true),
    });
    setup.auth.forgetClients();
    await assert.rejects(
      refreshOAuthTokens(http, result.tokens.oauth!, result.tokens.refreshToken!),
      (e) => e instanceof MatrixApiError && e.errcode === 'invalid_client',
    );
  });

  it('asks for the unstable scopes when the server lists only those', () => {
    assert.equal(
      matrixScope('ABCDEFGHIJ', ['urn:matrix:org.matrix.msc2967.client:api:*', 'openid']),
      'urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ',
    );
    assert.equal(
      matrixScope('ABCDEFGHIJ', ['urn:matrix:client:api:*', 'urn:matrix:org.matrix.msc2967.client:api:*']),
      'urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ',
    );
    assert.equal(matrixScope('ABCDEFGHIJ'), 'urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ');
  });

  it('signs in with the unstable scopes against the real server too', async () => {
    setup = await startOAuthHomeserver();
    const meta = {
      ...(await discoverAuthMetadata(http, setup.hs.baseUrl))!,
      scopesSupported: ['urn:matrix:org.matrix.msc2967.client:api:*'],
    };
    const browser = new TestBrowser();
    const result = await signInWithBrowser(http, setup.hs.baseUrl, meta, {
      pages,
      openBrowser: async (url) => (void browser.signInThroughRedirect(url), true),
    });
    assert.match(result.tokens.oauth!.scope, /msc2967\.client:device:/);
    assert.equal(result.userId, '@alice:localhost');
  });

  it('names the exact field when the metadata is unusable', () => {
    const good = {
      issuer: 'https://auth.example.org/',
      authorization_endpoint: 'https://auth.example.org/auth',
      token_endpoint: 'https://auth.example.org/token',
      registration_endpoint: 'https://auth.example.org/reg',
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
    };
    assert.equal(processAuthMetadataResponse(good, 'https://m.example.org/x', 'stable').tokenEndpoint, 'https://auth.example.org/token');
    const without = (field: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== field));
    for (const field of ['token_endpoint', 'registration_endpoint', 'code_challenge_methods_supported', 'issuer']) {
      assert.throws(
        () => processAuthMetadataResponse(without(field), 'https://m.example.org/x', 'stable'),
        (e: Error) => e instanceof RequestFailedError && e.message.includes(`"${field}"`),
      );
    }
    assert.throws(
      () => processAuthMetadataResponse({ ...good, token_endpoint: 'http://auth.example.org/token' }, 'https://m.example.org/x', 'stable'),
      /"token_endpoint" \(an https URL\)/,
    );
    assert.throws(
      () => processAuthMetadataResponse({ ...good, code_challenge_methods_supported: ['plain'] }, 'https://m.example.org/x', 'stable'),
      /"S256" listed/,
    );
  });

  it('finds no OAuth on a password-only server', async () => {
    const { TestHomeserver } = await import('../support/homeserver');
    const hs = await TestHomeserver.start();
    try {
      assert.equal(await discoverAuthMetadata(http, hs.baseUrl), undefined);
    } finally {
      await hs.stop();
    }
    setup = undefined as unknown as OAuthSetup;
  });
});
