// The host scenarios that need more than one extension host (test/scenarios):
//   restart      sign in, stop VS Code and the browser, start both again with the
//                same user-data-dir, browser profile and port: still signed in;
//   two-windows  two windows of that profile open at once ask for a fresh token
//                at the same moment: the homeserver sees exactly one /refresh;
//                a window opened afterwards still has a working session;
//   stale-write  window A rotates, then window B (open since before) adds an account
//                and sets an appservice token: B stores nothing (VS Code for the Web
//                would write A's old tokens back); B reloaded does both; after both
//                reloads every session works.
// One dev homeserver (--control: a request log without tokens) serves every phase.
import fs from 'node:fs';
import path from 'node:path';
import { startHost } from './host.mjs';
import { freePort } from './processes.mjs';
import { DEFAULT_SETTINGS, startHomeserver } from './server.mjs';
import { REPO_ROOT } from './tools.mjs';

const SUITE = path.join(REPO_ROOT, 'out', 'test', 'scenarios');

/**
 * @param {{ tools: import('./tools.mjs').Tools, runDir: string, log: import('./log.mjs').Logger,
 *           onLog: (line: string, type: string) => void, timeoutMs: number,
 *           onCleanup: (fn: () => Promise<void>) => void }} options
 * @returns {Promise<{ passed: number, failed: number }>}  one count per phase window
 */
export async function runScenarios({ tools, runDir, log, onLog, timeoutMs, onCleanup }) {
  const workspace = path.join(runDir, 'workspace');
  const barrierDir = path.join(runDir, 'barrier');
  fs.mkdirSync(workspace, { recursive: true });
  fs.mkdirSync(barrierDir, { recursive: true });
  const homeserver = await startHomeserver({
    registrationsDir: path.join(runDir, 'registrations'),
    logFile: path.join(runDir, 'homeserver.log'),
    log,
    mode: 'required',
    extraArgs: ['--control'],
  });
  onCleanup(homeserver.stop);

  // Same port, user-data-dir and browser profile on every start: the browser keeps
  // SecretStorage per origin and profile, code-server half of its key.
  const hostOptions = {
    tools,
    runDir,
    log,
    port: await freePort(),
    userDataDir: path.join(runDir, 'user-data'),
    profileDir: path.join(runDir, 'browser-profile'),
    // Timers would rotate on their own schedule; the phases ask for tokens themselves.
    settings: {
      ...DEFAULT_SETTINGS,
      'matrixDevtools.autoRotate': false,
      'matrixDevtools.appservices': [{ id: 'scenario-bridge', homeserver: homeserver.baseUrl }],
    },
  };
  const baseEnv = {
    MATRIX_DEVTOOLS_TEST_HARNESS: 'code-server',
    MATRIX_DEVTOOLS_TEST_HOMESERVER: homeserver.baseUrl,
    MATRIX_DEVTOOLS_TEST_INFO: homeserver.infoJson,
    MATRIX_DEVTOOLS_TEST_BARRIER_DIR: barrierDir,
  };
  const results = { passed: 0, failed: 0 };
  /** Runs one phase in one new window; `extra` adds to its environment. */
  const phase = async (host, name, extra = {}) => {
    const label = extra.MATRIX_DEVTOOLS_TEST_WINDOW ? `${name} (window ${extra.MATRIX_DEVTOOLS_TEST_WINDOW})` : name;
    const result = await log.step(`scenario phase ${label}`, () =>
      host.runTests({
        folder: workspace,
        extensionTestsPath: SUITE,
        extensionEnvironment: { ...baseEnv, MATRIX_DEVTOOLS_TEST_PHASE: name, ...extra },
        timeoutMs,
        onLog: (line, type) => onLog(line, type, label),
      }),
    );
    const ok = !result.timedOut && result.code === 0;
    if (ok) results.passed++;
    else {
      results.failed++;
      log.error(`scenario phase ${label} ${result.timedOut ? 'timed out' : `failed (exit ${result.code})`}`);
      for (const line of result.pageErrors.slice(-20)) log.info(`[page ${label}] ${line.split('\n')[0]}`);
    }
    return ok;
  };

  let host = await startHost(hostOptions);
  try {
    if (!(await phase(host, 'sign-in'))) return results;
    // The window wrote alice's account to globalState; VS Code for the Web stores it in
    // IndexedDB a little later. Stopping the browser before that would lose it.
    await log.step('alice in the browser profile before the restart', () => waitForWebState(host, ALICE, log));
  } finally {
    await log.step('stop code-server and the browser', () => host.stop());
  }
  host = await startHost(hostOptions);
  onCleanup(host.stop);
  // Tells "the restarted browser lost the profile's IndexedDB" apart from a fault of ours.
  await log.step('alice in the browser profile after the restart', () => waitForWebState(host, ALICE, log));
  await phase(host, 'after-restart');
  const windows = ['A', 'B'];
  await Promise.all(
    windows.map((w) => phase(host, 'two-windows', { MATRIX_DEVTOOLS_TEST_WINDOW: w, MATRIX_DEVTOOLS_TEST_WINDOWS: windows.join(',') })),
  );
  await phase(host, 'after-two-windows');
  await Promise.all(
    windows.map((w) => phase(host, 'stale-write', { MATRIX_DEVTOOLS_TEST_WINDOW: w, MATRIX_DEVTOOLS_TEST_WINDOWS: windows.join(',') })),
  );
  await phase(host, 'after-stale-write');
  await phase(host, 'after-reloads');
  return results;
}

const ALICE = '@alice:localhost';

/**
 * Waits (up to 15 s) until VS Code for the Web's state databases in this browser
 * profile (IndexedDB `vscode-web-state-db-*`, where globalState lives) hold `needle`,
 * read from a plain page of the workbench's origin. Logs an error when they do not.
 * @param {{ browser: import('./browser.mjs').Browser, server: { url: string } }} host
 * @param {string} needle
 * @param {import('./log.mjs').Logger} log
 */
async function waitForWebState(host, needle, log) {
  const page = await host.browser.newPage();
  try {
    await page.goto(`${host.server.url}/healthz`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = await page.evaluate(findInWebState, needle);
      if (found.holding.length) return;
      if (Date.now() > deadline) {
        log.error(`no VS Code state database in the browser profile holds ${needle} (databases: ${found.names.join(', ') || 'none'})`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await page.close();
  }
}

/**
 * Runs in the page: which `vscode-web-state-db-*` databases have an ItemTable value containing `needle`.
 * @param {string} needle
 */
async function findInWebState(needle) {
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const names = (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('vscode-web-state-db-'));
  const holding = [];
  for (const name of names) {
    const db = await request(indexedDB.open(name));
    try {
      if (!db.objectStoreNames.contains('ItemTable')) continue;
      const values = await request(db.transaction('ItemTable', 'readonly').objectStore('ItemTable').getAll());
      if (values.some((v) => typeof v === 'string' && v.includes(needle))) holding.push(name);
    } finally {
      db.close();
    }
  }
  return { names, holding };
}
