// The two servers a host run needs: code-server (VS Code's server with a Node
// extension host) and the project's local test homeserver. Both start as tracked
// process groups (processes.mjs) and are stopped by their `stop()`.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnGroup } from './processes.mjs';
import { REPO_ROOT, run } from './tools.mjs';

/** User settings for a fresh profile: quiet, offline, no AI side panel in screenshots. */
export const DEFAULT_SETTINGS = Object.freeze({
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
});

/**
 * Writes `<userDataDir>/User/settings.json`, keeping keys already there (a reused
 * profile keeps what a test or a person set) and adding `settings` over them.
 * @param {string} userDataDir
 * @param {Record<string, unknown>} [settings]
 */
export function writeUserSettings(userDataDir, settings = DEFAULT_SETTINGS) {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let existing = {};
  try {
    existing = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // absent or not plain JSON (comments): start over
  }
  fs.writeFileSync(file, `${JSON.stringify({ ...existing, ...settings }, null, 2)}\n`);
}

/**
 * @typedef {object} CodeServer
 * @property {string} url          http://127.0.0.1:PORT
 * @property {string} authority    127.0.0.1:PORT, as the browser sees it
 * @property {number} port
 * @property {string} userDataDir
 * @property {string} extensionsDir
 * @property {string} logFile      code-server's stdout+stderr
 * @property {import('./processes.mjs').ManagedProcess} process
 * @property {() => Promise<void>} stop
 */

/**
 * Starts code-server with the smoke-test driver enabled (without it a built VS Code
 * ignores the `payload` query: no development extension, no tests) and waits for
 * /healthz. Reusing `userDataDir` keeps the server half of the SecretStorage key.
 * @param {{ tools: import('./tools.mjs').Tools, runDir: string, userDataDir?: string,
 *           extensionsDir?: string, port?: number, settings?: Record<string, unknown>,
 *           env?: Record<string, string>, smokeTestDriver?: boolean,
 *           log: import('./log.mjs').Logger }} options
 *   `env` reaches the server and so every extension host it starts.
 *   `smokeTestDriver: false` serves the workbench as a person gets it: the driver,
 *   needed to load a development extension and its tests, also hides notification
 *   toasts; without it the extension must be installed (a .vsix).
 * @returns {Promise<CodeServer>}
 */
export async function startCodeServer(options) {
  const { tools, runDir, log } = options;
  const userDataDir = options.userDataDir ?? path.join(runDir, 'user-data');
  const extensionsDir = options.extensionsDir ?? path.join(runDir, 'extensions');
  const port = options.port || (await freePort()); // 0 too: any free port
  const logFile = path.join(runDir, 'code-server.log');
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, options.settings ?? DEFAULT_SETTINGS);
  const configFile = path.join(runDir, 'code-server.yaml');
  // Our own config file, so ~/.config/code-server/config.yaml (its password) is
  // neither read nor created; the flags below say the same and win anyway.
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const args = [
    tools.codeServerEntry,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--config',
    configFile,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--ignore-last-opened',
    ...(options.smokeTestDriver === false ? [] : ['--vscode-option', 'enable-smoke-test-driver']),
  ];
  const proc = spawnGroup(tools.node, args, {
    name: 'code-server',
    cwd: runDir,
    env: { ...hostEnv(tools), ...options.env },
    logFile,
  });
  const authority = `127.0.0.1:${port}`;
  const url = `http://${authority}`;
  const server = { url, authority, port, userDataDir, extensionsDir, logFile, process: proc, stop: proc.stop };
  try {
    await waitForHealthz(server, 60_000);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  log.info(`code-server listening on ${url} (log: ${path.relative(REPO_ROOT, logFile)})`);
  return server;
}

/**
 * The environment for code-server: ours, minus variables that would make it think it
 * runs inside another VS Code, with Node 24 first on PATH (it forks with that Node).
 * @param {import('./tools.mjs').Tools} tools
 */
function hostEnv(tools) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE') delete env[key];
  }
  env.PATH = `${path.dirname(tools.node)}${path.delimiter}${env.PATH}`;
  return env;
}

