// Headless chromium (Debian's, driven by playwright-core) as the VS Code window.
// One browser context is one browser profile: pages in it share localStorage, where
// code-server keeps SecretStorage, so two pages are two windows of one user. A
// persistent profile (`profileDir`) plus the same code-server user-data-dir keeps
// secrets across browser and server restarts.
import fs from 'node:fs';
import util from 'node:util';
import { chromium as playwright } from 'playwright-core';
import { adoptGroup, childGroupLeaders, processesNamed, stopGroup } from './processes.mjs';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * @typedef {object} Browser
 * @property {import('playwright-core').BrowserContext} context
 * @property {() => Promise<import('playwright-core').Page>} newPage
 * @property {() => Promise<void>} close  closes the browser and kills its process group
 */

/**
 * @param {{ chromium: string, profileDir?: string, headless?: boolean,
 *           viewport?: { width: number, height: number }, onUngracefulClose?: (ms: number) => void }} options
 *   `profileDir` makes the profile persistent (launchPersistentContext).
 *   `onUngracefulClose(ms)`: the persistent browser did not close within its grace time and is killed.
 * @returns {Promise<Browser>}
 */
export async function launchBrowser({ chromium, profileDir, headless = true, viewport = { width: 1440, height: 900 }, onUngracefulClose }) {
  const before = new Set(childGroupLeaders());
  const crashpadBefore = new Set(processesNamed('chrome_crashpad').map((p) => p.pid));
  // Signals are ours to handle (processes.mjs): playwright's own SIGINT handler would
  // exit before code-server and the homeserver are stopped.
  const launchOptions = {
    executablePath: chromium,
    headless,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  };
  let context;
  let browser;
  if (profileDir) {
    fs.mkdirSync(profileDir, { recursive: true });
    context = await playwright.launchPersistentContext(profileDir, { ...launchOptions, viewport });
  } else {
    browser = await playwright.launch(launchOptions);
    context = await browser.newContext({ viewport });
  }
  const groups = childGroupLeaders().filter((pid) => !before.has(pid));
  for (const pgid of groups) adoptGroup(pgid, 'chromium');
  // Chromium starts its crash handlers in sessions of their own, outside its group;
  // they exit after the browser, and are stopped here if they do not.
  const crashpadGroups = new Set(
    processesNamed('chrome_crashpad')
      .filter((p) => !crashpadBefore.has(p.pid))
      .map((p) => p.pgid),
  );
  for (const pgid of crashpadGroups) adoptGroup(pgid, 'chromium crashpad handler');
  let closed = false;
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      if (closed) return;
      closed = true;
      // A persistent profile must be shut down, not killed: Chrome writes IndexedDB
      // (VS Code's globalState) and localStorage (its SecretStorage) out as it closes.
      const graceMs = profileDir ? 20_000 : 5000;
      const started = Date.now();
      const graceful = await Promise.race([
        (browser ?? context).close().then(
          () => true,
          () => false,
        ),
        new Promise((r) => setTimeout(() => r(false), graceMs)),
      ]);
      if (!graceful && profileDir) onUngracefulClose?.(Date.now() - started);
      for (const pgid of groups) await stopGroup(pgid, 2000);
      for (const pgid of crashpadGroups) await stopGroup(pgid, 2000);
    },
  };
}

/**
 * The workbench URL that opens `folder` and loads a development extension, and its
 * tests when `extensionTestsPath` is given. Paths are paths on the server.
 * @param {{ url: string, authority: string }} server
 * @param {{ folder: string, extensionDevelopmentPath: string, extensionTestsPath?: string,
 *           extensionEnvironment?: Record<string, string> }} options
 *   `extensionEnvironment` becomes process.env in the extension host.
 */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath, extensionEnvironment }) {
  const remote = (p) => `vscode-remote://${server.authority}${p}`;
  const payload = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  payload.push(['skipWelcome', 'true']);
  if (extensionEnvironment && Object.keys(extensionEnvironment).length) {
    payload.push(['extensionEnvironment', JSON.stringify(extensionEnvironment)]);
  }
  const query = new URLSearchParams({ folder, payload: JSON.stringify(payload) });
  return `${server.url}/?${query}`;
}

/**
 * @typedef {object} Workbench
 * @property {import('playwright-core').Page} page
 * @property {Promise<number>} exitCode  settles when the workbench calls codeAutomationExit
 *   (the extension tests' `run()` settled)
 * @property {string[]} pageErrors  uncaught page errors and console errors, for diagnosis
 */

/**
 * Opens a page, exposes the smoke-test driver callbacks, navigates to `url` and
 * waits for the workbench to render.
 * @param {Browser} browser
 * @param {string} url  from {@link workbenchUrl}
 * @param {{ onLog?: (line: string, type: string) => void, timeoutMs?: number }} [options]
 *   `onLog` receives extension-host console output (while tests run).
 * @returns {Promise<Workbench>}
 */
export async function openWorkbench(browser, url, { onLog = (line) => console.log(line), timeoutMs = 60_000 } = {}) {
  const page = await browser.newPage();
  /** @type {(code: number) => void} */
  let exit = () => {};
  const exitCode = new Promise((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => exit(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const list = Array.isArray(args) ? args : [args];
    onLog(util.format(...list), String(type));
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  // Warnings too when they are about storage: VS Code for the Web falls back to memory when IndexedDB fails.
  page.on('console', (m) => {
    if (m.type() === 'error' || (m.type() === 'warning' && /indexeddb|storage/i.test(m.text())))
      pageErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(url, { timeout: timeoutMs });
  await page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
  return { page, exitCode, pageErrors };
}

/**
 * Loads the extension and its mocha `run()` in a new page and waits for the result.
 * @param {{ browser: Browser, server: { url: string, authority: string }, folder: string,
 *           extensionDevelopmentPath: string, extensionTestsPath: string,
 *           extensionEnvironment?: Record<string, string>, timeoutMs?: number,
 *           onLog?: (line: string, type: string) => void }} options
 * @returns {Promise<{ code: number, timedOut: boolean, pageErrors: string[] }>}
 *   `code` is the suite's exit code; on timeout it is 1 and `timedOut` is true.
 */
export async function runExtensionTests({ browser, server, timeoutMs = 300_000, onLog, ...target }) {
  const url = workbenchUrl(server, target);
  /** @type {string[]} */
  let pageErrors = [];
  const outcome = (async () => {
    const workbench = await openWorkbench(browser, url, { onLog, timeoutMs });
    pageErrors = workbench.pageErrors;
    return workbench.exitCode;
  })();
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
  try {
    const result = await Promise.race([outcome, timeout]);
    if (result === 'timeout') return { code: 1, timedOut: true, pageErrors };
    return { code: /** @type {number} */ (result), timedOut: false, pageErrors };
  } finally {
    clearTimeout(timer);
    outcome.catch(() => {}); // settles (rejects) when the browser closes under a timed-out load
  }
}
