// What activating the built extension loads: the files esbuild.js emits next
// to dist/extension.js (yaml, the registration parser, the doctor,
// the ping code, OAuth) must wait for the feature that needs them. Runs the
// bundle from `npm run compile` in a plain Node process with the stub VS Code
// API (bench/activation.js check), over a workspace with two registrations.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registrationYaml } from '../support/registrationYaml';

const root = path.resolve(__dirname, '../../..');

interface Loaded {
  chunks: string[];
  connects: number;
}

describe('lazy chunks of the extension bundle', () => {
  let workspace: string;
  before(function () {
    if (!fs.existsSync(path.join(root, 'dist/extension.js'))) throw new Error('dist/extension.js is missing: run `npm run compile` first.');
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'lazy-chunks-'));
    for (const i of [0, 1]) {
      fs.writeFileSync(
        path.join(workspace, `bridge${i}-registration.yaml`),
        registrationYaml({
          id: `bridge${i}`,
          url: 'http://127.0.0.1:9',
          as_token: `lazy_as_${i}`,
          hs_token: `lazy_hs_${i}`,
          sender_localpart: `bridge${i}bot`,
          namespaces: { users: [{ exclusive: true, regex: `@bridge${i}_.*:localhost` }] },
        }),
      );
    }
  });
  after(() => fs.rmSync(workspace, { recursive: true, force: true }));

  it('loads no chunk at activation and only the registration parser to show registrations', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'bench/activation.js'), 'check'], {
      env: { ...process.env, BENCH_WORKSPACE: workspace, BENCH_VSCODE_STATE: '' },
      encoding: 'utf8',
    });
    const seen = JSON.parse(out) as { atActivate: Loaded; afterIdle: Loaded; afterViews: Loaded; appservices: number };
    const entries = ['extension.js', 'extensionMain.js', 'cli.js', 'cliMain.js'];
    const built = fs.readdirSync(path.join(root, 'dist')).filter((f) => /\.js$/.test(f) && !entries.includes(f));
    for (const chunk of [
      'doctor',
      'doctorCommands',
      'ping',
      'oauth',
      'signInFlows',
      'accountDialogs',
      'accountActions',
      'pingBlocks',
      'registration',
      'yaml',
    ]) {
      assert.ok(built.includes(`${chunk}.js`), `dist/${chunk}.js is built`);
    }
    assert.deepEqual(seen.atActivate, { chunks: [], connects: 0 });
    // Reading the registration files (for the view, and the first scan that
    // activation still starts) needs the parser and yaml, nothing else.
    const parser = ['registration', 'yaml'];
    for (const [when, loaded] of [
      ['in the 300 ms after activation', seen.afterIdle],
      ['once both views are drawn', seen.afterViews],
    ] as const) {
      assert.deepEqual(
        loaded.chunks.filter((c) => !parser.includes(c)),
        [],
        `${when}: ${loaded.chunks.join(', ')}`,
      );
      assert.equal(loaded.connects, 0, `no request ${when}`);
    }
    assert.ok(seen.appservices >= 2, `the view shows the registrations (${seen.appservices} items)`);
    assert.deepEqual([...seen.afterViews.chunks].sort(), parser);
  });
});

describe('errors across the lazily loaded bundles', () => {
  // Each chunk carries its own copy of core/errors: a failure made by one copy
  // (the caller's HttpClient) must be recognised by another (the doctor's checks).
  const fresh = <T>(request: string): T => {
    const file = require.resolve(request);
    const saved = require.cache[file];
    delete require.cache[file];
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second copy of the module is the point
      return require(file) as T;
    } finally {
      require.cache[file] = saved;
    }
  };
  const load = () => fresh<typeof import('../../src/core/errors')>('../../src/core/errors');

  it('recognises a MatrixApiError and a RequestFailedError made by another copy of the module', () => {
    const [a, b] = [load(), load()];
    assert.notEqual(a.MatrixApiError, b.MatrixApiError);
    const api = new a.MatrixApiError(401, 'M_UNKNOWN_TOKEN', 'gone', 'http://127.0.0.1:1/x', undefined, true, {});
    const failed = new a.RequestFailedError('timeout', 'slow', 'http://127.0.0.1:1/x');
    assert.ok(api instanceof b.MatrixApiError && b.isMatrixError(api, 'M_UNKNOWN_TOKEN'));
    assert.ok(failed instanceof b.RequestFailedError && b.isTransientFailure(failed));
    assert.ok(!(api instanceof b.RequestFailedError) && !(failed instanceof b.MatrixApiError));
    assert.ok(!(new Error('plain') instanceof b.MatrixApiError));
    assert.match(b.describeError(api), /M_UNKNOWN_TOKEN/);
    assert.equal(JSON.stringify(Object.keys(api)).includes('matrixDevtools'), false, 'the mark is not an own enumerable key');
  });

  it('lets the lazily loaded account dialogs recognise a failed server sign-out from the main bundle', () => {
    const [a, b] = [0, 1].map(() => fresh<typeof import('../../src/vscode/accounts/errors')>('../../src/vscode/accounts/errors'));
    assert.notEqual(a.ServerLogoutFailedError, b.ServerLogoutFailedError);
    const e = new a.ServerLogoutFailedError('@a:x', new Error('refused'));
    assert.ok(e instanceof b.ServerLogoutFailedError && e instanceof Error);
    assert.ok(!(new Error('plain') instanceof b.ServerLogoutFailedError));
    assert.equal(e.name, 'ServerLogoutFailedError');
  });
});