/** @param {CodeServer} server @param {number} timeoutMs */
async function waitForHealthz(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited;
  server.process.exited.then(
    (r) => (exited = r),
    (e) => (exited = { error: e }),
  );
  while (Date.now() < deadline) {
    if (exited) throw new Error(`code-server exited before it listened (${JSON.stringify(exited)})\n${tail(server.logFile)}`);
    try {
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`code-server did not answer /healthz within ${timeoutMs / 1000} s\n${tail(server.logFile)}`);
}

/**
 * Installs a .vsix into an extensions dir (works offline; installing by id does not).
 * @param {{ tools: import('./tools.mjs').Tools, vsix: string, extensionsDir: string,
 *           userDataDir: string, log: import('./log.mjs').Logger }} options
 */
export async function installVsix({ tools, vsix, extensionsDir, userDataDir, log }) {
  await log.step(`install ${path.basename(vsix)} into code-server`, () =>
    run(
      tools.node,
      [tools.codeServerEntry, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix, '--force'],
      { env: hostEnv(tools), logFile: path.join(path.dirname(extensionsDir), 'install-extension.log') },
    ),
  );
}

export const HOMESERVER_SCRIPT = path.join(REPO_ROOT, 'out', 'test', 'support', 'devHomeserver.js');

/**
 * @typedef {object} Homeserver
 * @property {string} baseUrl
 * @property {{ baseUrl: string, users?: unknown[], appservices?: unknown[] }} info  the JSON line it printed
 * @property {string} infoJson   that line, verbatim
 * @property {import('./processes.mjs').ManagedProcess} process
 * @property {() => Promise<void>} stop
 */

/**
 * Starts the local test homeserver (test/support/devHomeserver.ts, compiled to out/)
 * on a free port and waits for the one JSON line it prints once listening.
 * @param {{ registrationsDir: string, logFile: string, log: import('./log.mjs').Logger,
 *           mode?: 'auto' | 'required' | 'off', timeoutMs?: number, extraArgs?: string[] }} options
 *   mode `auto` (default) skips with a warning when the script is not built yet;
 *   `extraArgs` go to devHomeserver (e.g. --control, --access-token-lifetime-ms N).
 * @returns {Promise<Homeserver | undefined>}
 */
export async function startHomeserver({ registrationsDir, logFile, log, mode = 'auto', timeoutMs = 30_000, extraArgs = [] }) {
  if (mode === 'off') {
    log.info('test homeserver: off (--homeserver=off)');
    return undefined;
  }
  if (!fs.existsSync(HOMESERVER_SCRIPT)) {
    const message = `test homeserver: ${path.relative(REPO_ROOT, HOMESERVER_SCRIPT)} does not exist`;
    if (mode === 'required') throw new Error(`${message} (--homeserver=required)`);
    log.warn(`${message}; running without one, MATRIX_DEVTOOLS_TEST_HOMESERVER stays unset (--homeserver=required makes this an error)`);
    return undefined;
  }
  fs.mkdirSync(registrationsDir, { recursive: true });
  /** @type {(line: string) => void} */
  let gotLine = () => {};
  const firstJsonLine = new Promise((resolve) => (gotLine = resolve));
  const proc = spawnGroup(
    process.execPath,
    [HOMESERVER_SCRIPT, '--port', '0', '--json', '--registrations-dir', registrationsDir, ...extraArgs],
    {
      name: 'test homeserver',
      cwd: REPO_ROOT,
      logFile,
      onStdoutLine: (line) => line.trimStart().startsWith('{') && gotLine(line.trim()),
      graceMs: 3000,
    },
  );
  const outcome = await Promise.race([
    firstJsonLine.then((line) => ({ line })),
    proc.exited.then(
      (r) => ({ exited: r }),
      (e) => ({ exited: { error: String(e) } }),
    ),
    sleep(timeoutMs).then(() => ({ timedOut: true })),
  ]);
  try {
    if (!('line' in outcome)) {
      throw new Error(
        `test homeserver ${'exited' in outcome ? `exited early (${JSON.stringify(outcome.exited)})` : `printed no JSON line within ${timeoutMs / 1000} s`}\n${tail(logFile)}`,
      );
    }
    const info = JSON.parse(outcome.line);
    if (typeof info.baseUrl !== 'string') throw new Error(`test homeserver's JSON line has no baseUrl: ${outcome.line}`);
    log.info(`test homeserver listening on ${info.baseUrl} (log: ${path.relative(REPO_ROOT, logFile)})`);
    return { baseUrl: info.baseUrl, info, infoJson: outcome.line, process: proc, stop: proc.stop };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** The last lines of a log file, for error messages. @param {string} file */
export function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last lines of ${file} ---\n${text}\n---`;
  } catch {
    return `(no log at ${file})`;
  }
}
