// A running VS Code host: code-server plus a browser, the unit the runner, the UI
// walk and the demo build on. Restarting with the same `userDataDir`, `profileDir`
// and `port` keeps SecretStorage: code-server keeps it in the browser's
// localStorage, which is per origin (http://127.0.0.1:PORT) and per browser profile,
// encrypted with a key half kept in the user-data-dir.
import fs from 'node:fs';
import { launchBrowser, openWorkbench, runExtensionTests, workbenchUrl } from './browser.mjs';
import { startCodeServer } from './server.mjs';
import { REPO_ROOT } from './tools.mjs';

/**
 * @typedef {object} WindowOptions
 * @property {string} folder  workspace folder to open (a path on the server)
 * @property {string} [extensionDevelopmentPath]  defaults to this repository
 * @property {string} [extensionTestsPath]  loads a mocha `run()`; the host stops when it settles
 * @property {Record<string, string>} [extensionEnvironment]  process.env additions in the extension host
 * @property {(line: string, type: string) => void} [onLog]  extension host / workbench console output
 */

/**
 * @typedef {object} Host
 * @property {import('./server.mjs').CodeServer} server
 * @property {import('./browser.mjs').Browser} browser
 * @property {(options: WindowOptions) => Promise<import('./browser.mjs').Workbench>} openWindow
 *   a new page (window) in the same browser profile: windows share SecretStorage
 * @property {(options: WindowOptions & { extensionTestsPath: string, timeoutMs?: number }) =>
 *   Promise<{ code: number, timedOut: boolean, pageErrors: string[] }>} runTests
 * @property {() => Promise<void>} stop  closes the browser, then stops code-server
 */

/**
 * @param {{ tools: import('./tools.mjs').Tools, runDir: string, log: import('./log.mjs').Logger,
 *           userDataDir?: string, extensionsDir?: string, port?: number, profileDir?: string,
 *           settings?: Record<string, unknown>, env?: Record<string, string>,
 *           viewport?: { width: number, height: number } }} options
 *   `profileDir` gives the browser a persistent profile; without it each start is a
 *   fresh one (empty SecretStorage).
 * @returns {Promise<Host>}
 */
export async function startHost({ tools, runDir, log, profileDir, viewport, ...serverOptions }) {
  if (!tools.chromium)
    throw new Error('no chromium to drive the workbench: install it (apt-get install chromium) or set MATRIX_DEVTOOLS_CHROMIUM');
  fs.mkdirSync(runDir, { recursive: true });
  const server = await log.step('start code-server', () => startCodeServer({ tools, runDir, log, ...serverOptions }));
  let browser;
  try {
    browser = await log.step('launch chromium', () =>
      launchBrowser({
        chromium: /** @type {string} */ (tools.chromium),
        profileDir,
        viewport,
        onUngracefulClose: (ms) => log.warn(`chromium did not close its profile within ${ms} ms; killed (its storage may be incomplete)`),
      }),
    );
  } catch (e) {
    await server.stop();
    throw e;
  }
  const target = (o) => ({ extensionDevelopmentPath: REPO_ROOT, ...o });
  return {
    server,
    browser,
    openWindow: ({ onLog, ...o }) => openWorkbench(browser, workbenchUrl(server, target(o)), { onLog }),
    runTests: ({ timeoutMs, onLog, ...o }) => runExtensionTests({ browser, server, timeoutMs, onLog, ...target(o) }),
    async stop() {
      await browser.close();
      await server.stop();
    },
  };
}
