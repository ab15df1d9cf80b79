// The mocha entry point a VS Code extension host loads via extensionTestsPath:
// `npm run test:vscode` (code-server), `npm run test:electron` and the
// "Extension Tests" launch configuration all run this same `run()`.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false });
  // Set by `test-host.mjs --grep` (or MATRIX_DEVTOOLS_TEST_GREP) to run a subset.
  const grep = process.env.MATRIX_DEVTOOLS_TEST_GREP;
  if (grep) mocha.grep(grep);

  // commandCoverage checks what the other files executed, so it runs last.
  const files = findTestFiles(__dirname).sort((a, b) => Number(isLast(a)) - Number(isLast(b)));
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js files under ${__dirname}`));
  for (const file of files) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, pending = 0, tests = 0 } = runner.stats ?? {};
        // The plain closing line CI reads; test-host.mjs repeats it unprefixed.
        console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} of ${tests} extension host tests failed`));
        else if (tests === 0) reject(new Error(grep ? `no test matches --grep ${grep}` : 'no tests ran'));
        else resolve();
      });
    } catch (e) {
      // A test file that throws while loading lands here, not in the callback.
      reject(e);
    }
  });
}

function isLast(file: string): boolean {
  return path.basename(file) === 'commandCoverage.test.js';
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
