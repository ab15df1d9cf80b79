// The code cache our entry points load the bundles with (src/boot/codeCache.ts):
// a later process uses what an earlier one wrote, and a cache that is missing,
// stale, cut short, damaged or unwritable only means compiling as usual. Each
// load runs in a new Node process, as a new window or CLI run does; the last
// tests run the real dist/cli.js and dist/extension.js (bench/activation.js).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const driver = path.join(__dirname, '../support/codeCacheDriver.js');

interface Run {
  value: unknown;
  uses: Record<string, string>;
}

describe('code cache of our bundles', () => {
  let dir: string;
  let bundles: string;
  let cache: string;
  const load = (saveOn: 'exit' | 'idle' = 'exit', cacheDir: string = cache): Run =>
    JSON.parse(execFileSync(process.execPath, [driver, bundles, cacheDir, saveOn, 'main.js'], { encoding: 'utf8' })) as Run;
  const writeBundles = (answer: string) => {
    // A main bundle that requires a chunk next to it and one of Node's modules, as esbuild's output does.
    fs.writeFileSync(
      path.join(bundles, 'main.js'),
      `"use strict";const p=require("node:path");const c=require("./chunk.js");exports.value=[c.answer(), p.basename(__filename), typeof module.exports];`,
    );
    fs.writeFileSync(path.join(bundles, 'chunk.js'), `"use strict";exports.answer=function(){return "${answer}"};`);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
    bundles = path.join(dir, 'dist');
    cache = path.join(dir, 'cache', 'code-cache');
    fs.mkdirSync(bundles);
    writeBundles('one');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compiles the first time, writes one cache per bundle, and the next process uses them', () => {
    const first = load();
    assert.deepEqual(first, { value: ['one', 'main.js', 'object'], uses: { 'main.js': 'miss', 'chunk.js': 'miss' } });
    assert.deepEqual(fs.readdirSync(cache).sort(), ['chunk.js.v8cache', 'main.js.v8cache']);
    if (process.platform !== 'win32') {
      assert.equal(fs.statSync(cache).mode & 0o777, 0o700, 'the folder is the user’s only');
      assert.equal(fs.statSync(path.join(cache, 'main.js.v8cache')).mode & 0o777, 0o600);
    }
    assert.deepEqual(load(), { value: ['one', 'main.js', 'object'], uses: { 'main.js': 'hit', 'chunk.js': 'hit' } });
  });

  it('writes after a quiet moment when the process does not end (the extension host)', () => {
    assert.deepEqual(load('idle').uses, { 'main.js': 'miss', 'chunk.js': 'miss' });
    assert.deepEqual(load('idle').uses, { 'main.js': 'hit', 'chunk.js': 'hit' });
  });

  it('never runs the code of an earlier build: a bundle rebuilt with the same length compiles again', () => {
    load();
    const old = fs.statSync(path.join(bundles, 'chunk.js'));
    writeBundles('two'); // same length as 'one'
    fs.utimesSync(path.join(bundles, 'chunk.js'), old.atime, new Date(old.mtimeMs + 5000));
    const rebuilt = load();
    assert.deepEqual(rebuilt.value, ['two', 'main.js', 'object']);
    assert.equal(rebuilt.uses['chunk.js'], 'miss');
    assert.equal(load().uses['chunk.js'], 'hit', 'and caches the new build');
  });

  it('compiles as usual when a cache file is cut short or damaged, and writes it again', () => {
    load();
    const file = path.join(cache, 'main.js.v8cache');
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 100));
    assert.deepEqual(load(), { value: ['one', 'main.js', 'object'], uses: { 'main.js': 'miss', 'chunk.js': 'hit' } });
    // Our header intact (it ends at the third newline), V8's data not: V8 refuses it.
    const good = fs.readFileSync(file);
    assert.equal(good.length, whole.length, 'written whole again');
    let headerEnd = -1;
    for (let i = 0; i < 3; i++) headerEnd = good.indexOf(10, headerEnd + 1);
    fs.writeFileSync(file, Buffer.from(good).fill(0x5a, headerEnd + 1));
    assert.deepEqual(load(), { value: ['one', 'main.js', 'object'], uses: { 'main.js': 'rejected', 'chunk.js': 'hit' } });
    assert.equal(load().uses['main.js'], 'hit');
  });

  it('loads when the cache cannot be written, and with the cache off', () => {
    const blocked = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocked, '');
    assert.deepEqual(load('exit', path.join(blocked, 'code-cache')), {
      value: ['one', 'main.js', 'object'],
      uses: { 'main.js': 'miss', 'chunk.js': 'miss' },
    });
    assert.deepEqual(load('exit', '-').uses, { 'main.js': 'off', 'chunk.js': 'off' });
  });

  it('serves the real CLI from its cache on the second run, and a damaged cache does not break it', () => {
    const home = path.join(dir, 'xdg');
    const run = () =>
      execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), '--help'], {
        env: { ...process.env, XDG_CACHE_HOME: home },
        encoding: 'utf8',
      });
    assert.match(run(), /^Usage: matrix-devtools/);
    const file = path.join(home, 'matrix-devtools', 'code-cache', 'cliMain.js.v8cache');
    assert.ok(fs.statSync(file).size > 1000, 'the CLI wrote its cache as it ended');
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
    assert.match(run(), /^Usage: matrix-devtools/);
  });

  it('serves the real extension from its cache in globalStorage once a window has stayed open', () => {
    const storage = path.join(dir, 'globalStorage');
    fs.mkdirSync(storage);
    const warm = () =>
      JSON.parse(
        execFileSync(process.execPath, [path.join(root, 'bench/activation.js'), 'warm'], {
          env: { ...process.env, BENCH_GLOBAL_STORAGE: storage, BENCH_VSCODE_STATE: '' },
          encoding: 'utf8',
        }),
      ) as Record<string, string>;
    assert.deepEqual(warm(), { 'extensionMain.js': 'miss' });
    assert.deepEqual(warm(), { 'extensionMain.js': 'hit' });
  });
});
