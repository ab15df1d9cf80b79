// Sessions in a real extension host: rotation, checks, copying the token, the
// `matrix` AuthenticationProvider as other extensions use it, single-flight
// refresh, and a refresh token the server refuses.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  accountFor,
  addPasswordAccount,
  currentAccessToken,
  grantedSession,
  lastIssued,
  startRecordedHomeserver,
  watchMatrixSessions,
  whoami,
} from './support/accountsHarness';
import { afterThisTest, eventually, extensionApi, runCommand, scriptPrompts } from './support/host';

const ALICE = '@alice:localhost';

async function setAutoRotate(enabled: boolean | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('matrixDevtools').update('autoRotate', enabled, vscode.ConfigurationTarget.Global);
}

/** Sleeps until `ms` after `since`: a token issued before `since` is then at least that old. */
async function sleepUntil(since: number, ms: number): Promise<void> {
  const wait = since + ms - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe('accounts: sessions', () => {
  it('Rotate Token makes exactly one /refresh, and the new access token works', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    const before = await currentAccessToken(account.id);
    const loginRefreshToken = lastIssued(proxy, '/login', 'refresh_token');

    await runCommand('matrixDevtools.rotateToken', account.id);
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    const [refresh] = proxy.find('POST', '/refresh');
    assert.strictEqual(refresh.authorization, undefined, '/refresh must not carry an Authorization header');
    assert.strictEqual(JSON.parse(refresh.requestBody).refresh_token, loginRefreshToken);
    const after = await currentAccessToken(account.id);
    assert.notStrictEqual(after, before);
    assert.strictEqual(after, lastIssued(proxy, '/refresh', 'access_token'));
    const me = await whoami(hs.baseUrl, after);
    assert.strictEqual(me.status, 200);
    assert.strictEqual(me.body.device_id, account.deviceId, 'rotation moved the session to another device');
    const view = await accountFor(url);
    assert.ok(view?.lastRotationAt && Date.now() - view.lastRotationAt < 30_000, 'the last rotation was not recorded');
    assert.ok(
      prompts.notifications.some(
        (n) => n.kind === 'info' && n.message.startsWith(`Rotated the tokens of ${ALICE}; the new access token expires in`),
      ),
      JSON.stringify(prompts.notifications),
    );
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1, 'something refreshed again behind the command');
  });

  it('Check Session asks whoami and says who is signed in on which device; a session ended elsewhere shows up', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    const token = await currentAccessToken(account.id);

    await runCommand('matrixDevtools.checkSession', account.id);
    const checks = proxy.find('GET', '/account/whoami');
    assert.strictEqual(checks.length, 1);
    assert.strictEqual(checks[0].authorization, `Bearer ${token}`);
    assert.strictEqual(checks[0].status, 200);
    const ok = prompts.notifications.find(
      (n) =>
        n.kind === 'info' &&
        n.message.startsWith(`${ALICE} is signed in on ${url} (device ${account.deviceId}); the access token expires in`),
    );
    assert.ok(ok, JSON.stringify(prompts.notifications));

    hs.logoutAllDevices(ALICE);
    await runCommand('matrixDevtools.checkSession', account.id);
    const view = await accountFor(url);
    assert.strictEqual(view?.displayState, 'needsSignIn', 'the account did not show that its session ended');
    const warnings = prompts.notifications.filter((n) => n.kind === 'warning');
    assert.strictEqual(warnings.length, 1, `told ${warnings.length} times: ${JSON.stringify(prompts.notifications)}`);
    assert.match(warnings[0].message, /no longer knows this session \(M_UNKNOWN_TOKEN\); it was signed out elsewhere/);
    assert.deepStrictEqual(warnings[0].actions, ['Sign In Again']);
    assert.strictEqual(prompts.notifications.filter((n) => n.message.includes('is signed in on')).length, 1);
  });

  it('Copy Access Token puts a working token on the clipboard and never shows it', async () => {
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    await vscode.env.clipboard.writeText('not a token');

    await runCommand('matrixDevtools.copyAccessToken', account.id);
    const copied = await vscode.env.clipboard.readText();
    assert.strictEqual(copied, await currentAccessToken(account.id));
    const me = await whoami(hs.baseUrl, copied);
    assert.strictEqual(me.status, 200);
    assert.strictEqual(me.body.user_id, ALICE);
    assert.ok(
      prompts.notifications.some(
        (n) => n.kind === 'info' && n.message.startsWith(`Copied the access token of ${ALICE} to the clipboard; it expires in`),
      ),
      JSON.stringify(prompts.notifications),
    );
    assert.ok(!JSON.stringify(prompts.notifications).includes(copied), 'a notification shows the token');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 0, 'a token valid for minutes was rotated before copying');
  });

  it('Copy Access Token rotates a token that is about to expire exactly once before copying it', async () => {
    const prompts = await scriptPrompts();
    await setAutoRotate(false); // only the command may rotate
    afterThisTest(() => setAutoRotate(undefined));
    // A token counts as about to expire with less than a minute left, or less
    // than half its lifetime when it lives under two minutes: a 2-s token is
    // due 1 s after it was issued.
    const { hs, proxy, url } = await startRecordedHomeserver({ accessTokenLifetimeMs: 2_000 });
    const account = await addPasswordAccount(prompts, url);
    const signedIn = Date.now();
    const old = lastIssued(proxy, '/login', 'access_token');
    hs.setTokenLifetimes({ accessTokenLifetimeMs: 300_000 });
    await sleepUntil(signedIn, 1_100);

    await runCommand('matrixDevtools.copyAccessToken', account.id);
    const copied = await vscode.env.clipboard.readText();
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    assert.notStrictEqual(copied, old);
    assert.strictEqual(copied, lastIssued(proxy, '/refresh', 'access_token'));
    assert.strictEqual((await whoami(hs.baseUrl, copied)).status, 200);
    await runCommand('matrixDevtools.copyAccessToken', account.id);
    assert.strictEqual(await vscode.env.clipboard.readText(), copied, 'the fresh 5-min token was not copied again');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1, 'the fresh 5-min token was rotated again');
  });

  it('hands other extensions a working session through vscode.authentication and tells them when it changes', async () => {
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    const events = watchMatrixSessions();

    const session = await grantedSession(url);
    assert.ok(session, 'no Matrix session for the signed-in account');
    assert.strictEqual(session.account.label, ALICE);
    assert.deepStrictEqual(session.scopes, [url]);
    const me = await whoami(hs.baseUrl, session.accessToken);
    assert.strictEqual(me.status, 200);
    assert.strictEqual(me.body.user_id, ALICE);
    assert.strictEqual(
      await vscode.authentication.getSession('matrix', ['https://elsewhere.example'], { createIfNone: false, silent: true }),
      undefined,
    );

    await runCommand('matrixDevtools.rotateToken', account.id);
    await eventually(() => events.count() >= 1, 'onDidChangeSessions after a rotation');
    const rotated = await vscode.authentication.getSession('matrix', [url], { createIfNone: false });
    assert.ok(rotated);
    assert.notStrictEqual(rotated.accessToken, session.accessToken, 'the session still hands out the old token');
    assert.strictEqual((await whoami(hs.baseUrl, rotated.accessToken)).status, 200);

    const seen = events.count();
    await runCommand('matrixDevtools.signOut', account.id);
    await eventually(() => events.count() > seen, 'onDidChangeSessions after signing out');
    assert.strictEqual(await vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true }), undefined);
  });

  it('100 concurrent token requests after the tokens expired cause exactly one /refresh', async () => {
    const prompts = await scriptPrompts();
    await setAutoRotate(false); // only the 100 callers may rotate
    afterThisTest(() => setAutoRotate(undefined));
    const { hs, proxy, url } = await startRecordedHomeserver({ accessTokenLifetimeMs: 2_000 });
    const api = await extensionApi();
    const account = await addPasswordAccount(prompts, url);
    const signedIn = Date.now();
    const old = lastIssued(proxy, '/login', 'access_token');
    hs.setTokenLifetimes({ accessTokenLifetimeMs: 300_000 });
    await sleepUntil(signedIn, 2_100); // expired, on the client's clock and the server's

    const tokens = await Promise.all(Array.from({ length: 100 }, () => api.accounts.internalGetAccessTokenForTest(account.id)));
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
    assert.deepStrictEqual([...new Set(tokens)], [lastIssued(proxy, '/refresh', 'access_token')]);
    assert.notStrictEqual(tokens[0], old);
    assert.strictEqual((await whoami(hs.baseUrl, tokens[0])).status, 200);
    // The tree catches up with the 5-minute token the refresh brought.
    await eventually(async () => (await accountFor(url))?.displayState === 'signedIn', 'the account no longer shows an expiring token');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 1);
  });

  it('a /refresh answered with 403 marks the account needs-sign-in but keeps it, and Sign In Again restores it', async () => {
    const prompts = await scriptPrompts();
    const { hs, proxy, url } = await startRecordedHomeserver();
    const api = await extensionApi();
    const account = await addPasswordAccount(prompts, url);
    assert.ok(await grantedSession(url), 'no session handed out before the refresh was refused');
    // Another client refreshes with the same refresh token and uses the result: ours is now spent.
    const shared = lastIssued(proxy, '/login', 'refresh_token');
    const stolen = await fetch(new URL('/_matrix/client/v3/refresh', url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: shared }),
    });
    assert.strictEqual(stolen.status, 200);
    assert.strictEqual((await whoami(hs.baseUrl, lastIssued(proxy, '/refresh', 'access_token'))).status, 200);

    await runCommand('matrixDevtools.rotateToken', account.id);
    const refused = proxy.find('POST', '/refresh')[1];
    assert.strictEqual(refused?.status, 403, 'the homeserver did not refuse the spent refresh token');
    await eventually(
      async () => (await accountFor(url))?.displayState === 'needsSignIn',
      `needs-sign-in; the account shows ${(await accountFor(url))?.displayState}`,
    );
    assert.ok(await accountFor(url), 'the account was dropped after a refused refresh');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 2, 'the spent refresh token was tried again');
    const item = api.accounts.treeItems().find((i) => i.id === account.id);
    assert.strictEqual(item?.contextValue, 'account.needsSignIn');
    assert.strictEqual(item.iconId, 'warning');
    assert.match(item.tooltip, /Needs sign-in: the session has ended/);
    await eventually(() => prompts.notifications.some((n) => n.kind === 'warning'), 'a warning that the session ended');
    const warnings = prompts.notifications.filter((n) => n.kind === 'warning');
    assert.strictEqual(warnings.length, 1, JSON.stringify(prompts.notifications));
    assert.match(warnings[0].message, /refused the refresh token \(M_FORBIDDEN\)/);
    assert.strictEqual(prompts.notifications.filter((n) => n.kind === 'error').length, 0, 'told twice, once as an error');
    assert.strictEqual(await vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true }), undefined);
    assert.strictEqual(api.accounts.listAccounts().filter((a) => a.homeserverUrl === url).length, 1);

    prompts.picks.push('Sign in with a password');
    prompts.inputs.push('wonderland');
    await runCommand('matrixDevtools.signInAgain', account.id);
    const again = await accountFor(url);
    assert.strictEqual(again?.displayState, 'signedIn');
    assert.strictEqual(again.deviceId, account.deviceId);
    assert.strictEqual(proxy.bodies('POST', '/login')[1]?.device_id, account.deviceId);
    const session = await grantedSession(url);
    assert.ok(session);
    assert.strictEqual((await whoami(hs.baseUrl, session.accessToken)).status, 200);
  });
});
