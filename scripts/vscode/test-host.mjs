#!/usr/bin/env node
// npm run test:vscode — runs out/test/suite (mocha, the same `run()` that
// @vscode/test-electron loads) inside a real VS Code extension host, offline:
// code-server + headless chromium, with the local test homeserver beside it.
//
//   node scripts/vscode/test-host.mjs [--timeout 300] [--homeserver auto|required|off]
//        [--grep PATTERN] [--env KEY=VALUE]... [--no-build] [--strict-types] [--keep] [--verbose]
//        [--no-scenarios | --only-scenarios]
//
// After the suite, the multi-host scenarios (scenarios.mjs: a restart, two
// windows at once) run unless --grep or --no-scenarios is given.
// Exit code: the suite's; 124 on timeout; 2 when the harness itself failed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startHost } from './host.mjs';
import { createLogger, formatDuration } from './log.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { runScenarios } from './scenarios.mjs';
import { startHomeserver, tail } from './server.mjs';
import { buildExtension, ensureTools, FIGURES_DIR, REPO_ROOT } from './tools.mjs';

const log = createLogger('test-host');

const { values: opts } = parseArgs({
  options: {
    timeout: { type: 'string', default: process.env.MATRIX_DEVTOOLS_VSCODE_TIMEOUT ?? '300' },
    homeserver: { type: 'string', default: process.env.MATRIX_DEVTOOLS_HOMESERVER_MODE ?? 'auto' },
    grep: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
    'strict-types': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    'no-scenarios': { type: 'boolean', default: false },
    'only-scenarios': { type: 'boolean', default: false },
  },
});
const timeoutMs = Number(opts.timeout) * 1000;
if (!(timeoutMs > 0)) usage(`--timeout must be a number of seconds, not ${opts.timeout}`);
if (!['auto', 'required', 'off'].includes(opts.homeserver)) usage(`--homeserver must be auto, required or off`);

/**
 * What the extension host sees in process.env: MATRIX_DEVTOOLS_TEST_* variables of
 * this process, then --grep and --env, then what the harness sets itself.
 */
