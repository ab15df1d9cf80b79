#!/usr/bin/env node
// The CLI's entry point (package.json "bin"): loads dist/cliMain.js
// (src/cli/main.ts) and the chunks a command needs through the code cache in
// ~/.cache/matrix-devtools (codeCache.ts), written as the process ends.
import { join } from 'node:path';
import { BundleLoader } from './codeCache';

/** $XDG_CACHE_HOME/matrix-devtools/code-cache (LOCALAPPDATA on Windows); none with MATRIX_DEVTOOLS_CODE_CACHE=0 or no home. */
function cacheDir(env = process.env): string | undefined {
  if (env.MATRIX_DEVTOOLS_CODE_CACHE === '0') return undefined;
  // Not os.homedir(): loading node:os would cost every run more than the lookup saves.
  const home = process.platform === 'win32' ? env.USERPROFILE : env.HOME;
  const base = env.XDG_CACHE_HOME || (process.platform === 'win32' ? env.LOCALAPPDATA : undefined) || (home && join(home, '.cache'));
  return base ? join(base, 'matrix-devtools', 'code-cache') : undefined;
}

const loader = new BundleLoader({ dir: __dirname, cacheDir: cacheDir(), hostRequire: require, saveOn: 'exit' });
(loader.load('cliMain.js') as typeof import('../cli/main')).run(process.argv.slice(2));
