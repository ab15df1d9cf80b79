// Browser sign-in in a real extension host: OAuth 2.0 against a real
// authorization server (oidc-provider, configured like MAS) that the test
// homeserver delegates to, the device grant, and legacy SSO through the test
// homeserver's identity provider. The "browser" is an HTTP client
// (TestBrowser) that the scripted prompts hand every URL the extension opens:
// it fills the real sign-in pages and follows the redirects back to the
// extension's loopback listener.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TestAuthServerOptions } from '../support/oauth/authServer';
import type { DelegatedAuthOptions } from '../support/homeserver/delegated';
import { TestAuthServer, TestBrowser } from '../support/oauth';
import type { BrowserVisit } from '../support/oauth/browser';
import type { TestHomeserverOptions } from '../support/homeserver';
import {
  accountFor,
  currentAccessToken,
  findLeaks,
  grantedSession,
  removeAfterTest,
  startRecordedHomeserver,
  userVisibleTexts,
  whoami,
} from './support/accountsHarness';
import { afterThisTest, eventually, extensionApi, runCommand, scriptPrompts } from './support/host';

const ALICE = '@alice:localhost';

async function startOAuthHomeserver(
  opts: { auth?: TestAuthServerOptions; delegated?: Omit<DelegatedAuthOptions, 'authServer'>; homeserver?: TestHomeserverOptions } = {},
) {
  const auth = await TestAuthServer.start(opts.auth);
  afterThisTest(() => auth.stop());
  const recorded = await startRecordedHomeserver({ ...opts.homeserver, delegatedAuth: { authServer: auth, ...opts.delegated } });
  return { auth, ...recorded };
}

async function treeItemOf(accountId: string) {
  const item = (await extensionApi()).accounts.treeItems().find((i) => i.id === accountId);
  assert.ok(item, `the Accounts view shows no item for ${accountId}`);
  return item;
}

const detail = (item: { children: Array<{ label: string; description: string }> }, label: string) =>
  item.children.find((c) => c.label === label)?.description;

/** Fails when the loopback listener of `redirectUri` still answers. */
async function assertClosed(redirectUri: string): Promise<void> {
  await assert.rejects(fetch(redirectUri), /fetch failed/, `the loopback listener ${redirectUri} is still open`);
}

