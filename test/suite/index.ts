// The mocha entry point a VS Code extension host loads via extensionTestsPath:
// `npm run test:vscode` (code-server), `npm run test:electron` and the
// "Extension Tests" launch configuration all run this same `run()`.
import { runMochaFiles } from './support/mocha';

export function run(): Promise<void> {
  // MATRIX_DEVTOOLS_TEST_GREP is set by `test-host.mjs --grep` to run a subset;
  // commandCoverage checks what the other files executed, so it runs last.
  return runMochaFiles(__dirname, { grep: process.env.MATRIX_DEVTOOLS_TEST_GREP, last: 'commandCoverage.test.js' });
}
