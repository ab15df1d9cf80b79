#!/usr/bin/env node
// A UI walk through the extension in a real workbench (code-server + headless
// chromium), checking what a person sees: every step waits for visible text on the
// page, and the walk fails (exit 1) when a step does not see it. Along the way it
// saves the screenshots used in the README. Two dev homeservers: one with password
// login, and one whose sign-in is delegated to a real OAuth 2.0 server (oidc-provider),
// where the walk signs in with a code that it enters in a second browser tab. It
// walks the packaged .vsix, installed as a user installs it, in a workbench without
// the smoke-test driver (which would hide notification toasts); no extension tests
// are loaded.
//
//   node scripts/vscode/ui-walk.mjs [--out media/screenshots] [--homeserver required|auto]
//        [--no-build] [--keep]
//
// --no-build reuses matrix-devtools.vsix and out/ when they exist.

// Exit code: 0 when every step passed, 1 when one failed, 2 when the harness itself
// failed (tools, build, servers). The last line reads "ui-walk: N passed, M failed".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { launchBrowser, openWorkbench } from './browser.mjs';
import { createLogger, formatDuration } from './log.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { buildDevHomeserver, demoAppserviceSettings, packageExtension, startPackagedCodeServer } from './packaged.mjs';
import { DEFAULT_SETTINGS, startHomeserver, tail } from './server.mjs';
import { ensureTools, REPO_ROOT, TOOLS_DIR } from './tools.mjs';
import { walkSteps } from './ui-walk-steps.mjs';

const log = createLogger('ui-walk');
const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(REPO_ROOT, 'media', 'screenshots') },
    homeserver: { type: 'string', default: 'required' },
    'no-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
if (!['auto', 'required'].includes(opts.homeserver)) {
  log.error('--homeserver must be required or auto: the walk signs in and pings through the dev homeserver');
  process.exit(2);
}
const outDir = path.resolve(opts.out);
/** Screenshots of failed steps: outside --out, so they never land in the README's folder. */
const failureDir = path.join(TOOLS_DIR, 'ui-walk-failures');
const VIEWPORT = { width: 1280, height: 800 };

