// Which sign-in methods Add Account offers (core/signInMethods.ts) and legacy
// SSO through the loopback redirect (node/ssoSignIn.ts), against the test
// homeserver, its built-in identity provider and the OAuth test server.
import * as assert from 'node:assert/strict';
import { MatrixApiError, RequestFailedError } from '../../src/core/errors';
import { HttpClient } from '../../src/core/http';
import { detectSignInMethods, methodsFrom } from '../../src/core/signInMethods';
import { whoami } from '../../src/core/session';
import { loopbackPage } from '../../src/node/loopbackRedirect';
import { signInWithSso } from '../../src/node/ssoSignIn';
import { TestHomeserver } from '../support/homeserver';
import { startOAuthHomeserver, TestBrowser, type OAuthSetup } from '../support/oauth';

const pages = { success: loopbackPage('Signed in', 'You can return to VS Code.'), failure: loopbackPage('Not signed in', 'Return.') };

describe('sign-in methods', function () {
  this.timeout(15_000);
  const http = new HttpClient({ timeoutMs: 3_000 });
  let hs: TestHomeserver | undefined;
  let setup: OAuthSetup | undefined;
  afterEach(async () => {
    await hs?.stop();
    await setup?.stop();
    hs = setup = undefined;
  });

  it('a Synapse with passwords only: password and m.login.token, no OAuth, no SSO', async () => {
    hs = await TestHomeserver.start();
    const m = await detectSignInMethods(http, hs.baseUrl);
    assert.deepEqual(m, { password: true, loginToken: true });
  });

  it('a delegated server (no /login at all): OAuth only', async () => {
    setup = await startOAuthHomeserver();
    const m = await detectSignInMethods(http, setup.hs.baseUrl);
    assert.equal(m.oauth?.issuer, setup.auth.issuer);
    assert.equal(m.password, false);
    assert.equal(m.sso, undefined);
  });

  it('a server that offers OAuth and passwords says both', async () => {
    setup = await startOAuthHomeserver({ delegated: { passwordLogin: true } });
    const m = await detectSignInMethods(http, setup.hs.baseUrl);
    assert.ok(m.oauth);
    assert.equal(m.password, true);
  });

  it('lists the identity providers of m.login.sso', async () => {
    hs = await TestHomeserver.start({
      sso: {
        providers: [
          { id: 'oidc-github', name: 'GitHub', brand: 'github' },
          { id: 'saml', name: 'Company SAML' },
        ],
        passwordLogin: false,
      },
    });
    const m = await detectSignInMethods(http, hs.baseUrl);
    assert.equal(m.password, false);
    assert.deepEqual(m.sso?.providers, [
      { id: 'oidc-github', name: 'GitHub', brand: 'github' },
      { id: 'saml', name: 'Company SAML' },
    ]);
  });

  it('ignores the SSO flow that is only the OAuth server’s compatibility layer (MSC3824), and SSO without m.login.token', () => {
    const oauth = { issuer: 'https://auth.example.org/' } as never;
    const compat = [{ type: 'm.login.sso', oauth_aware_preferred: true }, { type: 'm.login.token' }];
    assert.equal(methodsFrom(oauth, compat).sso, undefined);
    assert.deepEqual(methodsFrom(undefined, compat).sso, { providers: [] });
    assert.equal(methodsFrom(undefined, [{ type: 'm.login.sso' }]).sso, undefined);
  });

  it('keeps the legacy methods and says why when the OAuth metadata is broken', async () => {
    hs = await TestHomeserver.start({ authMetadata: { issuer: 'https://auth.example.org/' } });
    const m = await detectSignInMethods(http, hs.baseUrl);
    assert.equal(m.oauth, undefined);
    assert.match(m.oauthProblem ?? '', /response_types_supported/);
    assert.equal(m.password, true);
  });
});

describe('legacy SSO through the loopback redirect', function () {
  this.timeout(15_000);
  const http = new HttpClient({ timeoutMs: 3_000 });
  let hs: TestHomeserver;
  afterEach(async () => hs?.stop());

  it('signs in with the picked identity provider and m.login.token with a refresh token', async () => {
    hs = await TestHomeserver.start({
      sso: {
        providers: [
          { id: 'gh', name: 'GitHub' },
          { id: 'gl', name: 'GitLab' },
        ],
      },
    });
    const browser = new TestBrowser();
    let tab: Promise<{ text: string }> | undefined;
    let opened = '';
    const result = await signInWithSso(http, hs.baseUrl, {
      pages,
      idpId: 'gl',
      deviceDisplayName: 'SSO test',
      openBrowser: async (url) => {
        opened = url;
        tab = browser.signInThroughSso(url);
        return true;
      },
    });
    assert.match(
      opened,
      /\/_matrix\/client\/v3\/login\/sso\/redirect\/gl\?redirectUrl=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fcallback%3Fstate%3D/,
    );
    assert.equal(result.userId, '@alice:localhost');
    assert.match(result.tokens.refreshToken ?? '', /^syr_/);
    assert.equal((await whoami(http, hs.baseUrl, result.tokens.accessToken)).deviceId, result.deviceId);
    assert.equal(hs.devices('@alice:localhost')[0].displayName, 'SSO test');
    assert.match((await tab!).text, /You can return to VS Code/);
    // The login token was single use.
    const [loginToken] = hs.issuedLoginTokens();
    await assert.rejects(
      fetch(`${hs.baseUrl}/_matrix/client/v3/login`, {
        method: 'POST',
        body: JSON.stringify({ type: 'm.login.token', token: loginToken }),
      }).then(async (r) => {
        if (r.status !== 200) {
          throw new MatrixApiError(r.status, ((await r.json()) as { errcode: string }).errcode, '', hs.baseUrl, undefined, false, {});
        }
      }),
      (e) => e instanceof MatrixApiError && e.status === 403 && e.errcode === 'M_FORBIDDEN',
    );
  });

  it('signs in again on the same device', async () => {
    hs = await TestHomeserver.start({ sso: {} });
    const browser = new TestBrowser();
    const open = async (url: string) => (void browser.signInThroughSso(url), true);
    const first = await signInWithSso(http, hs.baseUrl, { pages, openBrowser: open });
    const again = await signInWithSso(http, hs.baseUrl, { pages, openBrowser: open, deviceId: first.deviceId });
    assert.equal(again.deviceId, first.deviceId);
    assert.equal(hs.devices('@alice:localhost').length, 1);
  });

  it('refuses a redirect whose state does not match, and uses no login token', async () => {
    hs = await TestHomeserver.start({ sso: {} });
    await assert.rejects(
      signInWithSso(http, hs.baseUrl, {
        pages,
        openBrowser: async (url) => {
          const back = new URL(new URL(url).searchParams.get('redirectUrl')!);
          back.searchParams.set('state', 'forged');
          back.searchParams.set('loginToken', 'syl_forged');
          void fetch(back).catch(() => undefined);
          return true;
        },
      }),
      (e) => e instanceof RequestFailedError && /"state" does not match/.test(e.message),
    );
    assert.equal(hs.count('POST', '/_matrix/client/v3/login'), 0);
  });
});
