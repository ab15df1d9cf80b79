// Runs the `*.test.js` files below a folder with mocha inside the extension
// host and prints the plain "N passed, N failed" line CI reads. Shared by the
// main suite (test/suite) and the multi-window scenarios (test/scenarios).
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function runMochaFiles(dir: string, opts: { grep?: string; last?: string } = {}): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false });
  if (opts.grep) mocha.grep(opts.grep);

  const isLast = (file: string) => path.basename(file) === opts.last;
  const files = findTestFiles(dir).sort((a, b) => Number(isLast(a)) - Number(isLast(b)));
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js files under ${dir}`));
  for (const file of files) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, pending = 0, tests = 0 } = runner.stats ?? {};
        // The plain closing line CI reads; test-host.mjs repeats it unprefixed.
        console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} of ${tests} extension host tests failed`));
        else if (tests === 0) reject(new Error(opts.grep ? `no test matches --grep ${opts.grep}` : 'no tests ran'));
        else resolve();
      });
    } catch (e) {
      // A test file that throws while loading lands here, not in the callback.
      reject(e);
    }
  });
}

/** Every `*.test.js` below `dir`, sorted so runs are in a stable order. */
function findTestFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTestFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(full);
  }
  return found.sort();
}