async function main() {
  installSignalHandlers(log.warn);
  const started = performance.now();
  const tools = await log.step('tools', () => ensureTools({ log }));
  if (!tools.chromium)
    throw new Error('no chromium to drive the workbench: install it (apt-get install chromium) or set MATRIX_DEVTOOLS_CHROMIUM');
  const reuse = opts['no-build'];
  const vsix = await packageExtension({ log, reuse });
  await buildDevHomeserver({ log, reuse });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'matrix-devtools-walk-'));
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace);
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(failureDir, { recursive: true, force: true });

  const results = { passed: 0, failed: 0, skipped: 0 };
  let harnessFailed = false;
  try {
    // The walk's second homeserver delegates sign-in to a real OAuth 2.0 server (oidc-provider, as
    // Synapse with MAS) and keeps password login too, so Add Account has a real choice to show.
    // Its demo registrations go outside the workspace: the Appservices view lists the first one's.
    const [homeserver, oauthHomeserver] = await Promise.all([
      startHomeserver({ registrationsDir: workspace, logFile: path.join(runDir, 'homeserver.log'), log, mode: 'required' }),
      startHomeserver({
        registrationsDir: path.join(runDir, 'oauth-registrations'),
        logFile: path.join(runDir, 'oauth-homeserver.log'),
        log,
        mode: 'required',
        extraArgs: ['--oauth', '--password-login'],
      }),
    ]);
    if (homeserver) onCleanup(homeserver.stop);
    if (oauthHomeserver) onCleanup(oauthHomeserver.stop);
    if (!homeserver || !oauthHomeserver) throw new Error('no dev homeserver');
    const oauthIssuer = oauthHomeserver.info.oauthIssuer;
    if (typeof oauthIssuer !== 'string') throw new Error(`the --oauth homeserver names no issuer: ${oauthHomeserver.infoJson}`);
    const userDataDir = path.join(runDir, 'user-data');
    const server = await startPackagedCodeServer({
      tools,
      runDir,
      log,
      vsix,
      userDataDir,
      extensionsDir: path.join(runDir, 'extensions'),
      settings: {
        ...DEFAULT_SETTINGS,
        'workbench.colorTheme': 'Default Dark Modern',
        // A new user's default: the Welcome page at start-up. It also creates the workbench's
        // walkthrough service before the extension sets its context keys; with 'none' that service
        // is created only when a walkthrough is first opened, and it misses every event before.
        'workbench.startupEditor': 'welcomePage',
        // One log line per view line, so the output panel reads back line by line.
        '[Log]': { 'editor.wordWrap': 'off' },
        'workbench.layoutControl.enabled': false,
        'window.commandCenter': false,
        // Ping All then pings every demo appservice without asking for a homeserver.
        ...demoAppserviceSettings(homeserver.baseUrl),
      },
    });
    onCleanup(server.stop);
    const browser = await log.step('launch chromium', () =>
      launchBrowser({ chromium: /** @type {string} */ (tools.chromium), viewport: VIEWPORT }),
    );
    onCleanup(browser.close);
    const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
    const { page, pageErrors } = await log.step('open the workbench', () => openWorkbench(browser, url, { onLog: () => {} }));

    const context = {
      page,
      homeserver,
      oauthHomeserver: { baseUrl: oauthHomeserver.baseUrl, issuer: oauthIssuer },
      /** @param {string} name */
      screenshot: async (name) => {
        const file = path.join(outDir, `${name}.png`);
        await page.screenshot({ path: file });
        log.info(`  saved ${path.relative(REPO_ROOT, file)}`);
      },
    };
    /** @type {Map<string, 'passed' | 'failed' | 'skipped'>} */
    const outcome = new Map();
    for (const step of walkSteps()) {
      const blocked = (step.needs ?? []).find((n) => outcome.get(n) !== 'passed');
      if (blocked) {
        outcome.set(step.name, 'skipped');
        results.skipped++;
        log.info(`SKIP ${step.name} (needs "${blocked}")`);
        continue;
      }
      const t0 = performance.now();
      try {
        await step.run(context);
        outcome.set(step.name, 'passed');
        results.passed++;
        log.info(`PASS ${step.name} (${formatDuration(performance.now() - t0)})`);
      } catch (e) {
        outcome.set(step.name, 'failed');
        results.failed++;
        const [first, ...detail] = (e instanceof Error ? e.message : String(e)).split('\n');
        log.error(`FAIL ${step.name}: ${first}`);
        for (const line of detail.slice(0, 20)) log.info(`  | ${line}`);
        fs.mkdirSync(failureDir, { recursive: true });
        const shot = path.join(failureDir, `${step.name.replace(/\W+/g, '-')}.png`);
        await page.screenshot({ path: shot }).then(
          () => log.info(`  screenshot of the failure: ${path.relative(REPO_ROOT, shot)}`),
          () => {},
        );
        await page.keyboard.press('Escape').catch(() => {});
      }
    }
    if (results.failed) {
      for (const line of pageErrors.slice(-10)) log.info(`[page] ${line.split('\n')[0]}`);
      log.info(tail(server.logFile, 15));
      log.info(tail(path.join(runDir, 'oauth-homeserver.log'), 15));
    }
  } catch (e) {
    harnessFailed = true;
    log.error(e instanceof Error ? (e.stack ?? e.message) : e);
  } finally {
    await log.step('stop processes', () => runCleanups(log.warn));
    const left = leftoverProcesses();
    if (left.length) {
      harnessFailed = true;
      log.error(`still running after cleanup:\n  ${left.join('\n  ')}`);
    } else {
      log.info('all processes started by this run are gone');
    }
    if (opts.keep || harnessFailed || results.failed) log.info(`kept ${runDir} (logs, user-data, workspace)`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  }
  const code = harnessFailed ? 2 : results.failed ? 1 : 0;
  log.info(`${code === 0 ? 'passed' : 'FAILED'} in ${formatDuration(performance.now() - started)}`);
  const skipped = results.skipped ? `, ${results.skipped} skipped` : '';
  console.log(`ui-walk: ${results.passed} passed, ${results.failed} failed${skipped}${harnessFailed ? ' (harness failed)' : ''}`);
  return code;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    log.error(e instanceof Error ? (e.stack ?? e.message) : e);
    await runCleanups(log.warn);
    console.log('ui-walk: 0 passed, 0 failed (harness failed)');
    process.exit(2);
  },
);
