#!/usr/bin/env node
// Walks the extension's UI in a real workbench and saves screenshots, so a person
// (or a reviewer) can see what a user sees. No tests are loaded: a page that ran
// extension tests has its extension host stopped by the time they finish.
//
//   node scripts/vscode/ui-walk.mjs [--out DIR] [--homeserver auto|required|off] [--no-build]
//
// Skeleton: each step is a small function taking the page; add steps as the UI grows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startHost } from './host.mjs';
import { createLogger } from './log.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { startHomeserver } from './server.mjs';
import { buildExtension, ensureTools, TOOLS_DIR } from './tools.mjs';

const log = createLogger('ui-walk');
const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(TOOLS_DIR, 'screens') },
    homeserver: { type: 'string', default: 'auto' },
    'no-build': { type: 'boolean', default: false },
  },
});

/** @typedef {import('playwright-core').Page} Page */

/**
 * The steps, in order: a name (the PNG's) and what to do before the shot.
 * @type {Array<[string, (page: Page) => Promise<void>]>}
 */
const STEPS = [
  ['workbench', async (page) => page.waitForTimeout(1500)],
  [
    'matrix-view',
    async (page) => {
      await page.locator('.activitybar [aria-label^="Matrix"]').first().click({ timeout: 10_000 });
      await page.waitForTimeout(1000);
    },
  ],
  [
    'command-palette',
    async (page) => {
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>Matrix');
      await page.waitForTimeout(800);
    },
  ],
];

async function main() {
  installSignalHandlers(log.warn);
  const tools = await log.step('tools', () => ensureTools({ log }));
  if (!opts['no-build']) await log.step('build', () => buildExtension({ log }));
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'matrix-devtools-walk-'));
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace);
  fs.mkdirSync(opts.out, { recursive: true });
  let failed = 0;
  try {
    const homeserver = await startHomeserver({
      registrationsDir: workspace,
      logFile: path.join(runDir, 'homeserver.log'),
      log,
      mode: /** @type {'auto' | 'required' | 'off'} */ (opts.homeserver),
    });
    if (homeserver) onCleanup(homeserver.stop);
    const host = await startHost({ tools, runDir, log });
    onCleanup(host.stop);
    const env = homeserver ? { MATRIX_DEVTOOLS_TEST_HOMESERVER: homeserver.baseUrl, MATRIX_DEVTOOLS_TEST_INFO: homeserver.infoJson } : {};
    const { page } = await host.openWindow({ folder: workspace, extensionEnvironment: env, onLog: () => {} });
    for (const [index, [name, action]] of STEPS.entries()) {
      const file = path.join(opts.out, `${String(index + 1).padStart(2, '0')}-${name}.png`);
      try {
        await action(page);
        await page.screenshot({ path: file });
        log.info(`saved ${file}`);
      } catch (e) {
        failed++;
        log.error(`step ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        await page.screenshot({ path: file.replace(/\.png$/, '-failed.png') }).catch(() => {});
      }
    }
  } finally {
    await runCleanups(log.warn);
    const left = leftoverProcesses();
    if (left.length) log.error(`still running after cleanup:\n  ${left.join('\n  ')}`);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    log.error(e instanceof Error ? e.stack ?? e.message : e);
    await runCleanups(log.warn);
    process.exit(2);
  },
);
