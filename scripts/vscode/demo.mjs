#!/usr/bin/env node
// npm run demo (skeleton) — packages the extension as a .vsix, installs it into
// code-server (offline: a .vsix installs without the marketplace) and serves VS Code
// on http://127.0.0.1:PORT with the local test homeserver beside it, until Ctrl-C.
// State lives in .demo/ (gitignored) so accounts and settings survive restarts; keep
// the same port too: the browser keeps SecretStorage per origin.
//
//   node scripts/vscode/demo.mjs [--port 8080] [--homeserver auto|required|off] [--check]
//
// --check starts everything, checks the page answers, and stops (for CI).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from './log.mjs';
import { installSignalHandlers, leftoverProcesses, onCleanup, runCleanups } from './processes.mjs';
import { installVsix, startCodeServer, startHomeserver } from './server.mjs';
import { ensureTools, REPO_ROOT, run } from './tools.mjs';

const log = createLogger('demo');
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MATRIX_DEVTOOLS_DEMO_PORT ?? '8080' },
    homeserver: { type: 'string', default: 'auto' },
    check: { type: 'boolean', default: false },
  },
});

async function main() {
  installSignalHandlers(log.warn);
  const tools = await log.step('tools', () => ensureTools({ log, needBrowser: false }));
  const demoDir = path.join(REPO_ROOT, '.demo');
  const userDataDir = path.join(demoDir, 'user-data');
  const extensionsDir = path.join(demoDir, 'extensions');
  const workspace = path.join(demoDir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });

  const vsix = path.join(REPO_ROOT, 'matrix-devtools.vsix');
  await log.step('npm run package (production build + vsce)', () => run('npm', ['run', '--silent', 'package'], { cwd: REPO_ROOT, inherit: true }));
  await installVsix({ tools, vsix, extensionsDir, userDataDir, log });

  const homeserver = await startHomeserver({ registrationsDir: workspace, logFile: path.join(demoDir, 'homeserver.log'), log, mode: /** @type {'auto' | 'required' | 'off'} */ (opts.homeserver) });
  if (homeserver) onCleanup(homeserver.stop);
  const server = await log.step('start code-server', () =>
    startCodeServer({ tools, runDir: demoDir, userDataDir, extensionsDir, port: Number(opts.port), log }),
  );
  onCleanup(server.stop);

  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  log.info(`VS Code with Matrix DevTools: ${url}`);
  if (homeserver) log.info(`test homeserver: ${homeserver.baseUrl} (users and appservices: ${homeserver.infoJson})`);
  if (opts.check) {
    const res = await fetch(url);
    const installed = fs.readdirSync(extensionsDir).filter((d) => d.startsWith('matrix-devtools.'));
    log.info(`check: GET ${res.status}, installed ${installed.join(', ') || 'nothing'}`);
    await runCleanups(log.warn);
    const left = leftoverProcesses();
    if (left.length) log.error(`still running after cleanup:\n  ${left.join('\n  ')}`);
    return res.ok && installed.length > 0 && left.length === 0 ? 0 : 1;
  }
  log.info('Ctrl-C stops it');
  return new Promise(() => {}); // the signal handlers stop everything and exit
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    log.error(e instanceof Error ? e.stack ?? e.message : e);
    await runCleanups(log.warn);
    process.exit(2);
  },
);
