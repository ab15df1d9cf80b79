// Corrupted and foreign data in the extension's storage: a SecretStorage entry
// that is not JSON, misses fields, or was written by a newer Matrix DevTools,
// and account entries in globalState that are damaged or not a list at all.
// Each time a reloaded window tells the user once, in one sentence, the other
// account keeps working against the test homeserver, and what could not be
// read is kept: written back as it was, or copied before it is replaced.
import * as assert from 'node:assert/strict';
import { whoami } from '../../src/core/session';
import { METADATA_KEY, UNREADABLE_METADATA_KEY_PREFIX } from '../../src/vscode/accounts/metadataStore';
import { secretKeyFor, UNREADABLE_SECRET_KEY_PREFIX } from '../../src/vscode/accounts/secretTokenStore';
import { TestHomeserver } from '../support/homeserver';
import { assertOneSentence, recordFault } from '../support/reliabilityFigures';
import { eventually, TestWindow, TestWorld } from './accountsHarness';

async function addAccount(w: TestWindow, hs: TestHomeserver, user: string, password: string): Promise<string> {
  w.prompts.inputs.push(hs.baseUrl, user, password);
  w.prompts.picks.push('password');
  const view = await w.flows.addAccount();
  assert.ok(view, `Add Account failed: ${JSON.stringify(w.prompts.notifications)}`);
  return view.id;
}

const warnings = (w: TestWindow) => w.prompts.notifications.filter((n) => n.kind === 'warning');

async function assertWorks(w: TestWindow, hs: TestHomeserver, id: string, userId: string): Promise<void> {
  assert.equal((await w.manager.withAccessToken(id, (tk) => whoami(w.http, hs.baseUrl, tk))).userId, userId);
}

describe('faults: damaged and foreign data in SecretStorage and globalState', function () {
  this.timeout(20_000);
  let hs: TestHomeserver;
  let world: TestWorld;
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    hs = await TestHomeserver.start({
      users: [
        { localpart: 'alice', password: 'wonderland' },
        { localpart: 'bob', password: 'builder' },
      ],
    });
    world = await TestWorld.create();
    const first = await world.openWindow();
    alice = await addAccount(first, hs, 'alice', 'wonderland');
    bob = await addAccount(first, hs, 'bob', 'builder');
    first.dispose();
  });
  afterEach(async () => {
    await world.dispose();
    await hs.stop();
  });

  const secretEntries = {
    'not JSON (cut short)': () => '{"tokens":{"accessToken":"syt_cut',
    'missing fields': () => JSON.stringify({ tokens: { refreshToken: 'syr_x' }, generation: 'g' }),
    'wrong types': () => JSON.stringify({ tokens: { accessToken: 7, issuedAt: 'yesterday' } }),
    'from a newer version': () =>
      JSON.stringify({
        version: 2,
        tokens: { accessToken: 'sealed:v2', issuedAt: Date.now(), refreshToken: 'sealed:v2r' },
        generation: 'g',
      }),
  };

  for (const [kind, entry] of Object.entries(secretEntries)) {
    it(`a secret entry ${kind}: one sentence, the other account works, the entry is kept until a sign-in replaces it`, async () => {
      const text = entry();
      await world.backend.openWindow().store(secretKeyFor(alice), text);
      const w = await world.openWindow({ catchUpTimeoutMs: 300 }); // the damaged entry never matches the last writer's marker

      await eventually(() => warnings(w).length > 0, 'a warning');
      assert.equal(warnings(w).length, 1, JSON.stringify(w.prompts.notifications));
      const [warning] = warnings(w);
      assertOneSentence(warning.message);
      assert.match(warning.message, /stored tokens of @alice:localhost are unreadable .* sign in again/);
      assert.deepEqual(warning.actions, ['Sign In Again']);
      assert.equal(w.manager.account(alice)?.displayState, 'signedOut');
      await assertWorks(w, hs, bob, '@bob:localhost');
      await w.manager.load();
      assert.equal(warnings(w).length, 1, 'told once, not on every read');
      assert.equal(await w.secrets.get(secretKeyFor(alice)), text, 'the entry changed before anything replaced it');

      w.prompts.picks.push('password');
      w.prompts.inputs.push('wonderland');
      await w.flows.signInAgain(alice);
      await assertWorks(w, hs, alice, '@alice:localhost');
      assert.equal(await w.secrets.get(UNREADABLE_SECRET_KEY_PREFIX + alice), text, 'no copy of the unreadable entry was kept');
      await assertWorks(w, hs, bob, '@bob:localhost');
      recordFault('data', `SecretStorage entry ${kind}`);
    });
  }

  it('damaged account entries in globalState: one sentence, the others work, the entries are written back as they were', async () => {
    const junk = [
      42,
      { id: 'x', future: { shape: true } },
      { ...world.memento.get<object[]>(METADATA_KEY)![0], homeserverUrl: 'not a url' },
    ];
    await world.memento.update(METADATA_KEY, [...world.memento.get<unknown[]>(METADATA_KEY)!, ...junk]);
    const w = await world.openWindow();

    assert.equal(warnings(w).length, 1, JSON.stringify(w.prompts.notifications));
    assertOneSentence(warnings(w)[0].message);
    assert.match(warnings(w)[0].message, /^3 Matrix account entries .* unreadable .* kept as they are and the other accounts work/);
    assert.deepEqual(
      w.manager.accounts().map((a) => a.userId),
      ['@alice:localhost', '@bob:localhost'],
    );
    await w.manager.rotateNow(alice); // writes globalState (lastRotationAt)
    await assertWorks(w, hs, alice, '@alice:localhost');
    await assertWorks(w, hs, bob, '@bob:localhost');
    assert.deepEqual(world.memento.get<unknown[]>(METADATA_KEY)!.slice(2), junk, 'the damaged entries were not written back as they were');
    recordFault('data', 'globalState account entries damaged');
  });

  it('a globalState value that is not a list: one sentence, and a copy is kept before the next write replaces it', async () => {
    const foreign = { version: 2, accounts: { [alice]: { sealed: true } } };
    await world.memento.update(METADATA_KEY, foreign);
    const w = await world.openWindow();
    assert.equal(warnings(w).length, 1);
    assert.match(warnings(w)[0].message, /^A Matrix account entry .* is unreadable .* kept as it is/);
    assert.deepEqual(w.manager.accounts(), []);

    await addAccount(w, hs, 'bob', 'builder');
    const copies = world.memento.keys().filter((k) => k.startsWith(UNREADABLE_METADATA_KEY_PREFIX));
    assert.equal(copies.length, 1, 'no copy of the foreign value was kept');
    assert.deepEqual(world.memento.get(copies[0]), foreign);
    await assertWorks(w, hs, bob, '@bob:localhost');
    recordFault('data', 'globalState value of a newer version');
  });
});
