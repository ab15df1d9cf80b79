// Pins the test homeserver's own behaviour (Synapse's, per MATRIX-NOTES), so
// tests of src/core against it mean something. Plain fetch, real sockets.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FakeAppservice, FakeAppserviceBehaviour, freePort, startFakeAppservice } from '../support/appservice';
import { RegistrationObject, TestHomeserver, TestHomeserverOptions } from '../support/homeserver';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

async function call(
  hs: TestHomeserver,
  method: string,
  p: string,
  opts: { token?: string; body?: unknown; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const raw = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (raw !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(hs.baseUrl + p, { method, headers, body: raw });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HTML or broken JSON: the test looks at `text`
  }
  return { status: res.status, body, text, headers: res.headers };
}

const LOGIN = '/_matrix/client/v3/login';
const REFRESH = '/_matrix/client/v3/refresh';
const WHOAMI = '/_matrix/client/v3/account/whoami';
const pingPath = (id: string) => `/_matrix/client/v1/appservice/${id}/ping`;

const login = async (hs: TestHomeserver, extra: Record<string, unknown> = {}) => {
  const r = await call(hs, 'POST', LOGIN, {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: 'wonderland',
      refresh_token: true,
      ...extra,
    },
  });
  assert.equal(r.status, 200, r.text);
  return r.body as {
    access_token: string;
    refresh_token?: string;
    device_id: string;
    expires_in_ms?: number;
    user_id: string;
    well_known?: unknown;
  };
};
const refresh = (hs: TestHomeserver, token: unknown) => call(hs, 'POST', REFRESH, { body: { refresh_token: token } });
const whoami = (hs: TestHomeserver, token: string) => call(hs, 'GET', WHOAMI, { token });
const errorOf = (a: Answer) => [a.status, a.body.errcode, a.body.error, a.body.soft_logout];
const tokenError = (a: Answer) => [a.status, a.body.errcode, a.body.soft_logout];

