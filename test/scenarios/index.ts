// Extension host entry point for the scenarios that span several hosts: a
// restart and two windows at once. scripts/vscode/scenarios.mjs opens the
// windows and names the phase each one runs (MATRIX_DEVTOOLS_TEST_PHASE).
import { runMochaFiles } from '../suite/support/mocha';

export function run(): Promise<void> {
  const phase = process.env.MATRIX_DEVTOOLS_TEST_PHASE;
  if (!phase) return Promise.reject(new Error('MATRIX_DEVTOOLS_TEST_PHASE is not set: scripts/vscode/scenarios.mjs sets it'));
  return runMochaFiles(__dirname, { grep: `^phase ${phase}:` });
}
