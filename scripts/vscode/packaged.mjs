// The extension as a user gets it: the packaged .vsix installed into code-server,
// which runs without the smoke-test driver (`smokeTestDriver: false`), so the
// workbench behaves as it does for a person (notification toasts included). The
// UI walk and the demo both use this; the test runner keeps the development route
// (host.mjs), which needs the driver.
import fs from 'node:fs';
import path from 'node:path';
import { HOMESERVER_SCRIPT, installVsix, startCodeServer } from './server.mjs';
import { REPO_ROOT, run } from './tools.mjs';

export const VSIX = path.join(REPO_ROOT, 'matrix-devtools.vsix');
const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
/** The folder name code-server installs the extension under. */
export const EXTENSION_DIR_NAME = `${MANIFEST.publisher}.${MANIFEST.name}-${MANIFEST.version}`.toLowerCase();

/**
 * `npm ci` when the project's dependencies are not installed (a fresh clone).
 * @param {{ log: import('./log.mjs').Logger }} options
 */
export async function ensureDependencies({ log }) {
  if (fs.existsSync(path.join(REPO_ROOT, 'node_modules', '.package-lock.json'))) return;
  await log.step('npm ci (the project has no node_modules yet)', () =>
    run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: REPO_ROOT, inherit: true }),
  );
}

/**
 * `npm run package`: production bundle and matrix-devtools.vsix.
 * @param {{ log: import('./log.mjs').Logger, reuse?: boolean }} options
 *   `reuse` keeps an existing .vsix (--no-build).
 * @returns {Promise<string>} the .vsix
 */
export async function packageExtension({ log, reuse = false }) {
  if (reuse && fs.existsSync(VSIX)) {
    log.info(`reusing ${path.relative(REPO_ROOT, VSIX)} (built ${fs.statSync(VSIX).mtime.toISOString()})`);
    return VSIX;
  }
  await log.step('npm run package (production bundle + vsce)', () =>
    run('npm', ['run', '--silent', 'package'], { cwd: REPO_ROOT, inherit: true }),
  );
  return VSIX;
}

/**
 * Compiles the dev homeserver (out/test/support/devHomeserver.js) with the project's
 * `compile-tests`. Type errors elsewhere in the tests (work in progress) do not stop
 * it as long as tsc emitted the homeserver.
 * @param {{ log: import('./log.mjs').Logger, reuse?: boolean }} options
 */
export async function buildDevHomeserver({ log, reuse = false }) {
  if (reuse && fs.existsSync(HOMESERVER_SCRIPT)) return;
  const before = Date.now();
  try {
    await log.step('npm run compile-tests (dev homeserver -> out/)', () =>
      run('npm', ['run', '--silent', 'compile-tests'], { cwd: REPO_ROOT, inherit: true }),
    );
  } catch (e) {
    const emitted = fs.existsSync(HOMESERVER_SCRIPT) && fs.statSync(HOMESERVER_SCRIPT).mtimeMs >= before - 1000;
    if (!emitted) throw e;
    log.warn('tsc reported type errors (above); the dev homeserver was emitted anyway');
  }
}

/**
 * Installs `vsix` into `extensionsDir` and starts code-server on it, without the
 * smoke-test driver.
 * @param {{ tools: import('./tools.mjs').Tools, runDir: string, log: import('./log.mjs').Logger,
 *           vsix: string, userDataDir: string, extensionsDir: string, port?: number,
 *           settings?: Record<string, unknown> }} options
 * @returns {Promise<import('./server.mjs').CodeServer>}
 */
export async function startPackagedCodeServer({ tools, runDir, log, vsix, userDataDir, extensionsDir, port, settings }) {
  fs.mkdirSync(runDir, { recursive: true });
  await installVsix({ tools, vsix, extensionsDir, userDataDir, log });
  if (installedExtensions(extensionsDir).length === 0) throw new Error(`${path.basename(vsix)} did not install into ${extensionsDir}`);
  return log.step('start code-server', () =>
    startCodeServer({
      tools,
      runDir,
      log,
      userDataDir,
      extensionsDir,
      port,
      settings,
      smokeTestDriver: false,
    }),
  );
}

/** Installed copies of this extension in an extensions dir. @param {string} extensionsDir */
export function installedExtensions(extensionsDir) {
  try {
    return fs.readdirSync(extensionsDir).filter((d) => d.toLowerCase() === EXTENSION_DIR_NAME);
  } catch {
    return [];
  }
}

/**
 * User settings for the demo homeserver's appservices, so pings need no prompt.
 * @param {string} homeserverUrl
 * @param {Array<{ id: string }>} [appservices]  from the dev homeserver's JSON line
 */
export function demoAppserviceSettings(homeserverUrl, appservices = [{ id: 'demo-bridge' }, { id: 'demo-down' }, { id: 'demo-broken' }]) {
  return { 'matrixDevtools.appservices': appservices.map(({ id }) => ({ id, homeserver: homeserverUrl })) };
}