describe('test homeserver (Synapse-like fake)', function () {
  this.timeout(5000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  const start = async (opts?: TestHomeserverOptions) => {
    const hs = await TestHomeserver.start(opts);
    cleanups.push(() => hs.stop());
    return hs;
  };
  const fakeAs = async (hsToken: string, behaviour: FakeAppserviceBehaviour = 'ok') => {
    const as = await startFakeAppservice({ hsToken, behaviour });
    cleanups.push(() => as.stop());
    return as;
  };

  describe('discovery', () => {
    it('serves .well-known, /versions like Synapse 1.84 and the login flows', async () => {
      const hs = await start();
      const wk = await call(hs, 'GET', '/.well-known/matrix/client');
      assert.deepEqual(wk.body, { 'm.homeserver': { base_url: hs.baseUrl } });
      assert.match(wk.headers.get('content-type') ?? '', /application\/json/);
      const v = await call(hs, 'GET', '/_matrix/client/versions');
      assert.ok((v.body.versions as string[]).includes('v1.6') && !(v.body.versions as string[]).includes('v1.7'));
      assert.deepEqual(v.body.unstable_features, { 'fi.mau.msc2659.stable': true });
      const flows = (await call(hs, 'GET', '/_matrix/client/r0/login')).body.flows as { type: string }[];
      assert.ok(flows.some((f) => f.type === 'm.login.password') && !flows.some((f) => f.type === 'm.login.sso'));
    });

    it('can answer .well-known with 404, an HTML page or broken JSON', async () => {
      assert.equal((await call(await start({ wellKnown: null }), 'GET', '/.well-known/matrix/client')).status, 404);
      const html = await fetch((await start({ wellKnown: 'html' })).baseUrl + '/.well-known/matrix/client');
      assert.match(html.headers.get('content-type') ?? '', /text\/html/);
      const broken = await call(await start({ wellKnown: 'invalid-json' }), 'GET', '/.well-known/matrix/client');
      assert.throws(() => JSON.parse(broken.text));
      const proxied = await start({ publicBaseUrl: 'https://matrix.example.org' });
      assert.deepEqual((await call(proxied, 'GET', '/.well-known/matrix/client')).body, {
        'm.homeserver': { base_url: 'https://matrix.example.org' },
      });
      assert.deepEqual((await login(proxied)).well_known, { 'm.homeserver': { base_url: 'https://matrix.example.org' } });
    });

    it('answers unknown paths 404 and wrong methods 405, both M_UNRECOGNIZED', async () => {
      const hs = await start();
      assert.deepEqual(errorOf(await call(hs, 'GET', '/_matrix/client/v3/nope')), [
        404,
        'M_UNRECOGNIZED',
        'Unrecognized request',
        undefined,
      ]);
      assert.deepEqual(errorOf(await call(hs, 'GET', REFRESH)), [405, 'M_UNRECOGNIZED', 'Unrecognized request', undefined]);
      assert.deepEqual(errorOf(await call(hs, 'POST', '/_matrix/client/v1/refresh', { body: { refresh_token: 'x' } })).slice(0, 2), [
        404,
        'M_UNRECOGNIZED',
      ]);
    });
  });

  describe('login and access tokens', () => {
    it('logs in by localpart, full user id or legacy `user`, with Synapse-shaped tokens', async () => {
      const hs = await start();
      const a = await login(hs, { initial_device_display_name: 'VS Code' });
      assert.match(a.access_token, /^syt_YWxpY2U_[A-Za-z]{20}_[0-9A-Za-z]{6}$/);
      assert.match(a.refresh_token ?? '', /^syr_YWxpY2U_[A-Za-z]{20}_[0-9A-Za-z]{6}$/);
      assert.match(a.device_id, /^[A-Z]{10}$/);
      assert.equal(a.expires_in_ms, 300_000);
      assert.deepEqual(hs.devices('@alice:localhost'), [{ userId: '@alice:localhost', deviceId: a.device_id, displayName: 'VS Code' }]);
      assert.equal((await login(hs, { identifier: { type: 'm.id.user', user: '@alice:localhost' } })).user_id, '@alice:localhost');
      const legacy = await call(hs, 'POST', '/_matrix/client/r0/login', {
        body: { type: 'm.login.password', user: 'alice', password: 'wonderland', device_id: 'MYDEVICE' },
      });
      assert.equal(legacy.body.device_id, 'MYDEVICE');
      assert.equal(legacy.body.refresh_token, undefined, 'no refresh token unless asked');
      assert.deepEqual(legacy.body.well_known, { 'm.homeserver': { base_url: hs.baseUrl } });
    });

    it('rejects a wrong password, an unknown login type and bad JSON the way Synapse does', async () => {
      const hs = await start();
      const wrong = await call(hs, 'POST', LOGIN, {
        body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'x' },
      });
      assert.deepEqual(errorOf(wrong), [403, 'M_FORBIDDEN', 'Invalid username or password', undefined]);
      const unknown = await call(hs, 'POST', LOGIN, { body: { type: 'm.login.magic', identifier: { type: 'm.id.user', user: 'alice' } } });
      assert.deepEqual(errorOf(unknown).slice(0, 2), [400, 'M_UNKNOWN']);
      assert.deepEqual(errorOf(await call(hs, 'POST', LOGIN, { raw: '{nope' })).slice(0, 2), [400, 'M_NOT_JSON']);
    });

    it('issues non-expiring tokens and has no /refresh when refresh is not supported', async () => {
      const hs = await start({ accessTokenLifetimeMs: null });
      const a = await login(hs);
      assert.equal(a.refresh_token, undefined);
      assert.equal(a.expires_in_ms, undefined);
      assert.equal((await refresh(hs, 'syr_x')).status, 404);
    });

    it('tells missing, unknown and expired tokens apart (soft_logout)', async () => {
      const hs = await start();
      const a = await login(hs);
      assert.deepEqual(await whoami(hs, a.access_token).then((r) => r.body), {
        user_id: '@alice:localhost',
        device_id: a.device_id,
        is_guest: false,
      });
      const viaQuery = await call(hs, 'GET', `${WHOAMI}?access_token=${encodeURIComponent(a.access_token)}`);
      assert.equal(viaQuery.status, 200);
      assert.deepEqual(errorOf(await call(hs, 'GET', WHOAMI)).slice(0, 2), [401, 'M_MISSING_TOKEN']);
      assert.deepEqual(tokenError(await whoami(hs, 'syt_bogus')), [401, 'M_UNKNOWN_TOKEN', false]);
      hs.expireAccessToken(a.access_token);
      assert.deepEqual(errorOf(await whoami(hs, a.access_token)), [401, 'M_UNKNOWN_TOKEN', 'Access token has expired', true]);
    });

    it('expires access tokens by the clock, and logout kills the device (even with an expired token)', async () => {
      let now = 1_000_000;
      const hs = await start({ now: () => now, accessTokenLifetimeMs: 1000 });
      const a = await login(hs);
      now += 1001;
      assert.equal((await whoami(hs, a.access_token)).body.soft_logout, true);
      assert.equal((await call(hs, 'POST', '/_matrix/client/v3/logout', { token: a.access_token })).status, 200);
      assert.deepEqual(tokenError(await whoami(hs, a.access_token)), [401, 'M_UNKNOWN_TOKEN', false]);
      assert.deepEqual(errorOf(await refresh(hs, a.refresh_token)).slice(0, 3), [401, 'M_UNKNOWN_TOKEN', 'refresh token does not exist']);
      assert.deepEqual(hs.devices('@alice:localhost'), []);
    });

    it('logout/all and logoutAllDevices end every session with soft_logout:false', async () => {
      const hs = await start();
      const [a, b] = [await login(hs), await login(hs)];
      assert.equal((await call(hs, 'POST', '/_matrix/client/v3/logout/all', { token: a.access_token })).status, 200);
      assert.deepEqual(tokenError(await whoami(hs, b.access_token)), [401, 'M_UNKNOWN_TOKEN', false]);
      const c = await login(hs);
      hs.logoutAllDevices('@alice:localhost');
      assert.deepEqual(tokenError(await whoami(hs, c.access_token)), [401, 'M_UNKNOWN_TOKEN', false]);
      assert.equal((await refresh(hs, c.refresh_token)).status, 401);
    });
  });

  describe('refresh rotation', () => {
    it('rotates: new tokens work, the old refresh token stays valid until the new tokens are used', async () => {
      const hs = await start();
      const a0 = await login(hs);
      const first = await refresh(hs, a0.refresh_token);
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.body).sort(), ['access_token', 'expires_in_ms', 'refresh_token']);
      assert.equal((await whoami(hs, a0.access_token)).status, 200, 'A0 still works before A1 is used');
      // Response "lost": retrying with R0 succeeds and replaces the first result.
      const retry = await refresh(hs, a0.refresh_token);
      assert.equal(retry.status, 200);
      assert.deepEqual(errorOf(await whoami(hs, first.body.access_token as string)).slice(0, 2), [401, 'M_UNKNOWN_TOKEN']);
      assert.deepEqual(errorOf(await refresh(hs, first.body.refresh_token)).slice(0, 3), [
        401,
        'M_UNKNOWN_TOKEN',
        'refresh token does not exist',
      ]);
      // Using A1 ends R0 (403) and A0.
      assert.equal((await whoami(hs, retry.body.access_token as string)).status, 200);
      assert.deepEqual(errorOf(await refresh(hs, a0.refresh_token)).slice(0, 3), [403, 'M_FORBIDDEN', "refresh token isn't valid anymore"]);
      assert.equal((await whoami(hs, a0.access_token)).status, 401);
      // A second rotation deletes R0.
      assert.equal((await refresh(hs, retry.body.refresh_token)).status, 200);
      assert.deepEqual(errorOf(await refresh(hs, a0.refresh_token)).slice(0, 3), [401, 'M_UNKNOWN_TOKEN', 'refresh token does not exist']);
    });

    it('refreshing with R1 (without using A1) also ends R0', async () => {
      const hs = await start();
      const a0 = await login(hs);
      const r1 = await refresh(hs, a0.refresh_token);
      assert.equal((await refresh(hs, r1.body.refresh_token)).status, 200);
      assert.equal((await refresh(hs, a0.refresh_token)).body.errcode, 'M_UNKNOWN_TOKEN');
    });

    it('rejects garbage, missing, non-string and expired refresh tokens with Synapse codes', async () => {
      let now = 5_000_000;
      const hs = await start({ now: () => now, refreshTokenLifetimeMs: 10_000 });
      assert.deepEqual(errorOf(await refresh(hs, 'garbage')).slice(0, 2), [401, 'M_UNKNOWN_TOKEN']);
      assert.deepEqual(errorOf(await call(hs, 'POST', REFRESH, { body: {} })).slice(0, 2), [400, 'M_MISSING_PARAM']);
      assert.deepEqual(errorOf(await refresh(hs, 42)).slice(0, 2), [400, 'M_INVALID_PARAM']);
      assert.deepEqual(errorOf(await call(hs, 'POST', REFRESH, { raw: 'not json' })).slice(0, 2), [400, 'M_NOT_JSON']);
      const a = await login(hs);
      now += 10_001;
      assert.deepEqual(errorOf(await refresh(hs, a.refresh_token)).slice(0, 3), [
        403,
        'M_FORBIDDEN',
        'The supplied refresh token has expired',
      ]);
    });

    it('serves r0 and unstable refresh, needs no Authorization, and renews an expired access token', async () => {
      const hs = await start();
      const a = await login(hs);
      hs.expireAccessToken(a.access_token);
      const r = await call(hs, 'POST', '/_matrix/client/r0/refresh', { body: { refresh_token: a.refresh_token } });
      assert.equal(r.status, 200);
      assert.equal((await whoami(hs, r.body.access_token as string)).status, 200);
      assert.equal(
        (await call(hs, 'POST', '/_matrix/client/unstable/refresh', { body: { refresh_token: r.body.refresh_token } })).status,
        200,
      );
    });

    it('ignores com.famedly.refresh_token_lifetime_ms unless configured, then honours it capped', async () => {
      const field = 'com.famedly.refresh_token_lifetime_ms';
      const upstream = await start();
      const u = await login(upstream, { [field]: 1000 });
      assert.equal(upstream.refreshTokenExpiresAt(u.refresh_token ?? ''), null);
      const now = 10_000_000;
      const famedly = await start({ now: () => now, honourCustomRefreshLifetime: true, maxCustomRefreshLifetimeMs: 60_000 });
      const f = await login(famedly, { [field]: 5000 });
      assert.equal(famedly.refreshTokenExpiresAt(f.refresh_token ?? ''), now + 5000);
      const r = await call(famedly, 'POST', REFRESH, { body: { refresh_token: f.refresh_token, [field]: 999_999 } });
      assert.equal(famedly.refreshTokenExpiresAt(r.body.refresh_token as string), now + 60_000);
    });
  });

  describe('appservice ping', () => {
    const reg = (id: string, url: string | null, hsToken = `hs-${id}`): RegistrationObject => ({
      id,
      url,
      as_token: `as-${id}`,
      hs_token: hsToken,
      sender_localpart: `${id}_bot`,
      namespaces: { users: [{ exclusive: true, regex: `@_${id}_.*` }] },
    });
    const ping = (hs: TestHomeserver, id: string, token: string, body: unknown = { transaction_id: 'txn-1' }) =>
      call(hs, 'POST', pingPath(id), { token, body });

    it('reaches a healthy appservice with the hs_token and reports the round trip', async () => {
      const as: FakeAppservice = await fakeAs('hs-good');
      const hs = await start({ appservices: [reg('good', as.url)] });
      const r = await ping(hs, 'good', 'as-good');
      assert.equal(r.status, 200, r.text);
      assert.equal(typeof r.body.duration_ms, 'number');
      assert.deepEqual(as.calls, [{ authorization: 'Bearer hs-good', body: { transaction_id: 'txn-1' } }]);
      await ping(hs, 'good', 'as-good', {});
      assert.deepEqual(as.calls[1].body, { transaction_id: null });
      const viaQuery = await call(hs, 'POST', `${pingPath('good')}?access_token=as-good`, { body: {} });
      assert.equal(viaQuery.status, 200);
      assert.deepEqual(await whoami(hs, 'as-good').then((w) => w.body), { user_id: '@good_bot:localhost', is_guest: false });
      const asLogin = (user: string) =>
        call(hs, 'POST', LOGIN, {
          token: 'as-good',
          body: { type: 'm.login.application_service', identifier: { type: 'm.id.user', user } },
        });
      assert.equal((await asLogin('_good_puppet')).body.user_id, '@_good_puppet:localhost');
      assert.deepEqual(errorOf(await asLogin('alice')).slice(0, 2), [403, 'M_FORBIDDEN']);
    });

    it('maps every failure to Synapse status and errcode', async () => {
      const broken = await fakeAs('hs-broken', 'status500');
      const old = await fakeAs('hs-old', 'status404');
      const picky = await fakeAs('hs-picky', 'reject-token');
      const mismatched = await fakeAs('hs-expected');
      const hanging = await fakeAs('hs-hang', 'hang');
      const hs = await start({
        pingTimeoutMs: 200,
        appservices: [
          reg('broken', broken.url),
          reg('old', old.url),
          reg('picky', picky.url),
          reg('mismatch', mismatched.url, 'hs-other'),
          reg('hang', hanging.url),
          reg('quiet', null),
        ],
      });
      // Picked after every server listens, so none of them can own it.
      hs.registerAppservice(reg('dead', `http://127.0.0.1:${await freePort()}`));
      const user = await login(hs);
      const expectations: Array<[string, string, number, string, number?]> = [
        ['dead', 'as-dead', 502, 'M_CONNECTION_FAILED'],
        ['broken', 'as-broken', 502, 'M_BAD_STATUS', 500],
        ['old', 'as-old', 502, 'M_BAD_STATUS', 404],
        ['picky', 'as-picky', 502, 'M_BAD_STATUS', 403],
        ['mismatch', 'as-mismatch', 502, 'M_BAD_STATUS', 403],
        ['hang', 'as-hang', 504, 'M_CONNECTION_TIMEOUT'],
        ['quiet', 'as-quiet', 400, 'M_URL_NOT_SET'],
        ['broken', 'as-dead', 403, 'M_FORBIDDEN'],
        ['dead', user.access_token, 403, 'M_FORBIDDEN'],
        ['dead', 'as-unknown', 401, 'M_UNKNOWN_TOKEN'],
      ];
      for (const [id, token, status, errcode, asStatus] of expectations) {
        const r = await ping(hs, id, token);
        assert.deepEqual([id, r.status, r.body.errcode], [id, status, errcode], r.text);
        if (asStatus !== undefined) {
          assert.equal(r.body.status, asStatus);
          assert.equal(typeof r.body.body, 'string');
        }
      }
      assert.match((await ping(hs, 'broken', 'as-broken')).body.body as string, /Internal server error/);
      assert.equal((await ping(hs, 'broken', 'as-dead')).body.error, 'Mismatching application service ID in path');
      assert.equal(
        (await ping(hs, 'dead', user.access_token)).body.error,
        'Only application services can use the /appservice/ping endpoint',
      );
      assert.equal((await call(hs, 'POST', pingPath('dead'), { token: 'as-dead' })).body.errcode, 'M_NOT_JSON');
    });

    it('serves the path the pingEndpoint option names, and loads registration YAML files', async () => {
      const as = await fakeAs('hs-y');
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-hs-')), 'y-registration.yaml');
      fs.writeFileSync(
        file,
        `id: y\nurl: "${as.url}"\nas_token: as-y\nhs_token: hs-y\nsender_localpart: y_bot\nnamespaces:\n  users:\n    - exclusive: true\n      regex: '@_y_.*'\n`,
      );
      cleanups.push(async () => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
      const unstablePath = '/_matrix/client/unstable/fi.mau.msc2659/appservice/y/ping';
      const stable = await start({ appservices: [file] });
      assert.equal((await call(stable, 'POST', unstablePath, { token: 'as-y', body: {} })).status, 404);
      const old = await start({ appservices: [file], pingEndpoint: 'unstable' });
      assert.equal((await call(old, 'POST', unstablePath, { token: 'as-y', body: {} })).status, 200);
      assert.equal((await ping(old, 'y', 'as-y')).body.errcode, 'M_UNRECOGNIZED');
      assert.deepEqual((await call(old, 'GET', '/_matrix/client/versions')).body.unstable_features, { 'fi.mau.msc2659': true });
      const none = await start({ appservices: [file], pingEndpoint: 'none' });
      assert.deepEqual(
        [(await ping(none, 'y', 'as-y')).status, (await call(none, 'POST', unstablePath, { token: 'as-y', body: {} })).status],
        [404, 404],
      );
    });

    it('stops promptly while a ping is waiting on a hanging appservice', async () => {
      const hanging = await fakeAs('hs-h', 'hang');
      const hs = await TestHomeserver.start({ appservices: [reg('h', hanging.url, 'hs-h')] });
      const pending = ping(hs, 'h', 'as-h').catch((e: unknown) => e);
      while (hanging.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const t0 = Date.now();
      await hs.stop();
      assert.ok((await pending) instanceof Error, 'the client sees the connection close');
      assert.ok(Date.now() - t0 < 1000);
    });
  });

  describe('fault knobs', () => {
    it('drops a refresh answer after committing it; retrying with R0 still works', async () => {
      const hs = await start();
      const a = await login(hs);
      hs.dropResponseAfterCommit('refresh');
      await assert.rejects(refresh(hs, a.refresh_token));
      const retry = await refresh(hs, a.refresh_token);
      assert.equal(retry.status, 200);
      assert.deepEqual(
        hs.requests.filter((r) => r.path === REFRESH).map((r) => [r.status, r.dropped]),
        [
          [200, true],
          [200, undefined],
        ],
      );
      assert.equal(hs.count('POST', /\/refresh$/), 2);
      hs.dropResponseAfterCommit('login');
      await assert.rejects(login(hs));
      assert.equal(hs.devices('@alice:localhost').length, 2, 'the lost login still created its device');
    });

    it('delays, answers HTML like a proxy, and rate-limits with Retry-After', async () => {
      const hs = await start();
      hs.delay(/versions/, 150);
      const t0 = Date.now();
      await call(hs, 'GET', '/_matrix/client/versions');
      assert.ok(Date.now() - t0 >= 140);
      hs.answerHtml(/versions/);
      const html = await call(hs, 'GET', '/_matrix/client/versions');
      assert.equal(html.status, 502);
      assert.match(html.headers.get('content-type') ?? '', /text\/html/);
      hs.rateLimit(/login/, 1500, 2);
      for (let i = 0; i < 2; i++) {
        const r = await call(hs, 'POST', LOGIN, { body: {} });
        assert.deepEqual(
          [r.status, r.body.errcode, r.body.retry_after_ms, r.headers.get('retry-after')],
          [429, 'M_LIMIT_EXCEEDED', 1500, '2'],
        );
      }
      assert.equal((await call(hs, 'GET', '/_matrix/client/versions')).status, 200, 'knobs are used up');
      assert.equal(hs.count('POST', LOGIN), 2);
    });
  });

  it('dev homeserver prints one JSON line, writes registrations, and exits 0 on SIGTERM', async function () {
    this.timeout(8000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-dev-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const child = spawn(
      process.execPath,
      [path.join(__dirname, '../support/devHomeserver.js'), '--port', '0', '--json', '--registrations-dir', dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => void child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      void exited.then((code) => reject(new Error(`devHomeserver exited (${code}) before printing its JSON line`)));
    });
    const info = JSON.parse(line) as {
      baseUrl: string;
      users: { localpart: string }[];
      appservices: { id: string; registrationFile: string }[];
    };
    assert.deepEqual(
      info.users.map((u) => u.localpart),
      ['alice', 'bob'],
    );
    const outcomes: Record<string, unknown> = {};
    for (const a of info.appservices) {
      const r = parseYaml(fs.readFileSync(a.registrationFile, 'utf8')) as RegistrationObject;
      assert.doesNotThrow(() => (r.namespaces?.aliases ?? []).map((n) => new RegExp(n.regex)));
      const res = await fetch(`${info.baseUrl}${pingPath(r.id)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${r.as_token}` },
        body: '{}',
      });
      outcomes[r.id] = [res.status, ((await res.json()) as { errcode?: string }).errcode];
    }
    assert.deepEqual(outcomes, {
      'demo-bridge': [200, undefined],
      'demo-down': [502, 'M_CONNECTION_FAILED'],
      'demo-broken': [502, 'M_BAD_STATUS'],
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
