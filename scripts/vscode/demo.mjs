#!/usr/bin/env node
// npm run demo — Matrix DevTools as a user gets it, in VS Code in the browser, with
// a local homeserver to try it on: packages the .vsix, installs it into code-server
// with a fresh profile (offline: a .vsix installs without the marketplace), starts
// the dev homeserver (users alice/wonderland and bob/builder, three demo
// appservices whose registration files land in the demo workspace) and serves
// VS Code on http://127.0.0.1:PORT until Ctrl-C, which stops everything again.
//
//   node scripts/vscode/demo.mjs [--port 8080] [--homeserver required|off] [--oauth] [--no-build] [--check]
//
// --oauth starts the homeserver with its sign-in delegated to a real OAuth 2.0
// server (as Synapse with Matrix Authentication Service): Add Account then signs
// in with a code or through the browser instead of asking for a password.
// --check starts everything, checks that the page answers, the extension is
// installed and shows in the workbench (headless chromium, when installed) and the
// homeserver answers, then stops it all and exits 0 (1 when a check failed).
// --no-build reuses matrix-devtools.vsix and out/ when they exist.
// State lives in .demo/ (gitignored) and starts fresh on every run: the dev
// homeserver keeps its accounts in memory only, so nothing would survive anyway.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from './log.mjs';
import {
  buildDevHomeserver,
  demoAppserviceSettings,
  ensureDependencies,
  installedExtensions,
  packageExtension,
  startPackagedCodeServer,
} from './packaged.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { DEFAULT_SETTINGS, startHomeserver } from './server.mjs';
import { ensureTools, REPO_ROOT } from './tools.mjs';

const log = createLogger('demo');
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MATRIX_DEVTOOLS_DEMO_PORT ?? '8080' },
    homeserver: { type: 'string', default: 'required' },
    'no-build': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    oauth: { type: 'boolean', default: false },
  },
});
const port = Number(opts.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) usage(`--port must be a TCP port, not ${opts.port}`);
if (!['required', 'off'].includes(opts.homeserver)) usage('--homeserver must be required or off');

const DEMO_DIR = path.join(REPO_ROOT, '.demo');

async function main() {
  installSignalHandlers(log.warn);
  await assertPortFree(port);
  await ensureDependencies({ log });
  // The browser is only needed for --check's look at the workbench.
  const tools = await log.step('tools', () => ensureTools({ log, needBrowser: opts.check }));
  const reuse = opts['no-build'];
  const vsix = await packageExtension({ log, reuse });
  if (opts.homeserver !== 'off') await buildDevHomeserver({ log, reuse });

  const userDataDir = path.join(DEMO_DIR, 'user-data');
  const extensionsDir = path.join(DEMO_DIR, 'extensions');
  const workspace = path.join(DEMO_DIR, 'workspace');
  for (const dir of [userDataDir, extensionsDir, workspace]) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(workspace, { recursive: true });

  const homeserver =
    opts.homeserver === 'off'
      ? undefined
      : await startHomeserver({
          registrationsDir: workspace,
          logFile: path.join(DEMO_DIR, 'homeserver.log'),
          log,
          mode: 'required',
          extraArgs: opts.oauth ? ['--oauth'] : [],
        });
  if (homeserver) onCleanup(homeserver.stop);
  const server = await startPackagedCodeServer({
    tools,
    runDir: DEMO_DIR,
    log,
    vsix,
    userDataDir,
    extensionsDir,
    port,
    // With the homeserver each demo appservice is loaded by, pings need no prompt.
    settings: { ...DEFAULT_SETTINGS, ...(homeserver ? demoAppserviceSettings(homeserver.baseUrl, homeserver.info.appservices) : {}) },
  });
  onCleanup(server.stop);

  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  printWelcome(url, homeserver);
  if (opts.check) return check({ url, extensionsDir, homeserver, tools });
  log.info('Ctrl-C stops the demo (code-server and the homeserver)');
  return new Promise(() => {}); // the signal handlers stop everything and exit
}

/**
 * @param {string} url
 * @param {import('./server.mjs').Homeserver | undefined} homeserver
 */
function printWelcome(url, homeserver) {
  const lines = ['', 'Matrix DevTools demo', `  Open in a browser:  ${url}`];
  if (homeserver) {
    const users = /** @type {Array<{ localpart: string, password: string }>} */ (homeserver.info.users ?? []);
    const appservices = /** @type {Array<{ id: string }>} */ (homeserver.info.appservices ?? []);
    const issuer = typeof homeserver.info.oauthIssuer === 'string' ? homeserver.info.oauthIssuer : undefined;
    lines.push(
      `  Homeserver:         ${homeserver.baseUrl}   (Matrix view > Add Account: type this URL)`,
      ...(issuer ? [`  OAuth 2.0:          sign-in is delegated to ${issuer}: Add Account shows a code to enter there`] : []),
      `  Sign in as:         ${users.map((u) => `${u.localpart} / ${u.password}`).join('   or   ')}`,
      `  Appservices:        ${appservices.map((a) => a.id).join(', ')} (registration files in ${path.relative(REPO_ROOT, path.join(DEMO_DIR, 'workspace'))}/;`,
      '                      Matrix: Ping All Appservices pings them through the homeserver above)',
    );
  }
  lines.push('  Use a fresh browser window (private) if an earlier demo ran on the same port: secrets are kept per origin.', '');
  for (const line of lines) console.log(line);
}

/**
 * @param {{ url: string, extensionsDir: string, homeserver: import('./server.mjs').Homeserver | undefined,
 *           tools: import('./tools.mjs').Tools }} target
 * @returns {Promise<number>}
 */
