// A password never goes over plain http:// to another machine without the user
// saying so: the extension asks (a modal), the CLI needs --allow-insecure-http
// and says what it costs. The test homeserver listens on one of this machine's
// own non-loopback addresses, so the URL is plain http:// off loopback while
// the traffic stays on this machine. Loopback http:// stays silent.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearTextPasswordWarning, loginWithPassword } from '../../src/core/session';
import { HttpClient } from '../../src/core/http';
import { RequestFailedError } from '../../src/core/errors';
import { runCli } from '../support/cliProcess';
import { TestHomeserver } from '../support/homeserver';
import { assertOneSentence } from '../support/reliabilityFigures';
import { TestWorld } from './accountsHarness';

const LOGIN = /\/_matrix\/client\/v3\/login$/;

/** An IPv4 address of this machine that is not loopback, if it has one. */
function ownNonLoopbackAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('a password over plain http:// to another machine', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let world: TestWorld;

  beforeEach(async function () {
    const address = ownNonLoopbackAddress();
    // Without a non-loopback interface there is no such URL to reach here.
    if (!address) this.skip();
    hs = await TestHomeserver.start({ host: address });
    world = await TestWorld.create();
  });
  afterEach(async () => {
    await world?.dispose();
    await hs?.stop();
  });

  const passwordLogins = () => hs.requests.filter((r) => r.method === 'POST' && LOGIN.test(r.path)).length;

  it('core: warns for http:// off loopback only, and refuses to send the password unconfirmed', async () => {
    const warning = clearTextPasswordWarning(hs.baseUrl);
    assert.ok(warning, `no warning for ${hs.baseUrl}`);
    assertOneSentence(warning);
    assert.match(warning, new RegExp(`${new URL(hs.baseUrl).host.replace(/\./g, '\\.')} uses plain http://`));
    for (const safe of ['http://127.0.0.1:8008', 'http://localhost:8008', 'http://[::1]:8008', 'https://matrix.example.org']) {
      assert.equal(clearTextPasswordWarning(safe), undefined, safe);
    }
    const http = new HttpClient({ allowInsecureHttp: true });
    const refused = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' }).catch((e: unknown) => e);
    assert.ok(refused instanceof RequestFailedError && refused.kind === 'insecure-url', String(refused));
    assert.equal(passwordLogins(), 0, 'the password was sent unconfirmed');
    const ok = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland', clearTextPasswordConfirmed: true });
    assert.equal(ok.userId, '@alice:localhost');
  });

  it('Add Account asks before the password, sends nothing when declined, and signs in when confirmed', async () => {
    const w = await world.openWindow({ allowInsecureHttp: true });
    w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    w.prompts.picks.push('password');
    w.prompts.answers.push(undefined); // Escape on the modal
    assert.equal(await w.flows.addAccount(), undefined);
    const asked = w.prompts.notifications.filter((n) => n.kind === 'confirm');
    assert.equal(asked.length, 1, JSON.stringify(w.prompts.notifications));
    assert.ok(asked[0].message.startsWith(clearTextPasswordWarning(hs.baseUrl)!), asked[0].message);
    assert.deepEqual(asked[0].actions, ['Send Password Anyway']);
    assert.equal(passwordLogins(), 0, 'the password was sent after the user declined');
    assert.deepEqual(w.manager.accounts(), []);
    assert.deepEqual(w.prompts.inputs, ['wonderland'], 'the password was asked for before the warning');

    w.prompts.inputs.length = 0;
    w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    w.prompts.picks.push('password');
    w.prompts.answers.push('Send Password Anyway');
    const view = await w.flows.addAccount();
    assert.equal(view?.userId, '@alice:localhost', JSON.stringify(w.prompts.notifications));
    assert.equal(passwordLogins(), 1);
  });

  it('Sign In Again with a password asks the same', async () => {
    const w = await world.openWindow({ allowInsecureHttp: true });
    w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    w.prompts.picks.push('password');
    w.prompts.answers.push('Send Password Anyway');
    const view = await w.flows.addAccount();
    assert.ok(view);
    await w.actions.signOut(view.id);
    const before = passwordLogins();
    w.prompts.inputs.push('wonderland');
    w.prompts.picks.push('password');
    w.prompts.answers.push(undefined);
    assert.equal(await w.flows.signInAgain(view.id), undefined);
    assert.equal(passwordLogins(), before, 'the password was sent after the user declined');
    assert.equal(w.prompts.notifications.filter((n) => n.kind === 'confirm').length, 2);
  });

  it('the CLI refuses without --allow-insecure-http in one sentence, and warns with it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-cleartext-'));
    try {
      const args = ['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin', '--store', path.join(dir, 's.json')];
      const refused = await runCli(args, { input: 'wonderland\n' });
      assert.equal(refused.code, 1, refused.stderr);
      const sentence = refused.stderr.trim().replace(/^matrix-devtools: /, '');
      assertOneSentence(sentence);
      assert.match(sentence, /uses plain http:\/\/ and is not this machine.*pass --allow-insecure-http/);
      assert.equal(hs.requests.length, 0, 'the CLI talked to the server before refusing');

      const allowed = await runCli([...args, '--allow-insecure-http'], { input: 'wonderland\n' });
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(
        allowed.stderr,
        /^matrix-devtools: warning: .* uses plain http:\/\/ and is not this machine: your password would cross/m,
      );
      assert.equal(passwordLogins(), 1);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a password over plain http:// to loopback', () => {
  it('is sent without a question (the test homeserver, npm run dev-homeserver)', async () => {
    const hs = await TestHomeserver.start();
    const world = await TestWorld.create();
    try {
      const w = await world.openWindow();
      w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
      w.prompts.picks.push('password');
      assert.ok(await w.flows.addAccount(), JSON.stringify(w.prompts.notifications));
      assert.deepEqual(
        w.prompts.notifications.filter((n) => n.kind === 'confirm'),
        [],
      );
    } finally {
      await world.dispose();
      await hs.stop();
    }
  });
});
