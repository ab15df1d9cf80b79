// Loads our own bundles (dist/*.js) with V8's code cache, so that a start
// after the first does not parse and compile them again: for the 100 KB
// activation bundle that is most of what activation costs (`npm run bench`).
// Node 22 has this built in (`module.enableCompileCache`), for a whole
// process; Node 20 has not, and in VS Code's extension host the process is the
// host's, not ours. So this covers our files only and nothing else in the
// process: the bundle and the chunks it requires by `./name.js`.
//
// The cache is an optimisation and never a source of truth: a file that is
// missing, unreadable, for another build of the bundle (size or mtime differ),
// or that V8 refuses (another V8, other flags) means compiling as usual, and the
// cache is written again (see `saveOn`, and src/boot/extension.ts). It holds
// compiled code of our sources only, no data from the run (no tokens), in a
// folder of the user's own (VS Code's globalStorage, the CLI's ~/.cache).
// Named imports: `import * as fs` would make esbuild copy all of fs's ~100 exports at load.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** What happened to each bundle's cache in this process (for tests and the benchmark). */
export type CacheUse = 'hit' | 'miss' | 'rejected' | 'off';

export interface BundleLoaderOptions {
  /** The folder of the bundles (dist/). */
  dir: string;
  /** Where the caches live; undefined compiles as usual and writes nothing. */
  cacheDir: string | undefined;
  /** The loader's own `require`: for `vscode`, Node's modules, anything not ours. */
  hostRequire: NodeJS.Require;
  /**
   * When to write the caches of bundles compiled without one: `exit`, as the
   * process ends (the CLI), or `idle`, a few seconds after the last bundle was
   * loaded (the extension host, which does not end with us).
   */
  saveOn: 'exit' | 'idle';
  /** With `idle`: how long after the last newly compiled bundle (3 s). */
  idleMs?: number;
}

interface Loaded {
  exports: unknown;
  script: Script;
  cacheFile: string | undefined;
  key: string;
  use: CacheUse;
  written: boolean;
}

const MAGIC = 'matrix-devtools code cache 1\n';
const IDLE_SAVE_MS = 3_000;
// The parameters Node gives a CommonJS module; our bundles use `require` and `module.exports`.
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

export class BundleLoader {
  private readonly loaded = new Map<string, Loaded>();
  private saveScheduled = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The `require` our bundles get: `./chunk.js` (esbuild.js lazyChunks) loads through this loader, the rest through the host's. */
  private readonly require: NodeJS.Require;

  constructor(private readonly options: BundleLoaderOptions) {
    const host = options.hostRequire;
    const ours = (id: string) => (id.startsWith('./') && id.endsWith('.js') && !id.includes('/', 2) ? this.load(id.slice(2)) : host(id));
    this.require = Object.assign(ours, { resolve: host.resolve, cache: host.cache, main: host.main, extensions: host.extensions });
  }

  /** The exports of dist/`name`, compiled (from the cache when it can) once per loader. */
  load(name: string): unknown {
    const file = join(this.options.dir, name);
    const done = this.loaded.get(file);
    if (done) return done.exports;
    const source = readFileSync(file, 'utf8');
    const stat = statSync(file);
    // A rebuilt or updated bundle has another size or mtime; V8 checks its own version and flags.
    const key = `${basename(file)} ${stat.size} ${stat.mtimeMs} ${process.arch}\n`;
    const cacheFile = this.options.cacheDir === undefined ? undefined : join(this.options.cacheDir, `${basename(file)}.v8cache`);
    const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile, key);
    const script = new Script(wrap(source), { filename: file, cachedData });
    const use: CacheUse =
      cacheFile === undefined ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
    const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
    const entry: Loaded = { exports: module.exports, script, cacheFile, key, use, written: false };
    // Set before running: chunks that require each other get the same module, as with Node's require.
    this.loaded.set(file, entry);
    const run = script.runInThisContext() as (...args: unknown[]) => void;
    try {
      run.call(module.exports, module.exports, this.require, module, file, dirname(file));
    } catch (e) {
      this.loaded.delete(file);
      throw e;
    }
    module.loaded = true;
    entry.exports = module.exports;
    if (use === 'miss' || use === 'rejected') this.scheduleSave();
    return entry.exports;
  }

  /** How each bundle loaded so far used its cache. */
  uses(): Record<string, CacheUse> {
    return Object.fromEntries([...this.loaded].map(([file, l]) => [basename(file), l.use]));
  }

  /** Writes the caches of the bundles compiled without one. Never throws: the cache is optional. */
  save(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.saveScheduled = false;
    for (const l of this.loaded.values()) {
      if (l.cacheFile === undefined || l.use === 'hit' || l.written) continue;
      try {
        writeCache(l.cacheFile, l.key, l.script.createCachedData());
        l.written = true;
      } catch {
        // A read-only or full disk: the next start compiles as this one did.
      }
    }
  }

  private scheduleSave(): void {
    if (this.options.saveOn === 'exit') {
      if (!this.saveScheduled) process.once('exit', () => this.save());
      this.saveScheduled = true;
      return;
    }
    // Each newly compiled chunk pushes the write back: its cache then also
    // holds the functions that its first seconds of use compiled.
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.save(), this.options.idleMs ?? IDLE_SAVE_MS);
    this.idleTimer.unref?.();
  }
}

/** The cached data in `file` if it was written for this build of the bundle, else undefined. */
function readCache(file: string, key: string): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  const header = MAGIC + key;
  if (buf.length <= header.length + 12 || buf.toString('latin1', 0, header.length) !== header) return undefined;
  // The length written after the header: a file cut short is not given to V8.
  const length = Number(buf.toString('latin1', header.length, header.length + 12).trim());
  const data = buf.subarray(header.length + 12);
  return data.length === length ? data : undefined;
}

/** Writes the cache whole or not at all (a temporary file renamed over the old one), in a folder only the user reads. */
function writeCache(file: string, key: string, data: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC + key + String(data.length).padEnd(11) + '\n', 'latin1'), data]), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
