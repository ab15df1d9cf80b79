// An OAuth 2.0 refresh against a password-account refresh, in this process:
// the same TokenRotator rotates a session signed in through the test
// authorization server (oidc-provider, `grant_type=refresh_token` at its token
// endpoint) and one signed in with a password (`/v3/refresh` on the test
// homeserver). Each is a fresh rotation with the previous answer's refresh
// token; batches alternate which goes first, each ratio is per round.
'use strict';
const http = require('node:http');
const path = require('node:path');

const out = (m) => require(path.resolve(__dirname, '../out', m));

/** The floor: the same refresh_token grant as one bare http.request, the form typed by hand. */
function rawRefresh(grant, refreshToken) {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: grant.clientId }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      grant.tokenEndpoint,
      { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(text).refresh_token) : reject(new Error(`HTTP ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Tokens in memory, as SecretStorage would hold them. */
function memoryStore() {
  const data = new Map();
  return { get: async (id) => data.get(id), set: async (id, tokens) => void data.set(id, tokens) };
}

module.exports = async function oauth({ hs, runs, row, median }) {
  const { HttpClient } = out('src/core/http');
  const { loginWithPassword } = out('src/core/session');
  const { TokenRotator } = out('src/core/rotation');
  const { MemoryLock } = out('src/core/fileLock');
  const { discoverAuthMetadata } = out('src/core/oauth/metadata');
  const { signInWithBrowser } = out('src/node/browserSignIn');
  const { loopbackPage } = out('src/node/loopbackRedirect');
  const { startOAuthHomeserver, TestBrowser } = out('test/support/oauth');

  const client = new HttpClient();
  const setup = await startOAuthHomeserver();
  try {
    const store = memoryStore();
    const rotator = new TokenRotator({ http: client, store, lock: new MemoryLock() });
    const password = { id: 'bench-password', homeserverUrl: hs.url };
    const login = await loginWithPassword(client, hs.url, { user: 'alice', password: 'wonderland' });
    await store.set(password.id, login.tokens ?? login);
    const oauthAccount = { id: 'bench-oauth', homeserverUrl: setup.hs.baseUrl };
    const meta = await discoverAuthMetadata(client, setup.hs.baseUrl);
    const browser = new TestBrowser();
    const signIn = () =>
      signInWithBrowser(client, setup.hs.baseUrl, meta, {
        pages: { success: loopbackPage('ok', 'ok'), failure: loopbackPage('no', 'no') },
        openBrowser: async (url) => (void browser.signInThroughRedirect(url), true),
      });
    await store.set(oauthAccount.id, (await signIn()).tokens);
    // A second session of its own for the floor's chain of refresh tokens.
    const floorSession = (await signIn()).tokens;
    let floorRefreshToken = floorSession.refreshToken;

    const batch = async (account, n = 10) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await rotator.rotate(account);
      return Number(process.hrtime.bigint() - started) / 1e6 / n;
    };
    const floor = async (n = 10) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < n; i++) floorRefreshToken = await rawRefresh(floorSession.oauth, floorRefreshToken);
      return Number(process.hrtime.bigint() - started) / 1e6 / n;
    };
    await batch(password, 5);
    await batch(oauthAccount, 5);
    await floor(5);
    const grantsBefore = setup.auth.count('/token', 'refresh_token');
    const perOAuth = [];
    const perPassword = [];
    const perFloor = [];
    const ratios = [];
    const overFloor = [];
    for (let r = 0; r < runs; r++) {
      // The order of the three rotates every round.
      const order = [
        () => batch(oauthAccount).then((ms) => perOAuth.push(ms)),
        () => batch(password).then((ms) => perPassword.push(ms)),
        () => floor().then((ms) => perFloor.push(ms)),
      ];
      for (let k = 0; k < order.length; k++) await order[(k + r) % order.length]();
      ratios.push(perOAuth[r] / perPassword[r]);
      overFloor.push(perOAuth[r] / perFloor[r]);
    }
    const grants = setup.auth.count('/token', 'refresh_token') - grantsBefore;
    const refreshes = setup.hs.count('POST', /\/refresh$/);
    row(
      'oauth',
      'one OAuth refresh (oidc-provider token endpoint) / one password refresh (/v3/refresh), same rotator',
      `${median(ratios).toFixed(2)}× (${median(perOAuth).toFixed(1)} ms vs ${median(perPassword).toFixed(1)} ms)`,
    );
    row(
      'oauth',
      'one OAuth refresh through the rotator / the same grant as a bare http.request (same rounds)',
      `${median(overFloor).toFixed(2)}× (${median(perFloor).toFixed(1)} ms)`,
    );
    // Two chains of 10 per round: the rotator's and the floor's.
    row(
      'oauth',
      `refresh_token grants at the token endpoint / /v3/refresh at the OAuth homeserver (${runs} rounds of 10 + 10)`,
      `${grants} / ${refreshes}`,
      `${runs * 20} / 0`,
      grants === runs * 20 && refreshes === 0,
    );
  } finally {
    await setup.stop();
  }
};