async function check({ url, extensionsDir, homeserver, tools }) {
  const failures = [];
  const expect = (ok, what) => {
    log.info(`check: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };
  try {
    const res = await fetch(url);
    const body = await res.text();
    expect(res.ok && /workbench/i.test(body), `GET ${url} answers ${res.status} with the workbench page`);
    const installed = installedExtensions(extensionsDir);
    expect(
      installed.length > 0,
      `the extension is installed in ${path.relative(REPO_ROOT, extensionsDir)} (${installed.join(', ') || 'nothing'})`,
    );
    if (homeserver) {
      const versions = await fetch(`${homeserver.baseUrl}/_matrix/client/versions`).catch(() => undefined);
      expect(!!versions?.ok, `the homeserver answers /_matrix/client/versions (${versions?.status ?? 'no answer'})`);
    }
    if (homeserver && typeof homeserver.info.oauthIssuer === 'string') {
      for (const [ok, what] of await oauthCliRoundTrip(homeserver)) expect(ok, what);
    }
    if (tools.chromium) {
      expect(await showsMatrixView(url, tools.chromium), 'the workbench shows the Matrix view with its Add Account welcome');
    } else {
      log.warn('no chromium: not checking the workbench in a browser');
    }
  } catch (e) {
    expect(false, `check crashed: ${e instanceof Error ? e.message : e}`);
  }
  await log.step('stop processes', () => runCleanups(log.warn));
  const left = leftoverProcesses();
  expect(left.length === 0, `no process left running${left.length ? `:\n  ${left.join('\n  ')}` : ''}`);
  log.info(failures.length ? `check FAILED: ${failures.length} problem(s)` : 'check passed');
  return failures.length ? 1 : 0;
}

/**
 * --oauth: signs in as a user would from a terminal, with the packaged CLI's
 * device grant (`login --oauth`), the code entered on the authorization server's
 * own pages by an HTTP browser (test/support/oauth/browser.ts); then `whoami`,
 * and `logout`, after which the homeserver refuses the access token (revoked).
 * @param {import('./server.mjs').Homeserver} homeserver
 * @returns {Promise<Array<[boolean, string]>>}
 */
async function oauthCliRoundTrip(homeserver) {
  const support = (file) => import(path.join(REPO_ROOT, 'out', 'test', 'support', ...file));
  const { TestBrowser } = await support(['oauth', 'browser.js']);
  const { runCli: run } = await support(['cliProcess.js']);
  const user = /** @type {{ userId: string, localpart: string, password: string }} */ (homeserver.info.users[0]);
  const env = { MATRIX_DEVTOOLS_STORE: path.join(DEMO_DIR, 'cli-sessions.json') };
  fs.rmSync(env.MATRIX_DEVTOOLS_STORE, { force: true });
  /** The packaged CLI (dist/cli.js); its output stays here (it may hold a token). */
  const runCli = (args, onStderr) => run(args, { env, onStderr, timeoutMs: 60_000 });
  /** @type {Array<[boolean, string]>} */
  const results = [];
  let approval = Promise.resolve(undefined);
  const login = await runCli(['login', '--homeserver', homeserver.baseUrl, '--oauth', '--json'], (line) => {
    const m = /open (\S+) in a browser and enter the code (\S+)/.exec(line);
    if (m) approval = new TestBrowser().approveDeviceCode(m[1], m[2], { username: user.localpart, password: user.password });
  });
  const visit = await approval.catch((e) => ({ status: 0, text: String(e) }));
  const session = login.code === 0 ? JSON.parse(login.stdout) : {};
  results.push([
    login.code === 0 && session.userId === user.userId,
    `matrix-devtools login --oauth: the code confirmed in the browser (HTTP ${visit?.status ?? 'none'}) signs in ${user.userId}` +
      (login.code === 0 ? '' : ` (exit ${login.code}: ${login.stderr.trim().split('\n').pop()})`),
  ]);
  if (login.code !== 0) return results;
  const whoami = await runCli(['whoami', '--json']);
  results.push([
    whoami.code === 0 && JSON.parse(whoami.stdout).userId === user.userId,
    `matrix-devtools whoami on the OAuth session (exit ${whoami.code})`,
  ]);
  const token = await runCli(['token']);
  const accessToken = token.stdout.trim();
  const logout = await runCli(['logout']);
  const after = await fetch(`${homeserver.baseUrl}/_matrix/client/v3/account/whoami`, {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  results.push([
    token.code === 0 && logout.code === 0 && after.status === 401,
    `matrix-devtools logout revokes the OAuth session: its access token then gets HTTP ${after.status} (exit ${logout.code})`,
  ]);
  return results;
}

/** Opens the workbench headless and looks for the Matrix view and its welcome text. */
async function showsMatrixView(url, chromium) {
  const { launchBrowser, openWorkbench } = await import('./browser.mjs'); // playwright-core: only here
  const browser = await launchBrowser({ chromium, viewport: { width: 1280, height: 800 } });
  try {
    const { page } = await openWorkbench(browser, url, { onLog: () => {} });
    await page.locator('.activitybar [aria-label^="Matrix"]').first().click({ timeout: 30_000 });
    await page.getByText('No Matrix accounts yet', { exact: false }).first().waitFor({ state: 'visible', timeout: 30_000 });
    return true;
  } catch (e) {
    log.error(`workbench check: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    return false;
  } finally {
    await browser.close();
  }
}

/** @param {number} p */
function assertPortFree(p) {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () =>
      reject(new Error(`port ${p} on 127.0.0.1 is in use (an earlier demo still running?); stop it or pass --port N`)),
    );
    probe.listen(p, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}

/** @param {string} message */
function usage(message) {
  log.error(message);
  process.exit(2);
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    log.error(e instanceof Error ? (e.stack ?? e.message) : e);
    await runCleanups(log.warn);
    process.exit(2);
  },
);
