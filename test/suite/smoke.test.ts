// Runs inside a real VS Code extension host: proves the harness loads this
// extension from the development path and passes its environment through.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

// out/test/suite/smoke.test.js -> the repository's package.json
const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
  publisher: string;
  name: string;
};
const extensionId = `${manifest.publisher}.${manifest.name}`;

describe('extension host smoke test', () => {
  it(`finds the development extension ${extensionId}`, () => {
    assert.ok(vscode.extensions.getExtension(extensionId), `${extensionId} is not loaded in this host`);
  });

  it('activates the extension', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension);
    await extension.activate();
    assert.strictEqual(extension.isActive, true);
  });

  it('loads its bundles through the code cache in globalStorage (src/boot/codeCache.ts)', async () => {
    const extension = vscode.extensions.getExtension<{ codeCache?: () => Record<string, string>; codeCacheDir?: string }>(extensionId);
    assert.ok(extension);
    const api = await extension.activate();
    const uses = api.codeCache?.();
    assert.ok(uses && api.codeCacheDir, 'activate() went through src/boot/extension.ts, with the cache on');
    // miss at a profile's first start, hit after, rejected if another build of V8 wrote it.
    assert.ok(['miss', 'hit', 'rejected'].includes(uses['extensionMain.js']), JSON.stringify(uses));
    // Written right after activation (src/boot/extension.ts).
    const file = path.join(api.codeCacheDir, 'extensionMain.js.v8cache');
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(fs.statSync(file).size > 10_000, `${file} was written`);
  });

  it('runs in a VS Code host that names itself', () => {
    assert.strictEqual(typeof vscode.env.appName, 'string');
    assert.notStrictEqual(vscode.env.appName.trim(), '');
    console.log(`host: ${vscode.env.appName} ${vscode.version}, uiKind ${vscode.UIKind[vscode.env.uiKind]}, node ${process.version}`);
  });

  it('receives the environment its runner sets', () => {
    // Set by test-host.mjs (extensionEnvironment), test-electron.mjs (extensionTestsEnv)
    // and .vscode/launch.json: without it, MATRIX_DEVTOOLS_TEST_HOMESERVER cannot arrive either.
    assert.ok(process.env.MATRIX_DEVTOOLS_TEST_HARNESS, 'MATRIX_DEVTOOLS_TEST_HARNESS is not set in the extension host');
  });

  it('reaches the test homeserver from the extension host', async function () {
    const baseUrl = process.env.MATRIX_DEVTOOLS_TEST_HOMESERVER;
    if (!baseUrl) this.skip(); // the runner started none (test-host.mjs --homeserver=off or not built)
    const response = await fetch(new URL('/_matrix/client/versions', baseUrl));
    assert.strictEqual(response.status, 200);
    const body = (await response.json()) as { versions?: unknown };
    assert.ok(Array.isArray(body.versions), 'GET /_matrix/client/versions has no versions array');
  });
});
