// The OAuth 2.0 conversations of Add Account in plain Node (scripted prompts,
// the real flows and core), against oidc-provider and the delegating test
// homeserver: what happens when the browser way cannot finish, and when a
// code expires.
import * as assert from 'node:assert/strict';
import { startOAuthHomeserver, TestBrowser, type OAuthSetup } from '../support/oauth';
import { TestWorld } from './accountsHarness';

describe('accounts: OAuth 2.0 sign-in conversations', function () {
  this.timeout(30_000);
  let setup: OAuthSetup | undefined;
  afterEach(async () => setup?.stop());

  it('when the browser never comes back, offers a code, and the code signs in', async () => {
    setup = await startOAuthHomeserver();
    const world = await TestWorld.create();
    const w = await world.openWindow({ browserTimeoutMs: 1_000 });
    const browser = new TestBrowser();
    let approved: Promise<unknown> | undefined;
    w.prompts.onOpenExternal = (url) => {
      // The authorization page opens where VS Code cannot be reached; the verification page works.
      if (url.startsWith(`${setup!.auth.issuer}/device`)) approved = browser.approveDeviceCode(url, w.clipboard.text ?? '');
    };
    w.prompts.inputs.push(setup.hs.baseUrl);
    w.prompts.answers.push('Sign in with a code', 'Open Browser');
    const view = await w.flows.addAccount();
    assert.equal(view?.userId, '@alice:localhost');
    assert.equal(view.signInMethod, 'oauth');
    await approved;
    const offer = w.prompts.notifications.find((n) => n.kind === 'warning');
    assert.match(
      offer?.message ?? '',
      /^The browser did not come back within 1 s; start the sign-in again\. If the browser cannot reach VS Code \(a remote or web window\), sign in with a code instead\.$/,
    );
    assert.deepEqual(offer?.actions, ['Sign in with a code']);
    // The code is information, not a warning: a modal information dialog with Open and Copy.
    const code = w.prompts.notifications.find((n) => n.message.startsWith('Your sign-in code: '));
    assert.equal(code?.kind, 'dialog');
    assert.deepEqual(code.actions, ['Open Browser', 'Copy Code']);
    assert.equal(w.prompts.opened.length, 2);
    assert.deepEqual(w.prompts.quickPicks, [], 'an OAuth-only server was asked about the way');
    w.dispose();
  });

  it('a code that expires before it is confirmed ends with one sentence and no account', async () => {
    setup = await startOAuthHomeserver({ auth: { deviceCodeTtlSeconds: 1 } });
    const world = await TestWorld.create();
    const w = await world.openWindow({ remoteWindow: true });
    w.prompts.inputs.push(setup.hs.baseUrl);
    w.prompts.answers.push('Copy Code', undefined);
    assert.equal(await w.flows.addAccount(), undefined);
    assert.deepEqual(w.manager.accounts(), []);
    const error = w.prompts.notifications.find((n) => n.kind === 'error');
    assert.equal(
      error?.message,
      `The sign-in code expired before it was confirmed on ${new URL(setup.auth.issuer).host} (expired_token); start the sign-in again.`,
    );
    w.dispose();
  });
});
