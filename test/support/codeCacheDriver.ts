// One process that loads a bundle through src/boot/codeCache.ts, for
// test/unit/codeCache.test.ts (each V8 code cache must be tried in a new process):
//   node codeCacheDriver.js <dir> <cacheDir|-> <exit|idle> <bundle>
// prints {"value": <the bundle's exports.value>, "uses": {...}} once the caches are written.
import { BundleLoader } from '../../src/boot/codeCache';

const [dir, cacheDir, saveOn, bundle] = process.argv.slice(2);
const loader = new BundleLoader({
  dir,
  cacheDir: cacheDir === '-' ? undefined : cacheDir,
  hostRequire: require,
  saveOn: saveOn as 'exit' | 'idle',
  idleMs: 50,
});
const { value } = loader.load(bundle) as { value: unknown };
const uses = loader.uses();
const report = () => process.stdout.write(JSON.stringify({ value, uses }) + '\n');
if (saveOn === 'exit') process.on('exit', report);
else setTimeout(report, 300);
