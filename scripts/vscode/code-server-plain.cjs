// code-server without VS Code's smoke-test driver, for a workbench as a person gets
// it: the driver (which server.mjs always enables, because the test runner needs it
// to load a development extension and its tests) also suppresses notification
// toasts. Drops `--vscode-option enable-smoke-test-driver` and runs code-server's
// own entry point, named by MATRIX_DEVTOOLS_CODE_SERVER_ENTRY. The extension then
// has to be installed (a .vsix), not loaded from a development path.
'use strict';
const args = process.argv;
for (let i = args.indexOf('enable-smoke-test-driver'); i > 0; i = args.indexOf('enable-smoke-test-driver')) {
  args.splice(args[i - 1] === '--vscode-option' ? i - 1 : i, args[i - 1] === '--vscode-option' ? 2 : 1);
}
const entry = process.env.MATRIX_DEVTOOLS_CODE_SERVER_ENTRY;
if (!entry) throw new Error('MATRIX_DEVTOOLS_CODE_SERVER_ENTRY is not set');
args[1] = entry;
require(entry);
