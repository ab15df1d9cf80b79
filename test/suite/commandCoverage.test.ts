// Runs last (index.ts orders it so): every command in contributes.commands must
// have been executed by some host test in this run, so a new command cannot
// land without one.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { executedCommands, extensionApi, manifest } from './support/host';

describe('every contributed command', () => {
  it('is registered by the extension', async () => {
    await extensionApi();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `declared in package.json but not registered: ${missing.join(', ')}`);
  });

  it('was executed by a host test in this run', function () {
    // A --grep run executes a subset on purpose.
    if (process.env.MATRIX_DEVTOOLS_TEST_GREP) this.skip();
    const untested = manifest.contributes.commands.map((c) => c.command).filter((c) => !executedCommands.has(c));
    assert.deepStrictEqual(untested, [], `no host test executes: ${untested.join(', ')}`);
  });
});
