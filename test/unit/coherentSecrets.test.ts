// VS Code for the Web saves a window's whole copy of SecretStorage on every
// write (test/support/webSecretStorage.ts models it). A window that missed
// another window's write must not store anything, or it puts dead tokens back.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLock } from '../../src/core/fileLock';
import { whoami } from '../../src/core/session';
import { CoherentSecretStorage, SECRET_GENERATION_KEY, StaleSecretStoreError } from '../../src/vscode/coherentSecrets';
import { InMemorySecretBackend } from '../support/memoryStorage';
import { TestHomeserver } from '../support/homeserver';
import { WebSecretBackend } from '../support/webSecretStorage';
import { TestWindow, TestWorld } from './accountsHarness';

const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
const LOGIN = /\/_matrix\/client\/(r0|v3)\/login$/;

describe('secret writes across windows of VS Code for the Web', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-coherent-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const guard = (inner: ConstructorParameters<typeof CoherentSecretStorage>[0], catchUpTimeoutMs = 100) =>
    new CoherentSecretStorage(inner, { dir, lock: new FileLock(dir, { pollMs: 5 }), catchUpTimeoutMs });

  it('the model loses a write exactly as code-server does when nothing guards it', async () => {
    const web = new WebSecretBackend();
    const a = web.openWindow();
    const b = web.openWindow();
    await a.store('tokens', 'rotated');
    await b.store('other', 'x');
    assert.equal(web.persistedValue('tokens'), undefined, 'the stale window wrote its copy without the rotated tokens');
  });

  it('a window that missed a write refuses every write and delete, and stores again once reloaded', async () => {
    const web = new WebSecretBackend();
    const a = guard(web.openWindow());
    const b = guard(web.openWindow());
    await a.store('tokens', 'rotated');
    await assert.rejects(b.store('other', 'x'), StaleSecretStoreError);
    await assert.rejects(b.delete('tokens'), StaleSecretStoreError);
    await assert.rejects(b.assertCurrent(), StaleSecretStoreError);
    assert.equal(web.persistedValue('tokens'), 'rotated');
    assert.equal(web.persistedValue('other'), undefined);
    const reloaded = guard(web.openWindow());
    await reloaded.store('other', 'x');
    assert.equal(web.persistedValue('tokens'), 'rotated');
    assert.equal(web.persistedValue('other'), 'x');
    // The first window, which only missed the reloaded one's write, is now the stale one.
    await assert.rejects(a.store('third', 'y'), StaleSecretStoreError);
    assert.equal(web.persistedValue('other'), 'x');
  });

  it("in desktop VS Code a write waits for the other window's write to arrive instead of refusing", async () => {
    const desktop = new InMemorySecretBackend();
    const a = guard(desktop.openWindow(50), 2_000);
    const b = guard(desktop.openWindow(50), 2_000);
    await a.store('tokens', 'rotated');
    await b.store('other', 'x');
    await a.store('third', 'y');
    assert.equal(await b.get('tokens'), 'rotated');
  });

  it('a writer that stopped before updating the marker leaves a store the next window can write', async () => {
    const web = new WebSecretBackend();
    const a = guard(web.openWindow());
    await a.store('tokens', 'first');
    // What a crash between the two writes leaves: a newer generation in SecretStorage, the old marker.
    const marker = await fs.readFile(path.join(dir, 'secret-store.generation'), 'utf8');
    await a.store('tokens', 'second');
    await fs.writeFile(path.join(dir, 'secret-store.generation'), marker);
    const next = guard(web.openWindow());
    await next.store('other', 'x');
    assert.equal(web.persistedValue('tokens'), 'second');
  });

  it('an unreadable marker file is ignored, not a reason to refuse', async () => {
    const web = new WebSecretBackend();
    const a = guard(web.openWindow());
    await fs.writeFile(path.join(dir, 'secret-store.generation'), '{"id": 4');
    await a.store('tokens', 'x');
    assert.ok(web.persistedValue(SECRET_GENERATION_KEY));
  });
});

describe('accounts in two windows of VS Code for the Web', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let world: TestWorld;
  afterEach(async () => {
    await world?.dispose();
    await hs?.stop();
  });

  const open = (web: WebSecretBackend) =>
    world.openWindowWith(
      new CoherentSecretStorage(web.openWindow(), {
        dir: world.lockDir,
        lock: new FileLock(world.lockDir, { pollMs: 5 }),
        catchUpTimeoutMs: 200,
      }),
      { catchUpTimeoutMs: 200 },
    );

  async function add(w: TestWindow<CoherentSecretStorage>, user: string, password: string): Promise<string | undefined> {
    w.prompts.inputs.push(hs.baseUrl, user, password);
    w.prompts.picks.push('password');
    return (await w.flows.addAccount())?.id;
  }

  it('rotate in A, then add an account and rotate in B: B refuses before sending anything; after reloads every session works', async () => {
    hs = await TestHomeserver.start({
      users: [
        { localpart: 'alice', password: 'wonderland' },
        { localpart: 'bob', password: 'builder' },
      ],
    });
    world = await TestWorld.create();
    const web = new WebSecretBackend();
    const a = await open(web);
    const alice = await add(a, 'alice', 'wonderland');
    assert.ok(alice, JSON.stringify(a.prompts.notifications));
    const b = await open(web);
    await a.manager.rotateNow(alice);

    const logins = hs.count('POST', LOGIN);
    const refreshes = hs.count('POST', REFRESH);
    assert.equal(await add(b, 'bob', 'builder'), undefined, 'the stale window added an account');
    await assert.rejects(b.manager.rotateNow(alice), StaleSecretStoreError);
    assert.equal(hs.count('POST', LOGIN), logins, 'the stale window signed in although it could not store the session');
    assert.equal(hs.count('POST', REFRESH), refreshes, 'the stale window sent a /refresh');
    const told = b.prompts.notifications.map((n) => n.message).join('\n');
    assert.match(told, /Reload this window/);

    // Reload both, in either order: the rotated tokens are what loads.
    const b2 = await open(web);
    const bob = await add(b2, 'bob', 'builder');
    assert.ok(bob, JSON.stringify(b2.prompts.notifications));
    const a2 = await open(web);
    for (const [id, user] of [
      [alice, '@alice:localhost'],
      [bob, '@bob:localhost'],
    ] as const) {
      const me = await a2.manager.withAccessToken(id, (token) => whoami(a2.http, hs.baseUrl, token));
      assert.equal(me.userId, user);
      await a2.manager.rotateNow(id);
    }
  });
});
