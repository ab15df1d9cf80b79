// Crash points of a rotation: the process dies after /refresh answered but
// before the new tokens are stored, or between the two writes of a store
// update. On restart the account recovers with the old refresh token (the
// server keeps it valid until the new tokens are used), never a corrupted
// entry. The CLI runs as users run it and is killed inside its own process;
// the extension's window loses its store write and is replaced by a new one.
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { whoami } from '../../src/core/session';
import type { SecretStorageLike } from '../../src/vscode/ports';
import { CLI, runCli } from '../support/cliProcess';
import { TestHomeserver } from '../support/homeserver';
import { recordFault } from '../support/reliabilityFigures';
import { TestWorld } from './accountsHarness';

const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
const PRELOAD = path.resolve(__dirname, '../support/crashPoints.js');

describe('crash points: the CLI killed during a rotation', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let dir: string;
  let store: string;
  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
  });
  beforeEach(async () => {
    hs = await TestHomeserver.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-crash-'));
    store = path.join(dir, 'sessions.json');
  });
  afterEach(async () => {
    await hs.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const point of ['before-store', 'before-rename'] as const) {
    it(`${point === 'before-store' ? 'after /refresh answered, before the tokens are stored' : 'between the two writes of the store update'}: the next run recovers with the old refresh token`, async () => {
      const login = await runCli(['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', '--store', store], {
        input: 'wonderland\n',
      });
      assert.equal(login.code, 0, login.stderr);
      const before = await fs.readFile(store, 'utf8');
      const crashed = await runCli(['refresh', '--store', store], {
        env: { NODE_OPTIONS: `--require ${PRELOAD}`, MATRIX_DEVTOOLS_TEST_CRASH: point },
      });
      assert.equal(crashed.code, 137, `the crash point was not reached: ${crashed.stderr}`);
      assert.equal(hs.count('POST', REFRESH), 1, 'the server did not rotate before the crash');
      assert.equal(await fs.readFile(store, 'utf8'), before, 'the store changed although the process died before replacing it');

      const who = await runCli(['whoami', '--json', '--store', store]);
      assert.equal(who.code, 0, who.stderr);
      // The dead process still "holds" the token lock: a lock of a process that is gone is taken over at once, not after 30 s.
      const started = Date.now();
      const again = await runCli(['refresh', '--store', store]);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(Date.now() - started < 10_000, `the run after the crash waited ${Date.now() - started} ms for the dead process's lock`);
      assert.equal(hs.count('POST', REFRESH), 2);
      const after = JSON.parse(await fs.readFile(store, 'utf8'));
      assert.ok(hs.isAccessTokenKnown(after.accounts['@alice:localhost'].tokens.accessToken), 'the recovered token does not work');
      assert.equal((await runCli(['whoami', '--store', store])).code, 0);
      recordFault('crash', `CLI ${point}`);
    });
  }
});

/** A window's SecretStorage whose token writes fail once armed: the window died before they landed. */
class DyingSecrets implements SecretStorageLike {
  armed = false;
  readonly onDidChange: SecretStorageLike['onDidChange'];
  constructor(private readonly inner: SecretStorageLike) {
    this.onDidChange = inner.onDidChange;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  async store(key: string, value: string) {
    if (this.armed && key.startsWith('matrixDevtools.tokens/')) throw new Error('the window died before this write landed');
    await this.inner.store(key, value);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
}

describe('crash points: a window dies during a rotation', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let world: TestWorld;
  afterEach(async () => {
    await world?.dispose();
    await hs?.stop();
  });

  it('after /refresh answered, before the tokens are stored: the next window recovers with the old refresh token', async () => {
    hs = await TestHomeserver.start();
    world = await TestWorld.create();
    const secrets = new DyingSecrets(world.backend.openWindow());
    const dying = await world.openWindowWith(secrets);
    dying.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    dying.prompts.picks.push('password');
    const view = await dying.flows.addAccount();
    assert.ok(view, JSON.stringify(dying.prompts.notifications));
    const before = await dying.tokens.read(view.id);
    secrets.armed = true;
    await assert.rejects(dying.manager.rotateNow(view.id));
    assert.equal(hs.count('POST', REFRESH), 1);
    dying.dispose();

    const next = await world.openWindow();
    const stored = await next.tokens.read(view.id);
    assert.deepEqual(stored?.tokens, before?.tokens, 'the entry changed or was corrupted');
    assert.equal((await next.manager.withAccessToken(view.id, (tk) => whoami(next.http, hs.baseUrl, tk))).userId, '@alice:localhost');
    await next.manager.rotateNow(view.id);
    assert.equal(hs.count('POST', REFRESH), 2);
    assert.equal((await next.manager.withAccessToken(view.id, (tk) => whoami(next.http, hs.baseUrl, tk))).userId, '@alice:localhost');
    recordFault('crash', 'extension before the tokens are stored');
  });
});
