// The extension's entry point (package.json "main"): loads the activation
// bundle, dist/extensionMain.js (src/extension.ts), and the chunks it needs
// later through the code cache in the extension's globalStorage (codeCache.ts).
import type * as vscode from 'vscode';
import { join } from 'node:path';
import { BundleLoader } from './codeCache';

type Main = typeof import('../extension');
let main: Main | undefined;

export function activate(context: vscode.ExtensionContext): ReturnType<Main['activate']> {
  const storage = context.globalStorageUri;
  // Off with MATRIX_DEVTOOLS_CODE_CACHE=0, and where globalStorage is not a local folder.
  const cacheDir =
    storage.scheme === 'file' && process.env.MATRIX_DEVTOOLS_CODE_CACHE !== '0' ? join(storage.fsPath, 'code-cache') : undefined;
  const loader = new BundleLoader({ dir: __dirname, cacheDir, hostRequire: require, saveOn: 'idle' });
  main = loader.load('extensionMain.js') as Main;
  const api = main.activate(context);
  // The activation bundle's cache holds what activation compiled, written as soon as it is done:
  // caching what the first seconds after it compile too made the cache a third larger (5 accounts),
  // and reading it slowed every activation. Chunks loaded later are cached when idle.
  setImmediate(() => loader.save());
  api.codeCache = () => loader.uses();
  api.codeCacheDir = cacheDir;
  return api;
}

export function deactivate(): void {
  main?.deactivate();
}
