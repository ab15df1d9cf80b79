// The CLI as users run it (the bundled dist/cli.js in its own process) against
// the test homeserver and real appservices on loopback.
import * as assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { startFakeAppservice, freePort } from '../support/appservice';
import { CLI, CliRun, runCli } from '../support/cliProcess';
import { TestHomeserver } from '../support/homeserver';

const cli = runCli;
type Run = CliRun;

const lastJson = (run: Run) => JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;

describe('matrix-devtools CLI', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let dir: string;
  let store: string;
  const s = () => ['--store', store];

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
  });
  beforeEach(async () => {
    hs = await TestHomeserver.start({ honourCustomRefreshLifetime: true });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-cli-'));
    store = path.join(dir, 'sessions.json');
  });
  afterEach(async () => {
    await hs.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const login = (extra: string[] = []) =>
    cli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', '--json', ...s(), ...extra], {
      input: 'wonderland\n',
    });

  it('logs in, stores the session with mode 0600 and without the password', async () => {
    const run = await login();
    assert.equal(run.code, 0, run.stderr);
    const out = lastJson(run);
    assert.equal(out.ok, true);
    assert.equal(out.userId, '@alice:localhost');
    assert.equal(out.refreshable, true);
    assert.equal(typeof out.expiresAt, 'number');
    assert.ok(!run.stdout.includes('syt_') && !run.stdout.includes('syr_'), 'no token on stdout');
    const stat = await fs.stat(store);
    assert.equal(stat.mode & 0o777, 0o600);
    const text = await fs.readFile(store, 'utf8');
    assert.ok(!text.includes('wonderland'));
    const body = hs.requests.filter((r) => r.path === '/_matrix/client/v3/login' && r.method === 'POST');
    assert.equal(body.length, 1);
    assert.equal((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')).length, 0, 'no temp file left behind');
  });

  it('whoami, token, refresh and logout work on the stored session', async () => {
    assert.equal((await login()).code, 0);
    const who = await cli(['whoami', '--json', ...s()]);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(lastJson(who).userId, '@alice:localhost');

    const before = await cli(['token', ...s()]);
    assert.equal(before.code, 0);
    const firstToken = before.stdout.trim();
    assert.ok(hs.isAccessTokenKnown(firstToken));

    const refreshed = await cli(['refresh', '--json', ...s()]);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    const secondToken = (await cli(['token', ...s()])).stdout.trim();
    assert.notEqual(secondToken, firstToken);
    assert.equal((await cli(['whoami', ...s()])).code, 0);

    const out = await cli(['logout', '--json', ...s()]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(lastJson(out).serverConfirmed, true);
    assert.equal(hs.isAccessTokenKnown(secondToken), false);
    const after = await cli(['whoami', ...s()]);
    assert.equal(after.code, 2);
    assert.match(after.stderr, /no stored session; run "matrix-devtools login" first/);
  });

  it('sends the custom refresh-token lifetime only when asked', async () => {
    assert.equal((await login(['--refresh-lifetime-ms', '120000'])).code, 0);
    const data = JSON.parse(await fs.readFile(store, 'utf8'));
    const account = data.accounts['@alice:localhost'];
    assert.equal(account.refreshTokenLifetimeMs, 120000);
    const expiresAt = hs.refreshTokenExpiresAt(account.tokens.refreshToken);
    assert.ok(typeof expiresAt === 'number' && Math.abs(expiresAt - (Date.now() + 120000)) < 10_000, `refresh token expiry ${expiresAt}`);

    const plainStore = path.join(dir, 'plain.json');
    const plain = await cli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', '--store', plainStore], {
      input: 'wonderland',
    });
    assert.equal(plain.code, 0);
    const plainAccount = JSON.parse(await fs.readFile(plainStore, 'utf8')).accounts['@alice:localhost'];
    assert.equal(plainAccount.refreshTokenLifetimeMs, undefined);
    assert.equal(hs.refreshTokenExpiresAt(plainAccount.tokens.refreshToken), null);
  });

  it('rotates exactly once when several CLI processes need a fresh token at once', async () => {
    assert.equal((await login()).code, 0);
    hs.expireAllAccessTokens();
    const data = JSON.parse(await fs.readFile(store, 'utf8'));
    data.accounts['@alice:localhost'].tokens.expiresAt = Date.now() - 1000;
    await fs.writeFile(store, JSON.stringify(data), { mode: 0o600 });
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => cli(['whoami', '--json', ...s()])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
  });

  it('marks a session the server ended, never resends its dead refresh token, and lets login replace it', async () => {
    assert.equal((await login()).code, 0);
    hs.logoutAllDevices('@alice:localhost');
    const first = await cli(['refresh', ...s()]);
    assert.equal(first.code, 1);
    assert.equal(first.stderr.match(/sign in again/gi)?.length, 1, first.stderr);
    assert.equal(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    const kept = JSON.parse(await fs.readFile(store, 'utf8')).accounts['@alice:localhost'];
    assert.equal(kept.ended.errcode, 'M_UNKNOWN_TOKEN', 'kept, with the reason');
    assert.equal(typeof kept.tokens.refreshToken, 'string', 'the tokens are kept');

    for (const command of ['refresh', 'whoami', 'token']) {
      const later = await cli([command, ...s()]);
      assert.equal(later.code, 1, `${command}: ${later.stderr}`);
      assert.match(later.stderr, /session of @alice:localhost ended .*M_UNKNOWN_TOKEN.*matrix-devtools login/);
      assert.equal(later.stderr.match(/sign in again/gi)?.length, 1, later.stderr);
      assert.equal(later.stdout, '', 'no token printed');
    }
    assert.equal(hs.count('POST', '/_matrix/client/v3/refresh'), 1, 'the dead refresh token is not sent again');
    const listed = lastJson(await cli(['accounts', '--json', ...s()])) as { accounts: Array<{ ended: unknown }> };
    assert.deepEqual(listed.accounts[0].ended, { at: kept.ended.at, errcode: 'M_UNKNOWN_TOKEN' });

    assert.equal((await login()).code, 0);
    const who = await cli(['whoami', '--json', ...s()]);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(await fs.readFile(store, 'utf8')).accounts['@alice:localhost'].ended, undefined);
  });

  it('exits 1 with one explaining sentence on a wrong password, and keeps no session', async () => {
    const run = await cli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', ...s()], { input: 'wrong' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused the request \(M_FORBIDDEN\): Invalid username or password/);
    assert.equal(existsSync(store), false);
  });

  it('exits 1 with a clear error for an unreachable homeserver', async () => {
    const port = await freePort();
    const run = await cli(['login', '--homeserver', `127.0.0.1:${port}`, '--user', 'alice', '--password-stdin', '--json', ...s()], {
      input: 'x',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Nothing is listening at 127\.0\.0\.1:\d+/);
    assert.equal(lastJson(run).ok, false);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await cli([])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    const noStdinFlag = await cli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', ...s()]);
    assert.equal(noStdinFlag.code, 2);
    assert.match(noStdinFlag.stderr, /--password-stdin/);
    assert.equal((await cli(['login', '--user', 'alice', '--password-stdin', ...s()])).code, 2);
    assert.equal(
      (
        await cli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', '--refresh-lifetime-ms', 'soon', ...s()], {
          input: 'x',
        })
      ).code,
      2,
    );
    assert.equal((await cli(['whoami', '--bogus-flag'])).code, 2);
  });

  it('leaves a corrupt store untouched and says so', async () => {
    await fs.writeFile(store, '{ not json');
    const run = await cli(['whoami', ...s()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /is damaged \(not the JSON this tool writes; maybe cut short\) and was left untouched/);
    assert.equal(await fs.readFile(store, 'utf8'), '{ not json');
  });

  describe('appservices', () => {
    const stops: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(stops.splice(0).map((f) => f()));
    });

    async function registration(id: string, url: string | null, hsToken = `hs-${id}-secret`, asToken = `as-${id}-secret`) {
      const reg = {
        id,
        url,
        as_token: asToken,
        hs_token: hsToken,
        sender_localpart: `${id}_bot`,
        namespaces: { users: [{ exclusive: true, regex: `@${id}_.*:localhost` }] },
      };
      hs.registerAppservice(reg);
      const file = path.join(dir, `${id}-registration.yaml`);
      await fs.writeFile(file, stringify(reg));
      return file;
    }

    it('pings a healthy appservice from its registration file', async () => {
      const as = await startFakeAppservice({ hsToken: 'hs-ok-secret' });
      stops.push(() => as.stop());
      const file = await registration('ok', as.url);
      const run = await cli(['ping', '--registration', file, '--homeserver', hs.baseUrl, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const out = lastJson(run);
      assert.equal(out.ok, true);
      assert.equal(out.endpoint, 'stable');
      assert.equal(typeof out.durationMs, 'number');
      assert.equal(as.calls.length, 1);
      assert.ok(!run.stdout.includes('as-ok-secret') && !run.stderr.includes('as-ok-secret'));
    });

    it('explains a dead appservice and exits 1', async () => {
      const file = await registration('down', `http://127.0.0.1:${await freePort()}`);
      const run = await cli(['ping', '--registration', file, '--homeserver', hs.baseUrl]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /FAIL down .*could not connect to the appservice \(M_CONNECTION_FAILED\)/);
      assert.match(run.stderr, /Next: Check the registration's url/);
    });

    it('sends no ping to a homeserver without ping support, and says so up front', async () => {
      const old = await TestHomeserver.start({ pingEndpoint: 'none' });
      stops.push(() => old.stop());
      const reg = {
        id: 'legacy',
        url: 'http://127.0.0.1:9',
        as_token: 'as-legacy-secret',
        hs_token: 'hs-legacy-secret',
        sender_localpart: 'legacy_bot',
        namespaces: { users: [] },
      };
      old.registerAppservice(reg);
      const file = path.join(dir, 'legacy-registration.yaml');
      await fs.writeFile(file, stringify(reg));
      const run = await cli(['ping', '--registration', file, '--homeserver', old.baseUrl]);
      assert.equal(run.code, 1);
      assert.equal(old.requests.filter((r) => /\/ping$/.test(r.path)).length, 0, 'no doomed ping request');
      assert.match(run.stderr, /does not support appservice ping: its \/versions lists spec versions up to v1\.6 .*so no ping was sent/);
      assert.match(run.stderr, /Next: Appservice ping needs Matrix v1\.7/);
      const json = await cli(['check-appservice', '--registration', file, '--homeserver', old.baseUrl, '--json']);
      assert.equal(json.code, 1);
      assert.equal(old.requests.filter((r) => /\/ping$/.test(r.path)).length, 0, 'check-appservice sends none either');
      assert.match(String((lastJson(json).homeserverPing as { summary: string }).summary), /so no ping was sent/);
    });

    it('pings with the as_token from an environment variable', async () => {
      const as = await startFakeAppservice({ hsToken: 'hs-env-secret' });
      stops.push(() => as.stop());
      await registration('env', as.url);
      const run = await cli(['ping', '--id', 'env', '--as-token-env', 'MY_AS_TOKEN', '--homeserver', hs.baseUrl], {
        env: { MY_AS_TOKEN: 'as-env-secret' },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^OK {3}env via .*reached the appservice in \d+ ms/m);
      const unset = await cli(['ping', '--id', 'env', '--as-token-env', 'NOT_SET_ANYWHERE', '--homeserver', hs.baseUrl]);
      assert.equal(unset.code, 2);
    });

    it('reads the registration while discovery is out, and stops discovery when the file cannot be used', async () => {
      // A homeserver that takes connections and never answers: only stopping the discovery ends the run
      // before its 60 s timeout (and this test's).
      const net = await import('node:net');
      const sockets: import('node:net').Socket[] = [];
      const silent = net.createServer((socket) => sockets.push(socket.on('error', () => undefined)));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      stops.push(() => new Promise<void>((resolve) => (sockets.forEach((x) => x.destroy()), silent.close(() => resolve()))));
      const url = `http://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}`;
      const bad = path.join(dir, 'tokens-equal-registration.yaml');
      await fs.writeFile(bad, 'id: bad\nurl: null\nas_token: same\nhs_token: same\nsender_localpart: bot\nnamespaces: {}\n');
      const run = await cli(['ping', '--registration', bad, '--homeserver', url, '--timeout-ms', '60000']);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /:4:\d+: error: .*\[tokens-equal\]/);
      assert.match(run.stderr, /is not a usable registration/);
      assert.ok(sockets.length > 0, 'discovery went out while the file was read');
      const missing = await cli(['ping', '--registration', path.join(dir, 'nope.yaml'), '--homeserver', url, '--timeout-ms', '60000']);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /Could not read the registration file/);
    });

    it('checks a registration file and points at the broken line', async () => {
      const good = await registration('fine', 'http://127.0.0.1:9');
      const ok = await cli(['check-registration', good]);
      assert.equal(ok.code, 0, ok.stderr);
      const bad = path.join(dir, 'bad-registration.yaml');
      await fs.writeFile(
        bad,
        'id: bad\nurl: http://127.0.0.1:9\nas_token: same\nhs_token: same\nsender_localpart: bot\nnamespaces:\n  users:\n    - exclusive: true\n      regex: "@bad_(.*:localhost"\n',
      );
      const run = await cli(['check-registration', bad]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:\\d+: error: .*\\[tokens-equal\\]`));
      assert.match(run.stderr, /:9:\d+: error: .*\[regex-invalid\]/);
      assert.ok(!/same/.test(run.stderr.replace(/the same/g, '')), 'token value not echoed');
    });

    it('tells "up here but unreachable from the homeserver" apart from "down"', async () => {
      const as = await startFakeAppservice({ hsToken: 'hs-split-secret' });
      stops.push(() => as.stop());
      // The homeserver has a registration with a dead url; the file here points at the live appservice.
      hs.registerAppservice({
        id: 'split',
        url: `http://127.0.0.1:${await freePort()}`,
        as_token: 'as-split-secret',
        hs_token: 'hs-split-secret',
        sender_localpart: 'split_bot',
        namespaces: {},
      });
      const file = path.join(dir, 'split-registration.yaml');
      await fs.writeFile(
        file,
        stringify({
          id: 'split',
          url: as.url,
          as_token: 'as-split-secret',
          hs_token: 'hs-split-secret',
          sender_localpart: 'split_bot',
          namespaces: { users: [] },
        }),
      );
      const run = await cli(['check-appservice', '--registration', file, '--homeserver', hs.baseUrl, '--json']);
      assert.equal(run.code, 1);
      const out = lastJson(run) as { direct: { acceptsHsToken: boolean }; verdict: string };
      assert.equal(out.direct.acceptsHsToken, true);
      assert.match(out.verdict, /answers here but the homeserver cannot reach it/);
    });
  });
});