function extensionEnvironment(homeserver) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('MATRIX_DEVTOOLS_TEST_') && value !== undefined) env[key] = value;
  }
  if (opts.grep) env.MATRIX_DEVTOOLS_TEST_GREP = opts.grep;
  for (const pair of opts.env) {
    const eq = pair.indexOf('=');
    if (eq <= 0) usage(`--env wants KEY=VALUE, not ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  env.MATRIX_DEVTOOLS_TEST_HARNESS = 'code-server';
  // The leak scan's figures, for `npm run reliability` (test/support/reliabilityFigures.ts).
  env.MATRIX_DEVTOOLS_FIGURES_DIR = FIGURES_DIR;
  if (homeserver) {
    env.MATRIX_DEVTOOLS_TEST_HOMESERVER = homeserver.baseUrl;
    env.MATRIX_DEVTOOLS_TEST_INFO = homeserver.infoJson;
  }
  return env;
}

async function main() {
  installSignalHandlers(log.warn);
  const started = performance.now();
  const tools = await log.step('tools', () => ensureTools({ log }));
  if (!opts['no-build']) await log.step('build', () => buildExtension({ log, strict: opts['strict-types'] }));

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'matrix-devtools-host-'));
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace);
  log.info(`run dir ${runDir}`);

  let code = 2;
  let summary; // the suite's "N passed, N failed" line
  let scenarioCounts = [0, 0]; // passed, failed in the scenario phases
  try {
    if (opts['only-scenarios']) code = 0;
    else {
      const outcome = await runMainSuite(tools, runDir, workspace);
      code = outcome.code;
      summary = outcome.summary;
    }
    if (!opts.grep && (!opts['no-scenarios'] || opts['only-scenarios'])) {
      const scenarios = await log.step('multi-host scenarios', () =>
        runScenarios({
          tools,
          runDir: path.join(runDir, 'scenarios'),
          log,
          timeoutMs: Math.min(timeoutMs, 120_000),
          onCleanup,
          onLog: (line, type, label) => {
            const counts = /^(\d+) passed, (\d+) failed/.exec(line);
            if (counts) scenarioCounts = [scenarioCounts[0] + Number(counts[1]), scenarioCounts[1] + Number(counts[2])];
            printHostLine(line, type, `[vscode ${label}] `);
          },
        }),
      );
      log.info(`scenario phases: ${scenarios.passed} passed, ${scenarios.failed} failed`);
      if (scenarios.failed > 0) code = code || 1;
    }
  } catch (e) {
    log.error(e instanceof Error ? (e.stack ?? e.message) : e);
    code = 2;
  } finally {
    await log.step('stop processes', () => runCleanups(log.warn));
    const left = leftoverProcesses();
    if (left.length) {
      log.error(`still running after cleanup:\n  ${left.join('\n  ')}`);
      code = code || 2;
    } else {
      log.info('all processes started by this run are gone');
    }
    if (code === 0 && !opts.keep) fs.rmSync(runDir, { recursive: true, force: true });
    else log.info(`kept ${runDir} (logs, user-data, workspace)`);
  }
  log.info(`${code === 0 ? 'passed' : 'FAILED'} in ${formatDuration(performance.now() - started)}`);
  // Last and unprefixed, so a reader of the closing line (CI) sees the counts.
  const [passed, failed] = summary ? summary.match(/\d+/g).map(Number) : [0, 0];
  if (summary || scenarioCounts[0] + scenarioCounts[1] > 0) {
    console.log(`vscode: ${passed + scenarioCounts[0]} passed, ${failed + scenarioCounts[1]} failed`);
  }
  return code;
}

/**
 * The main suite (out/test/suite) in one window, with the dev homeserver beside it.
 * Its host is stopped before the scenarios start, so they get the machine.
 * @param {import('./tools.mjs').Tools} tools @param {string} runDir @param {string} workspace
 * @returns {Promise<{ code: number, summary?: string }>}
 */
async function runMainSuite(tools, runDir, workspace) {
  let summary;
  const homeserver = await startHomeserver({
    registrationsDir: workspace,
    logFile: path.join(runDir, 'homeserver.log'),
    log,
    mode: /** @type {'auto' | 'required' | 'off'} */ (opts.homeserver),
  });
  if (homeserver) onCleanup(homeserver.stop);
  const host = await startHost({ tools, runDir, log });
  onCleanup(host.stop);

  const env = extensionEnvironment(homeserver);
  log.info(`extension host environment: ${Object.keys(env).join(', ')}`);
  const result = await log.step('extension tests', () =>
    host.runTests({
      folder: workspace,
      extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'suite'),
      extensionEnvironment: env,
      timeoutMs,
      onLog: (line, type) => {
        if (/^\d+ passed, \d+ failed/.test(line)) summary = line;
        printHostLine(line, type, '[vscode] ');
      },
    }),
  );
  const code = result.timedOut ? 124 : result.code;
  if (result.timedOut) log.error(`no result from the extension tests within ${timeoutMs / 1000} s (--timeout)`);
  if (code !== 0) {
    for (const line of result.pageErrors.slice(-20)) log.info(`[page] ${line.split('\n')[0]}`);
    printHostLogs(host.server.userDataDir);
    log.info(tail(host.server.logFile, 20));
  }
  log.info(`extension tests exited with ${result.timedOut ? 'a timeout' : code}`);
  await host.stop();
  return { code, summary };
}

/**
 * Offline, the workbench's marketplace look-ups fail with long stacks (one line is
 * enough), and closing a window cancels pending work with "Canceled" stacks that
 * say nothing about the tests.
 * @param {string} line @param {string} type @param {string} prefix
 */
function printHostLine(line, type, prefix) {
  if (!opts.verbose && /ENOTFOUND/.test(line)) line = line.split('\n')[0];
  if (!opts.verbose && /^Canceled(: Canceled)*\n/.test(line)) return;
  (type === 'error' ? console.error : console.log)(prefixLines(prefix, line));
}

/** Prints the extension host log files code-server wrote under the user-data-dir. */
function printHostLogs(userDataDir) {
  const logsDir = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logsDir)) return;
  for (const file of fs.readdirSync(logsDir, { recursive: true })) {
    if (/exthost\.log$/.test(String(file))) log.info(tail(path.join(logsDir, String(file)), 40));
  }
}

/** @param {string} prefix @param {string} text */
function prefixLines(prefix, text) {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
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
