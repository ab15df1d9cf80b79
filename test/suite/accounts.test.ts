// The account commands in a real extension host, against a Synapse-like
// homeserver on loopback (behind a recording proxy): what the user does, what
// reaches the server, and what the user then sees.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  accountFor,
  addPasswordAccount,
  currentAccessToken,
  grantedSession,
  lastIssued,
  loginElsewhere,
  removeAfterTest,
  startRecordedHomeserver,
  whoami,
} from './support/accountsHarness';
import { eventually, extensionApi, runCommand, scriptPrompts } from './support/host';

const ALICE = '@alice:localhost';

async function treeItemOf(accountId: string) {
  const api = await extensionApi();
  const item = api.accounts.treeItems().find((i) => i.id === accountId);
  assert.ok(item, `the Accounts view shows no item for ${accountId}`);
  return item;
}

function detail(item: { children: Array<{ label: string; description: string }> }, label: string): string | undefined {
  return item.children.find((c) => c.label === label)?.description;
}

describe('accounts: commands', () => {
  it('Add Account with a password signs in with a refresh token and shows the account in the tree', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const api = await extensionApi();

    const account = await addPasswordAccount(prompts, url);

    assert.strictEqual(account.userId, ALICE);
    assert.strictEqual(account.signInMethod, 'password');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/login'), 1);
    const [login] = proxy.bodies('POST', '/login');
    assert.strictEqual(login.refresh_token, true, 'the login did not ask for a refresh token');
    assert.deepStrictEqual(login.identifier, { type: 'm.id.user', user: 'alice' });
    assert.deepStrictEqual(
      hs.devices(ALICE).map((d) => d.deviceId),
      [account.deviceId],
    );
    assert.match(String(hs.devices(ALICE)[0].displayName), /Matrix DevTools/);
    assert.ok(
      prompts.notifications.some((n) => n.kind === 'info' && n.message === `Signed in as ${ALICE} on ${url}.`),
      JSON.stringify(prompts.notifications),
    );
    // The password box hid what was typed.
    assert.deepStrictEqual(
      prompts.inputBoxes.map((b) => b.password),
      [false, false, true],
    );

    const item = await treeItemOf(account.id);
    assert.strictEqual(item.label, ALICE);
    assert.strictEqual(item.description, new URL(url).host);
    assert.strictEqual(item.contextValue, 'account.signedIn.refreshable');
    assert.strictEqual(item.iconId, 'pass');
    assert.strictEqual(detail(item, 'State'), 'Signed in');
    assert.strictEqual(detail(item, 'Device ID'), account.deviceId);
    assert.match(detail(item, 'Access token') ?? '', /^expires in [45] min$/);
    assert.match(item.tooltip, /Signed in$/);

    assert.ok(
      (await api.accounts.secretKeys()).some((k) => k.endsWith(account.id)),
      'no secret entry for the new account',
    );
    const token = await currentAccessToken(account.id);
    assert.strictEqual(token, lastIssued(proxy, '/login', 'access_token'));
    assert.strictEqual((await whoami(hs.baseUrl, token)).status, 200);
  });

  it('Add Account with an existing access token and refresh token checks it with whoami and keeps its device', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const other = await loginElsewhere(url, true);
    assert.ok(other.refreshToken);

    prompts.inputs.push(url, other.accessToken, other.refreshToken);
    prompts.picks.push('Use an existing access token');
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);

    assert.strictEqual(account.signInMethod, 'accessToken');
    assert.strictEqual(account.deviceId, other.deviceId);
    assert.strictEqual(account.token?.refreshable, true);
    assert.strictEqual(proxy.find('POST', '/login').length, 1, 'the extension logged in itself instead of using the pasted token');
    const checks = proxy.find('GET', '/account/whoami');
    assert.strictEqual(checks.length, 1);
    assert.strictEqual(checks[0].authorization, `Bearer ${other.accessToken}`);
    assert.deepStrictEqual(
      prompts.inputBoxes.slice(1).map((b) => b.password),
      [true, true],
      'a token was typed into a visible input box',
    );
    assert.ok(prompts.notifications.some((n) => n.kind === 'info' && n.message === `Signed in as ${ALICE} on ${url}.`));

    // The pasted refresh token is the one the extension rotates with.
    await runCommand('matrixDevtools.rotateToken', account.id);
    assert.deepStrictEqual(
      proxy.bodies('POST', '/refresh').map((b) => b.refresh_token),
      [other.refreshToken],
    );
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    assert.strictEqual((await whoami(hs.baseUrl, await currentAccessToken(account.id))).status, 200);
  });

  it('Add Account with an existing non-expiring token works, and Rotate says there is nothing to rotate', async () => {
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const other = await loginElsewhere(url, false);

    prompts.inputs.push(url, other.accessToken, '');
    prompts.picks.push('Use an existing access token');
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account, `no account added; notifications: ${JSON.stringify(prompts.notifications)}`);
    removeAfterTest(prompts, account.id);
    assert.strictEqual(account.token?.refreshable, false);
    assert.strictEqual(account.token?.expiresAt, undefined);
    const item = await treeItemOf(account.id);
    assert.strictEqual(item.contextValue, 'account.signedIn');
    assert.strictEqual(detail(item, 'Access token'), 'does not expire');

    await runCommand('matrixDevtools.rotateToken', account.id);
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 0);
    const last = prompts.notifications[prompts.notifications.length - 1];
    assert.strictEqual(last.kind, 'error');
    assert.match(last.message, /non-expiring access token without a refresh token; there is nothing to rotate/);
    assert.strictEqual((await accountFor(url))?.displayState, 'signedIn', 'a failed rotation must not sign the account out');
  });

  it('Add Account with an access token the homeserver does not know adds nothing and says why', async () => {
    const prompts = await scriptPrompts();
    const { url } = await startRecordedHomeserver();
    prompts.inputs.push(url, 'syt_YWxpY2U_notARealTokenAtAll_0abcde', '');
    prompts.picks.push('Use an existing access token');
    await runCommand('matrixDevtools.addAccount');
    assert.strictEqual(await accountFor(url), undefined);
    const errors = prompts.notifications.filter((n) => n.kind === 'error');
    assert.strictEqual(errors.length, 1, JSON.stringify(prompts.notifications));
    assert.match(errors[0].message, /M_UNKNOWN_TOKEN/);
  });

  it('Remove Account asks first, then logs the session out on the server and deletes its tokens', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const api = await extensionApi();
    const account = await addPasswordAccount(prompts, url);
    const token = await currentAccessToken(account.id);
    assert.deepStrictEqual(await api.accounts.secretKeys([account.id]), [`matrixDevtools.tokens/${account.id}`]);

    prompts.answers.push(undefined); // the user closes the modal dialog
    await runCommand('matrixDevtools.removeAccount', account.id);
    const confirm = prompts.notifications.find((n) => n.kind === 'confirm');
    assert.ok(confirm, 'Remove Account did not ask for confirmation');
    assert.match(confirm.message, new RegExp(`Remove the Matrix account ${ALICE}\\?`));
    assert.deepStrictEqual(confirm.actions, ['Remove']);
    assert.ok(await accountFor(url), 'the account went away although the user cancelled');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/logout'), 0);

    prompts.answers.push('Remove');
    await runCommand('matrixDevtools.removeAccount', account.id);
    assert.strictEqual(await accountFor(url), undefined);
    assert.ok(!api.accounts.treeItems().some((i) => i.id === account.id), 'the tree still shows the removed account');
    const logouts = proxy.find('POST', '/logout');
    assert.strictEqual(logouts.length, 1);
    assert.strictEqual(logouts[0].authorization, `Bearer ${token}`);
    assert.strictEqual(logouts[0].status, 200);
    assert.strictEqual(hs.isAccessTokenKnown(token), false);
    assert.deepStrictEqual(hs.devices(ALICE), [], 'the device stayed on the server');
    assert.deepStrictEqual(await api.accounts.secretKeys([account.id]), [], 'the tokens are still in the secret store');
    assert.ok(!api.accounts.globalStateText().includes(account.id), 'globalState still lists the removed account');
  });

  it('Sign Out keeps the entry but ends the session on the server, and Sign In Again keeps the device', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const api = await extensionApi();
    const account = await addPasswordAccount(prompts, url);
    const token = await currentAccessToken(account.id);
    assert.ok(await grantedSession(url), 'no session handed out before signing out');

    await runCommand('matrixDevtools.signOut', account.id);
    const signedOut = await accountFor(url);
    assert.strictEqual(signedOut?.displayState, 'signedOut');
    assert.strictEqual(proxy.find('POST', '/logout').length, 1);
    assert.strictEqual((await whoami(hs.baseUrl, token)).status, 401, 'the old access token still works on the server');
    assert.deepStrictEqual(await api.accounts.secretKeys([account.id]), [], 'signing out left the tokens in the secret store');
    const item = await treeItemOf(account.id);
    assert.strictEqual(item.contextValue, 'account.signedOut');
    assert.strictEqual(item.iconId, 'circle-slash');
    assert.strictEqual(detail(item, 'State'), 'Signed out');
    assert.ok(prompts.notifications.some((n) => n.kind === 'info' && n.message === `Signed out ${ALICE}.`));
    assert.strictEqual(await vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true }), undefined);

    prompts.picks.push('Sign in with a password');
    prompts.inputs.push('wonderland');
    await runCommand('matrixDevtools.signInAgain', account.id);
    const again = await accountFor(url);
    assert.strictEqual(again?.displayState, 'signedIn');
    assert.strictEqual(again.id, account.id);
    assert.strictEqual(again.deviceId, account.deviceId, 'Sign In Again got a new device');
    assert.strictEqual(again.addedAt, account.addedAt);
    const relogin = proxy.bodies('POST', '/login')[1];
    assert.strictEqual(relogin.device_id, account.deviceId);
    assert.strictEqual(relogin.refresh_token, true);
    assert.deepStrictEqual(
      hs.devices(ALICE).map((d) => d.deviceId),
      [account.deviceId],
    );
    assert.strictEqual(api.accounts.listAccounts().filter((a) => a.homeserverUrl === url).length, 1, 'Sign In Again added a second entry');
    assert.ok(prompts.notifications.some((n) => n.kind === 'info' && n.message === `${ALICE} is signed in again.`));
    assert.strictEqual((await whoami(hs.baseUrl, await currentAccessToken(account.id))).status, 200);
  });

  it('Set Refresh-Token Lifetime sends com.famedly.refresh_token_lifetime_ms on the next /refresh, and clearing it stops that', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver({ honourCustomRefreshLifetime: true });
    const account = await addPasswordAccount(prompts, url);
    assert.ok(!('com.famedly.refresh_token_lifetime_ms' in proxy.bodies('POST', '/login')[0]), 'sent a lifetime nobody asked for');

    prompts.inputs.push('10m');
    prompts.answers.push('Rotate Now');
    await runCommand('matrixDevtools.setRefreshTokenLifetime', account.id);
    assert.strictEqual((await accountFor(url))?.refreshTokenLifetimeMs, 600_000);
    const told = prompts.notifications.find((n) => n.message.includes('asks for a refresh-token lifetime of 10 min'));
    assert.ok(told, JSON.stringify(prompts.notifications));
    assert.deepStrictEqual(told.actions, ['Rotate Now']);
    assert.strictEqual(detail(await treeItemOf(account.id), 'Custom refresh-token lifetime'), '10 min');
    const refreshes = proxy.bodies('POST', '/refresh');
    assert.strictEqual(refreshes.length, 1, 'Rotate Now did not rotate');
    assert.strictEqual(refreshes[0]['com.famedly.refresh_token_lifetime_ms'], 600_000);
    const expiresAt = hs.refreshTokenExpiresAt(lastIssued(proxy, '/refresh', 'refresh_token'));
    assert.ok(
      typeof expiresAt === 'number' && Math.abs(expiresAt - (Date.now() + 600_000)) < 10_000,
      `the server did not apply the lifetime: ${expiresAt}`,
    );

    prompts.inputs.push('');
    prompts.answers.push('Rotate Now');
    await runCommand('matrixDevtools.setRefreshTokenLifetime', account.id);
    assert.strictEqual(
      prompts.inputBoxes[prompts.inputBoxes.length - 1].value,
      '600000',
      'the input box did not show the current lifetime',
    );
    assert.strictEqual((await accountFor(url))?.refreshTokenLifetimeMs, undefined);
    assert.ok(prompts.notifications.some((n) => n.message === `${ALICE} no longer asks for a custom refresh-token lifetime.`));
    assert.strictEqual(detail(await treeItemOf(account.id), 'Custom refresh-token lifetime'), undefined);
    const after = proxy.bodies('POST', '/refresh');
    assert.strictEqual(after.length, 2);
    assert.ok(!('com.famedly.refresh_token_lifetime_ms' in after[1]), 'the cleared lifetime was still sent');
    assert.strictEqual(hs.refreshTokenExpiresAt(lastIssued(proxy, '/refresh', 'refresh_token')), null);
  });

  it('Refresh Accounts re-checks every signed-in account and shows the spec versions it finds', async () => {
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    assert.strictEqual(detail(await treeItemOf(account.id), 'Spec versions'), 'up to v1.6 (14 versions)');
    const whoamisBefore = hs.count('GET', '/_matrix/client/v3/account/whoami');

    hs.setVersions(['v1.10', 'v1.11', 'v1.9']);
    await runCommand('matrixDevtools.refreshAccounts');
    assert.deepStrictEqual((await accountFor(url))?.specVersions, ['v1.10', 'v1.11', 'v1.9']);
    assert.strictEqual(detail(await treeItemOf(account.id), 'Spec versions'), 'up to v1.11 (3 versions)');
    assert.strictEqual(hs.count('GET', '/_matrix/client/v3/account/whoami'), whoamisBefore + 1);
    assert.deepStrictEqual(
      prompts.notifications.filter((n) => n.kind !== 'info'),
      [],
    );

    // A session ended elsewhere is found by the next refresh.
    hs.logoutAllDevices(ALICE);
    await runCommand('matrixDevtools.refreshAccounts');
    assert.strictEqual((await accountFor(url))?.displayState, 'needsSignIn');
    assert.ok(
      prompts.notifications.some((n) => n.kind === 'warning' && /no longer knows this session \(M_UNKNOWN_TOKEN\)/.test(n.message)),
      JSON.stringify(prompts.notifications),
    );
  });

  it('Show Log opens the Matrix output channel with what the extension did', async () => {
    const prompts = await scriptPrompts();
    const { url } = await startRecordedHomeserver();
    await addPasswordAccount(prompts, url);
    await runCommand('matrixDevtools.showLog');
    const shown = () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && d.getText().includes(`Signed in ${ALICE} on ${url}`));
    await eventually(
      () => shown() !== undefined,
      `the Matrix log in the Output view; open: ${vscode.workspace.textDocuments.map((d) => d.uri.toString()).join(', ')}`,
      10_000,
    );
  });
});
