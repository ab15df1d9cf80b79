// `matrix-devtools login --oauth` (device grant) and the commands that follow
// it, as a user runs them: the bundled CLI in its own process, against
// oidc-provider and the delegating test homeserver. The person confirming the
// code in a browser is the test browser, reading the code from stderr.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, CLI_TEST_CACHE_HOME, runCli } from '../support/cliProcess';
import { startOAuthHomeserver, TestBrowser, type OAuthSetup } from '../support/oauth';

describe('matrix-devtools login --oauth', function () {
  this.timeout(30_000);
  let setup: OAuthSetup;
  let dir: string;
  let env: Record<string, string>;

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
  });
  beforeEach(async () => {
    setup = await startOAuthHomeserver();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-oauth-'));
    env = { MATRIX_DEVTOOLS_STORE: path.join(dir, 'sessions.json') };
  });
  afterEach(async () => {
    await setup.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints the URL and code to stderr, stores the session, and whoami/token/refresh/logout work on it', async () => {
    const child = spawn(process.execPath, [CLI, 'login', '--homeserver', setup.hs.baseUrl, '--oauth', '--json'], {
      env: { ...process.env, XDG_CACHE_HOME: CLI_TEST_CACHE_HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const browser = new TestBrowser();
    let approving: Promise<unknown> | undefined;
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      stderr += c;
      const m = /open (\S+) in a browser and enter the code (\S+)/.exec(stderr);
      if (m && !approving) approving = browser.approveDeviceCode(m[1], m[2]).catch((e: unknown) => (child.kill(), e));
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const approval = await approving;
    assert.ok(!(approval instanceof Error), String(approval));
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(summary.userId, '@alice:localhost');
    assert.equal(summary.signIn, 'oauth');
    assert.equal(summary.refreshable, true);
    assert.equal(stdout.trim().split('\n').length, 1);

    const who = await runCli(['whoami', '--json'], { env });
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).deviceId, summary.deviceId);
    const refreshed = await runCli(['refresh', '--json'], { env });
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal(setup.auth.count('/token', 'refresh_token'), 1);
    assert.equal(setup.hs.count('POST', /\/refresh$/), 0);
    const tokenRun = await runCli(['token'], { env });
    assert.equal(tokenRun.code, 0);
    const accessToken = tokenRun.stdout.trim();
    assert.ok(!stderr.includes(accessToken) && !stdout.includes(accessToken));
    const out = await runCli(['logout', '--json'], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(setup.auth.count('/token/revocation'), 1);
    const after = await fetch(`${setup.hs.baseUrl}/_matrix/client/v3/account/whoami`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    assert.equal(after.status, 401);
  });

  it('explains a server without OAuth in one sentence (exit 1)', async () => {
    await setup.stop();
    const { TestHomeserver } = await import('../support/homeserver');
    const hs = await TestHomeserver.start();
    setup = { ...setup, stop: () => hs.stop() };
    const run = await runCli(['login', '--homeserver', hs.baseUrl, '--oauth'], { env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /does not use OAuth 2.0 sign-in \(no auth_metadata\); sign in with --user and --password-stdin instead/);
  });

  it('npm run dev-homeserver -- --oauth serves auth_metadata and no password login', async () => {
    await withDevHomeserver(['--oauth'], async (info) => {
      const meta = (await (await fetch(`${info.baseUrl}/_matrix/client/v1/auth_metadata`)).json()) as {
        issuer: string;
        device_authorization_endpoint?: string;
      };
      assert.equal(meta.issuer, info.oauthIssuer);
      assert.ok(meta.device_authorization_endpoint);
      assert.equal((await fetch(`${info.baseUrl}/_matrix/client/v3/login`)).status, 404);
    });
  });

  it('npm run dev-homeserver -- --oauth --password-login offers both, and a password signs in', async () => {
    await withDevHomeserver(['--oauth', '--password-login'], async (info) => {
      const meta = (await (await fetch(`${info.baseUrl}/_matrix/client/v1/auth_metadata`)).json()) as { issuer: string };
      assert.equal(meta.issuer, info.oauthIssuer);
      const flows = (await (await fetch(`${info.baseUrl}/_matrix/client/v3/login`)).json()) as { flows: { type: string }[] };
      assert.ok(
        flows.flows.some((f) => f.type === 'm.login.password'),
        JSON.stringify(flows),
      );
      const login = await fetch(`${info.baseUrl}/_matrix/client/v3/login`, {
        method: 'POST',
        body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'builder' }),
      });
      assert.equal(login.status, 200);
    });
  });

  it('npm run dev-homeserver -- --password-login without --oauth says what it goes with (exit 1)', async () => {
    const child = spawn(process.execPath, [path.join(__dirname, '../support/devHomeserver.js'), '--port', '0', '--password-login'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /--password-login goes with --oauth/);
  });
});

/** Starts out/test/support/devHomeserver.js with `args`, hands its JSON line to `use`, stops it. */
async function withDevHomeserver(args: string[], use: (info: { baseUrl: string; oauthIssuer: string }) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [path.join(__dirname, '../support/devHomeserver.js'), '--port', '0', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`devHomeserver exited (${code}) before printing its JSON line`)));
    });
    await use(JSON.parse(line) as { baseUrl: string; oauthIssuer: string });
  } finally {
    child.kill('SIGTERM');
  }
}