describe('accounts: OAuth 2.0 and single sign-on', function () {
  this.timeout(60_000);

  it('Add Account signs in through the browser, rotates at the token endpoint, opens the account page, and Sign Out revokes', async () => {
    const prompts = await scriptPrompts();
    // Without the device grant the browser is the only way: no question asked.
    const { auth, hs, proxy, url } = await startOAuthHomeserver({ auth: { deviceFlow: false } });
    const browser = new TestBrowser();
    let tab: Promise<BrowserVisit> | undefined;
    prompts.onOpenExternal = (opened) => {
      if (opened.startsWith(`${auth.issuer}/auth`)) tab = browser.signInThroughRedirect(opened);
    };
    prompts.inputs.push(url);
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);

    assert.strictEqual(prompts.quickPicks.length, 0, 'a server with one way to sign in was asked about it');
    const authorize = new URL(prompts.opened[0]);
    assert.strictEqual(authorize.searchParams.get('code_challenge_method'), 'S256');
    const redirectUri = authorize.searchParams.get('redirect_uri') ?? '';
    assert.match(redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok(authorize.searchParams.get('scope')?.split(' ').includes(`urn:matrix:client:device:${account.deviceId}`));
    assert.match((await tab!).text, /You can close this tab and return to VS Code/);
    await assertClosed(redirectUri);
    assert.ok(prompts.notifications.some((n) => n.kind === 'info' && n.message === `Signed in as ${ALICE} on ${url}.`));

    assert.strictEqual(account.signInMethod, 'oauth');
    const item = await treeItemOf(account.id);
    assert.strictEqual(detail(item, 'Sign-in'), 'OAuth 2.0');
    assert.match(item.tooltip, /Sign-in: OAuth 2\.0/);
    assert.strictEqual(item.contextValue, 'account.signedIn.refreshable.oauth.manageable');
    const first = await currentAccessToken(account.id);
    assert.strictEqual((await whoami(hs.baseUrl, first)).body.device_id, account.deviceId);

    // Another extension gets the OAuth session through the `matrix` provider.
    const session = await grantedSession(url);
    assert.strictEqual(session?.account.label, ALICE);
    assert.strictEqual((await whoami(hs.baseUrl, session.accessToken)).status, 200);

    await runCommand('matrixDevtools.rotateToken', account.id);
    assert.strictEqual(auth.count('/token', 'refresh_token'), 1);
    assert.strictEqual(proxy.find('POST', '/refresh').length, 0, 'an OAuth session was refreshed at /refresh');
    const rotated = await currentAccessToken(account.id);
    assert.notStrictEqual(rotated, first);
    assert.strictEqual((await whoami(hs.baseUrl, rotated)).status, 200);

    prompts.picks.push('Profile');
    await runCommand('matrixDevtools.manageAccount', account.id);
    assert.strictEqual(prompts.opened.at(-1), `${auth.issuer}/account?action=org.matrix.profile`);
    assert.deepStrictEqual(prompts.quickPicks.at(-1)?.labels, ['Profile', 'All sessions']);

    // Nothing secret anywhere the user (or another extension's log reader) can see; the authorization code neither.
    const code = new URL(browser.visited.find((v) => v.startsWith(redirectUri)) ?? redirectUri).searchParams.get('code');
    assert.ok(code, 'the browser never came back with a code');
    assert.deepStrictEqual(findLeaks([...auth.issuedTokens, code], await userVisibleTexts()), []);

    await runCommand('matrixDevtools.signOut', account.id);
    assert.ok(auth.count('/token/revocation') >= 1, 'Sign Out did not revoke at the revocation endpoint');
    assert.strictEqual(proxy.find('POST', '/logout').length, 0);
    const refused = await whoami(hs.baseUrl, rotated);
    assert.strictEqual(refused.status, 401, 'the revoked access token still works');
    assert.strictEqual(refused.body.errcode, 'M_UNKNOWN_TOKEN');
    assert.strictEqual((await accountFor(url))?.displayState, 'signedOut');

    // Sign In Again takes the same way, on the same device.
    await runCommand('matrixDevtools.signInAgain', account.id);
    const again = await accountFor(url);
    assert.strictEqual(again?.displayState, 'signedIn', JSON.stringify(prompts.notifications));
    assert.strictEqual(again.deviceId, account.deviceId);
    assert.strictEqual(again.signInMethod, 'oauth');
    assert.strictEqual((await whoami(hs.baseUrl, await currentAccessToken(account.id))).body.device_id, account.deviceId);
  });

  it("another extension's sign-in request creates an OAuth account through the provider's createSession", async () => {
    const prompts = await scriptPrompts();
    const { auth, hs, url } = await startOAuthHomeserver({ auth: { deviceFlow: false } });
    const browser = new TestBrowser();
    let tab: Promise<BrowserVisit> | undefined;
    prompts.onOpenExternal = (opened) => void (tab = browser.signInThroughRedirect(opened));
    // No account yet: getSession without createIfNone puts "Sign in with Matrix to use …" into the
    // Accounts menu (createIfNone would ask in a modal dialog, which the test workbench refuses to show).
    const before = new Set(await vscode.commands.getCommands());
    assert.strictEqual(await vscode.authentication.getSession('matrix', [url], { createIfNone: false }), undefined);
    const signIn = (await vscode.commands.getCommands()).filter((c) => c.startsWith('matrix:') && /:signIn\d+$/.test(c) && !before.has(c));
    assert.strictEqual(signIn.length, 1, `no new sign-in request in the Accounts menu: ${signIn.join(', ')}`);
    // The person runs that menu entry: the workbench calls the provider's createSession.
    prompts.inputs.push(url);
    await vscode.commands.executeCommand(signIn[0]);
    const account = await accountFor(url);
    assert.ok(account, `createSession added no account; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);
    assert.strictEqual(prompts.inputBoxes[0]?.value, url, 'Add Account was not prefilled with the homeserver from the scopes');
    assert.strictEqual(account.signInMethod, 'oauth');
    assert.match((await tab!).text, /You can close this tab and return to VS Code/);
    assert.strictEqual(auth.count('/token', 'authorization_code'), 1);

    // The session is the requesting extension's now, without another question, and it works.
    const session = await vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true });
    assert.ok(session, 'the session created for the request is not handed out');
    assert.strictEqual(session.account.label, ALICE);
    assert.strictEqual(session.accessToken, await currentAccessToken(account.id));
    assert.strictEqual((await whoami(hs.baseUrl, session.accessToken)).body.device_id, account.deviceId);
    assert.deepStrictEqual(findLeaks(auth.issuedTokens, await userVisibleTexts()), []);
  });

  it('signs in with a code: shows it with Copy and Open, polls, and waits longer after slow_down', async () => {
    const prompts = await scriptPrompts();
    const { auth, hs, url } = await startOAuthHomeserver();
    auth.slowDownDevicePolls(1);
    const browser = new TestBrowser();
    let approved: Promise<BrowserVisit> | undefined;
    prompts.answers.push('Open Browser');
    prompts.onOpenExternal = (opened) => {
      const dialog = prompts.notifications.find((n) => n.kind === 'dialog' && n.message.startsWith('Your sign-in code: '));
      const userCode = /^Your sign-in code: (\S+)/.exec(dialog?.message ?? '')?.[1];
      assert.ok(userCode, 'the code was not shown before the browser opened');
      approved = browser.approveDeviceCode(opened, userCode);
    };
    prompts.inputs.push(url);
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);

    // code-server is a web window: the code comes first, without a question.
    assert.strictEqual(prompts.quickPicks.length, 0);
    const dialog = prompts.notifications.find((n) => n.kind === 'dialog')!;
    assert.deepStrictEqual(dialog.actions, ['Open Browser', 'Copy Code']);
    assert.match(
      dialog.message,
      new RegExp(`Open ${auth.issuer}/device in a browser on any device and enter this code; both buttons copy it\\.`),
    );
    assert.strictEqual(await vscode.env.clipboard.readText(), /^Your sign-in code: (\S+)/.exec(dialog.message)?.[1]);
    assert.match((await approved!).text, /The application is signed in/);
    // slow_down answered once, then the grant: two polls.
    assert.strictEqual(auth.count('/token', 'urn:ietf:params:oauth:grant-type:device_code'), 2);
    assert.strictEqual(account.signInMethod, 'oauth');
    assert.strictEqual((await whoami(hs.baseUrl, await currentAccessToken(account.id))).status, 200);
    assert.deepStrictEqual(findLeaks(auth.issuedTokens, await userVisibleTexts()), []);
  });

  it('a cancelled browser sign-in closes the listener, adds nothing and shows no error', async () => {
    const prompts = await scriptPrompts();
    const { auth, url } = await startOAuthHomeserver({ auth: { deviceFlow: false } });
    // The person never finishes in the browser; they press Cancel on the progress notification (its primary action).
    prompts.onOpenExternal = () => {
      setTimeout(() => void vscode.commands.executeCommand('notification.acceptPrimaryAction'), 300);
    };
    prompts.inputs.push(url);
    await runCommand('matrixDevtools.addAccount');
    assert.strictEqual(await accountFor(url), undefined);
    await assertClosed(new URL(prompts.opened[0]).searchParams.get('redirect_uri')!);
    assert.strictEqual(auth.count('/token'), 0);
    assert.deepStrictEqual(
      prompts.notifications.filter((n) => n.kind === 'error'),
      [],
    );
    assert.ok(
      (await extensionApi()).accounts.logLines().some((l) => /Add Account failed: RequestFailedError: The sign-in was cancelled/.test(l)),
    );
  });

  it('a sign-in the person declines in the browser says so in one sentence and adds nothing', async () => {
    const prompts = await scriptPrompts();
    const { auth, url } = await startOAuthHomeserver({ auth: { deviceFlow: false } });
    const browser = new TestBrowser();
    let tab: Promise<BrowserVisit> | undefined;
    prompts.onOpenExternal = (opened) => void (tab = browser.signInThroughRedirect(opened, { action: 'deny' }));
    prompts.inputs.push(url);
    prompts.answers.push(undefined);
    await runCommand('matrixDevtools.addAccount');
    assert.strictEqual(await accountFor(url), undefined);
    assert.match((await tab!).text, /The sign-in did not complete/);
    const errors = prompts.notifications.filter((n) => n.kind === 'error');
    assert.deepStrictEqual(
      errors.map((n) => n.message),
      [`The sign-in was declined on ${new URL(auth.issuer).host} (access_denied); nothing was changed.`],
    );
    assert.strictEqual(auth.count('/token'), 0);
  });

  it('a server that offers OAuth 2.0 and passwords says so and lets the user choose', async () => {
    const prompts = await scriptPrompts();
    const { auth, url } = await startOAuthHomeserver({ delegated: { passwordLogin: true } });
    const browser = new TestBrowser();
    prompts.onOpenExternal = (opened) => void browser.signInThroughRedirect(opened);
    prompts.inputs.push(url);
    prompts.picks.push('Sign in with the browser');
    await runCommand('matrixDevtools.addAccount');
    const [asked] = prompts.quickPicks;
    assert.strictEqual(asked.placeHolder, `${new URL(url).host} offers OAuth 2.0 and password sign-in; OAuth 2.0 is recommended.`);
    assert.deepStrictEqual(
      asked.items.map((i) => i.label),
      ['Sign in with a code', 'Sign in with the browser', 'Sign in with a password', 'Use an existing access token'],
    );
    assert.ok(
      asked.items.every((i) => i.description),
      'every way has a one-line description',
    );
    assert.strictEqual(asked.items[1].description, `OAuth 2.0 at ${new URL(auth.issuer).host}; your password stays with the server`);
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);
    assert.strictEqual(account.signInMethod, 'oauth');
  });

  it('signs in with single sign-on through the picked identity provider, and rotates at /refresh', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver({
      sso: {
        providers: [
          { id: 'oidc-github', name: 'GitHub', brand: 'github' },
          { id: 'gitlab', name: 'GitLab' },
        ],
      },
    });
    const browser = new TestBrowser();
    let tab: Promise<BrowserVisit> | undefined;
    prompts.onOpenExternal = (opened) => void (tab = browser.signInThroughSso(opened));
    prompts.inputs.push(url);
    prompts.picks.push('Sign in with GitLab');
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);

    const [asked] = prompts.quickPicks;
    assert.strictEqual(asked.placeHolder, `${new URL(url).host} offers single sign-on and password sign-in.`);
    assert.deepStrictEqual(asked.labels, [
      'Sign in with GitHub',
      'Sign in with GitLab',
      'Sign in with a password',
      'Use an existing access token',
    ]);
    assert.match(prompts.opened[0], /\/_matrix\/client\/v3\/login\/sso\/redirect\/gitlab\?redirectUrl=http%3A%2F%2F127\.0\.0\.1/);
    assert.match((await tab!).text, /You can close this tab and return to VS Code/);
    const [login] = proxy.bodies('POST', '/login');
    assert.strictEqual(login.type, 'm.login.token');
    assert.strictEqual(login.refresh_token, true);
    assert.strictEqual(account.signInMethod, 'sso');
    assert.strictEqual(detail(await treeItemOf(account.id), 'Sign-in'), 'Single sign-on');

    await runCommand('matrixDevtools.rotateToken', account.id);
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    await eventually(
      async () => (await whoami(hs.baseUrl, await currentAccessToken(account.id))).status === 200,
      'the rotated token works',
    );
    assert.deepStrictEqual(findLeaks(hs.issuedLoginTokens(), await userVisibleTexts()), []);
  });
});
