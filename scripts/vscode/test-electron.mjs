#!/usr/bin/env node
// npm run test:electron — the same out/test/suite in desktop VS Code through
// @vscode/test-electron, the route most contributors and CI systems with internet
// use. It downloads VS Code (cached in .vscode-test/); offline, it stops at once and
// points to `npm run test:vscode`. Linux without a display: `xvfb-run -a npm run test:electron`.
//
//   node scripts/vscode/test-electron.mjs [--version stable|1.100.0] [--homeserver auto|required|off] [--no-build]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { createLogger } from './log.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { startHomeserver } from './server.mjs';
import { buildExtension, FIGURES_DIR, REPO_ROOT, TOOLS_DIR } from './tools.mjs';

const log = createLogger('test-electron');
const { values: opts } = parseArgs({
  options: {
    version: { type: 'string', default: process.env.VSCODE_TEST_VERSION ?? 'stable' },
    homeserver: { type: 'string', default: process.env.MATRIX_DEVTOOLS_HOMESERVER_MODE ?? 'auto' },
    'no-build': { type: 'boolean', default: false },
  },
});

const NETWORK_ERRORS =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|socket hang up|timed? ?out|getaddrinfo|fetch failed/i;

async function main() {
  installSignalHandlers(log.warn);
  let vscodeExecutablePath;
  try {
    vscodeExecutablePath = await log.step(`download VS Code ${opts.version} (cached in ${path.relative(REPO_ROOT, TOOLS_DIR)})`, () =>
      downloadAndUnzipVSCode({ version: opts.version, cachePath: TOOLS_DIR, timeout: 15_000 }),
    );
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (NETWORK_ERRORS.test(message) || NETWORK_ERRORS.test(String(errorCode(e)))) {
      log.error(
        `cannot download VS Code: no connection to its download server (${message.split('\n')[0]}).\n` +
          '  This machine looks offline. `npm run test:vscode` runs the same suite in a real VS Code host\n' +
          '  (code-server) without downloading VS Code.',
      );
    } else {
      log.error(`cannot download VS Code ${opts.version}: ${message}`);
    }
    return 2;
  }
  if (!opts['no-build']) await log.step('build', () => buildExtension({ log }));
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    log.warn('no DISPLAY: desktop VS Code needs one; on a headless machine run `xvfb-run -a npm run test:electron`');
  }

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'matrix-devtools-electron-'));
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace);
  const homeserver = await startHomeserver({
    registrationsDir: workspace,
    logFile: path.join(runDir, 'homeserver.log'),
    log,
    mode: /** @type {'auto' | 'required' | 'off'} */ (opts.homeserver),
  });
  if (homeserver) onCleanup(homeserver.stop);

  /** @type {Record<string, string>} */
  const extensionTestsEnv = { MATRIX_DEVTOOLS_TEST_HARNESS: 'electron', MATRIX_DEVTOOLS_FIGURES_DIR: FIGURES_DIR };
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('MATRIX_DEVTOOLS_TEST_') && value !== undefined) extensionTestsEnv[key] = value;
  }
  if (homeserver) {
    extensionTestsEnv.MATRIX_DEVTOOLS_TEST_HOMESERVER = homeserver.baseUrl;
    extensionTestsEnv.MATRIX_DEVTOOLS_TEST_INFO = homeserver.infoJson;
  }
  let code;
  try {
    code = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'suite'),
      extensionTestsEnv,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (e) {
    log.error(e instanceof Error ? e.message : e);
    // TestRunFailedError carries VS Code's exit code; anything else is our failure.
    const exitCode = errorCode(e);
    code = typeof exitCode === 'number' && exitCode !== 0 ? exitCode : 1;
  } finally {
    await runCleanups(log.warn);
    const left = leftoverProcesses();
    if (left.length) log.error(`still running after cleanup:\n  ${left.join('\n  ')}`);
  }
  if (code === 0) fs.rmSync(runDir, { recursive: true, force: true });
  return code;
}

/** @param {unknown} e */
function errorCode(e) {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    log.error(e instanceof Error ? (e.stack ?? e.message) : e);
    await runCleanups(log.warn);
    process.exit(2);
  },
);
