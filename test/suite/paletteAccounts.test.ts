// The account commands as the command palette (or a keybinding) runs them:
// with no argument. With no account the user is told what to do and offered
// Add Account; with one there is no question; with two a quick pick shows
// who, where and in what state. Each run is checked by what the user reads
// and by what the homeserver saw.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { AccountView } from '../../src/vscode/accounts/types';
import type { ScriptedPrompts } from '../support/scriptedPrompts';
import {
  accountFor,
  addPasswordAccount,
  currentAccessToken,
  issuedTokens,
  lastIssued,
  startRecordedHomeserver,
  whoami,
  type RecordedHomeserver,
} from './support/accountsHarness';
import { eventually, extensionApi, runCommand, scriptPrompts } from './support/host';

const PASSWORDS: Record<string, string> = { '@alice:localhost': 'wonderland', '@bob:localhost': 'builder' };

interface Run extends RecordedHomeserver {
  prompts: ScriptedPrompts;
  target: AccountView;
  other?: AccountView;
  /** /refresh calls the homeserver had answered before the command ran. */
  refreshesBefore: number;
}

interface PaletteCase {
  command: string;
  title: string;
  /** Answers the command's own questions, once the account is settled. */
  script?(prompts: ScriptedPrompts, target: AccountView): void;
  /** What the user reads and what the server saw, for `target`; `other` must be untouched. */
  effect(run: Run): Promise<void>;
}

const lastNotification = (prompts: ScriptedPrompts) => prompts.notifications[prompts.notifications.length - 1];

async function assertOtherUntouched(run: Run, requestsBefore: number): Promise<void> {
  if (!run.other) return;
  const token = await currentAccessToken(run.other.id);
  assert.strictEqual((await whoami(run.hs.baseUrl, token)).body.user_id, run.other.userId, 'the other account lost its session');
  const touched = run.proxy.exchanges.slice(requestsBefore).filter((e) => e.authorization === `Bearer ${token}`);
  assert.deepStrictEqual(
    touched.map((e) => e.path),
    [],
    'the command acted on the account that was not picked',
  );
}

const CASES: PaletteCase[] = [
  {
    command: 'matrixDevtools.copyAccessToken',
    title: 'Copy Access Token',
    async effect({ hs, prompts, target }) {
      const copied = await vscode.env.clipboard.readText();
      assert.strictEqual(
        (await whoami(hs.baseUrl, copied)).body.user_id,
        target.userId,
        'the clipboard does not hold a working token of the picked account',
      );
      assert.match(
        lastNotification(prompts).message,
        new RegExp(`^Copied the access token of ${target.userId} to the clipboard; it expires in \\d+ min\\.$`),
      );
      assert.ok(!JSON.stringify([prompts.notifications, prompts.quickPicks]).includes(copied), 'the token was shown');
    },
  },
  {
    command: 'matrixDevtools.rotateToken',
    title: 'Rotate Refresh Token Now',
    async effect({ hs, proxy, prompts, target, refreshesBefore }) {
      assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), refreshesBefore + 1);
      const fresh = lastIssued(proxy, '/refresh', 'access_token');
      assert.strictEqual(await currentAccessToken(target.id), fresh);
      assert.strictEqual((await whoami(hs.baseUrl, fresh)).body.user_id, target.userId);
      assert.match(
        lastNotification(prompts).message,
        new RegExp(`^Rotated the tokens of ${target.userId}; the new access token expires in \\d+ min\\.$`),
      );
    },
  },
  {
    command: 'matrixDevtools.checkSession',
    title: 'Check Session',
    async effect({ proxy, url, prompts, target }) {
      const [check] = proxy.find('GET', '/account/whoami').slice(-1);
      assert.strictEqual(check?.authorization, `Bearer ${await currentAccessToken(target.id)}`);
      assert.match(
        lastNotification(prompts).message,
        new RegExp(`^${target.userId} is signed in on ${url} \\(device ${target.deviceId}\\); the access token expires in \\d+ min\\.$`),
      );
    },
  },
  {
    command: 'matrixDevtools.signOut',
    title: 'Sign Out',
    async effect({ hs, prompts, target }) {
      assert.ok(!hs.devices(target.userId).some((d) => d.deviceId === target.deviceId), 'the device is still signed in on the server');
      assert.strictEqual((await extensionApi()).accounts.listAccounts().find((a) => a.id === target.id)?.displayState, 'signedOut');
      assert.strictEqual(lastNotification(prompts).message, `Signed out ${target.userId}.`);
    },
  },
  {
    command: 'matrixDevtools.removeAccount',
    title: 'Remove Account',
    script: (prompts) => prompts.answers.push('Remove'),
    async effect({ hs, url, prompts, target }) {
      assert.strictEqual(await accountFor(url, target.userId), undefined, 'the account is still listed');
      assert.deepStrictEqual(
        hs.devices(target.userId).map((d) => d.deviceId),
        [],
        'the session was not ended on the server',
      );
      const confirm = prompts.notifications.find((n) => n.kind === 'confirm');
      assert.match(confirm?.message ?? '', new RegExp(`^Remove the Matrix account ${target.userId}\\?`));
    },
  },
  {
    command: 'matrixDevtools.signInAgain',
    title: 'Sign In Again',
    script: (prompts, target) => {
      prompts.picks.push('Sign in with a password');
      prompts.inputs.push(PASSWORDS[target.userId]);
    },
    async effect({ hs, proxy, prompts, target }) {
      const [login] = proxy.bodies('POST', '/login').slice(-1);
      assert.strictEqual(login.device_id, target.deviceId, 'signing in again did not keep the device');
      assert.deepStrictEqual(
        hs.devices(target.userId).map((d) => d.deviceId),
        [target.deviceId],
      );
      assert.strictEqual(lastNotification(prompts).message, `${target.userId} is signed in again.`);
    },
  },
  {
    command: 'matrixDevtools.setRefreshTokenLifetime',
    title: 'Set Refresh-Token Lifetime',
    script: (prompts) => {
      prompts.inputs.push('10m');
      prompts.answers.push('Rotate Now');
    },
    async effect({ proxy, prompts, target }) {
      const info = prompts.notifications.find((n) => n.message.includes('asks for a refresh-token lifetime'));
      assert.strictEqual(info?.message, `${target.userId} asks for a refresh-token lifetime of 10 min from the next rotation or sign-in.`);
      const [rotation] = proxy.bodies('POST', '/refresh').slice(-1);
      assert.strictEqual(rotation?.['com.famedly.refresh_token_lifetime_ms'], 600_000, 'the rotation did not ask for the lifetime');
    },
  },
];

async function assertNoAccounts(): Promise<void> {
  const api = await extensionApi();
  assert.deepStrictEqual(
    api.accounts.listAccounts().map((a) => a.userId),
    [],
    'an earlier test left an account behind',
  );
}

describe('palette: account commands with no argument', () => {
  for (const c of CASES) {
    describe(c.title, () => {
      it('with no account, says so and offers Add Account', async () => {
        await assertNoAccounts();
        const prompts = await scriptPrompts();
        await runCommand(c.command);
        assert.deepStrictEqual(
          prompts.notifications.map((n) => [n.kind, n.message, n.actions]),
          [['info', `There is no Matrix account yet. Add one, then run ${c.title} again.`, ['Add Account']]],
        );
        assert.deepStrictEqual(prompts.quickPicks, []);
      });

      it('with one account, acts on it without asking', async () => {
        await assertNoAccounts();
        const prompts = await scriptPrompts();
        const recorded = await startRecordedHomeserver();
        const target = await addPasswordAccount(prompts, recorded.url);
        const picksBefore = prompts.quickPicks.length;
        const refreshesBefore = recorded.hs.count('POST', '/_matrix/client/v3/refresh');
        c.script?.(prompts, target);
        await runCommand(c.command);
        assert.ok(
          prompts.quickPicks.slice(picksBefore).every((q) => q.title !== c.title),
          `asked which account although there is one: ${JSON.stringify(prompts.quickPicks.slice(picksBefore))}`,
        );
        await c.effect({ ...recorded, prompts, target, refreshesBefore });
      });

      it('with two accounts, asks with user, homeserver and state, and acts on the picked one only', async () => {
        await assertNoAccounts();
        const prompts = await scriptPrompts();
        const recorded = await startRecordedHomeserver();
        const other = await addPasswordAccount(prompts, recorded.url);
        const target = await addPasswordAccount(prompts, recorded.url, 'bob', 'builder');
        const requestsBefore = recorded.proxy.exchanges.length;
        const refreshesBefore = recorded.hs.count('POST', '/_matrix/client/v3/refresh');
        const picksBefore = prompts.quickPicks.length;
        prompts.picks.push(target.userId);
        c.script?.(prompts, target);
        await runCommand(c.command);

        const asked = prompts.quickPicks[picksBefore];
        assert.strictEqual(asked?.title, c.title);
        assert.strictEqual(asked.placeHolder, 'Which Matrix account?');
        const host = new URL(recorded.url).host;
        assert.deepStrictEqual(
          asked.items.map((i) => [i.label, i.description]).sort(),
          [
            [other.userId, host],
            [target.userId, host],
          ].sort(),
        );
        for (const item of asked.items) assert.match(item.detail ?? '', /^Signed in · access token expires in \d+ min · Password$/);

        const run = { ...recorded, prompts, target, other, refreshesBefore };
        await c.effect(run);
        await assertOtherUntouched(run, requestsBefore);
      });
    });
  }
});

describe('palette: when no account fits', () => {
  it('Add Account from the "no account yet" sentence, then the command carries on with the new account', async () => {
    await assertNoAccounts();
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    prompts.answers.push('Add Account');
    prompts.inputs.push(url, 'alice', 'wonderland');
    prompts.picks.push('Sign in with a password');
    await runCommand('matrixDevtools.copyAccessToken');
    const account = await accountFor(url);
    assert.ok(account, JSON.stringify(prompts.notifications));
    prompts.answers.length = 0;
    prompts.answers.push('Remove');
    const copied = await vscode.env.clipboard.readText();
    try {
      assert.strictEqual((await whoami(hs.baseUrl, copied)).body.user_id, '@alice:localhost');
      assert.match(lastNotification(prompts).message, /^Copied the access token of @alice:localhost to the clipboard/);
    } finally {
      await runCommand('matrixDevtools.removeAccount', account.id);
    }
  });

  it('a signed-out account: Copy says it is not signed in and offers Sign In Again, which then copies', async () => {
    await assertNoAccounts();
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    await runCommand('matrixDevtools.signOut', account.id);
    prompts.notifications.length = 0;
    const loginsBefore = hs.count('POST', '/_matrix/client/v3/login');

    await runCommand('matrixDevtools.copyAccessToken');
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.message, n.actions]),
      [['@alice:localhost is not signed in (Signed out). Sign in again, then run Copy Access Token again.', ['Sign In Again']]],
    );
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/login'), loginsBefore);

    prompts.answers.push('Sign In Again');
    prompts.picks.push('Sign in with a password');
    prompts.inputs.push('wonderland');
    await runCommand('matrixDevtools.copyAccessToken');
    const copied = await vscode.env.clipboard.readText();
    assert.strictEqual((await whoami(hs.baseUrl, copied)).body.user_id, '@alice:localhost');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/login'), loginsBefore + 1);
  });

  it('only a non-expiring token: Rotate says there is nothing to rotate, and the palette hides it', async () => {
    await assertNoAccounts();
    const prompts = await scriptPrompts();
    const { hs, url } = await startRecordedHomeserver();
    const login = await fetch(new URL('/_matrix/client/v3/login', url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'wonderland' }),
    });
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    issuedTokens.add(accessToken);
    prompts.inputs.push(url, accessToken, '');
    prompts.picks.push('Use an existing access token');
    await runCommand('matrixDevtools.addAccount');
    const account = await accountFor(url);
    assert.ok(account);
    try {
      const api = await extensionApi();
      await eventually(() => api.accounts.contextKeys()['matrixDevtools.hasSignedInAccount'] === true, 'hasSignedInAccount');
      assert.strictEqual(api.accounts.contextKeys()['matrixDevtools.hasRotatableAccount'], false);
      await runCommand('matrixDevtools.rotateToken');
      assert.strictEqual(
        lastNotification(prompts).message,
        'No signed-in Matrix account has a refresh token, so there is nothing to rotate. Sign in with a password to get one.',
      );
      assert.strictEqual(hs.count('POST', '/_matrix/client/v3/refresh'), 0);
    } finally {
      prompts.answers.push('Remove');
      await runCommand('matrixDevtools.removeAccount', account.id);
    }
  });
});

describe('palette: context keys follow the accounts', () => {
  it('hasAccounts, hasSignedInAccount and hasRotatableAccount change as accounts are added, signed out and removed', async () => {
    await assertNoAccounts();
    const api = await extensionApi();
    const keys = () => api.accounts.contextKeys();
    const expect = (hasAccounts: boolean, signedIn: boolean, rotatable: boolean) =>
      eventually(
        () =>
          keys()['matrixDevtools.hasAccounts'] === hasAccounts &&
          keys()['matrixDevtools.hasSignedInAccount'] === signedIn &&
          keys()['matrixDevtools.hasRotatableAccount'] === rotatable,
        `context keys ${hasAccounts}/${signedIn}/${rotatable}, now ${JSON.stringify(keys())}`,
      );
    await expect(false, false, false);
    const prompts = await scriptPrompts();
    const { url } = await startRecordedHomeserver();
    const account = await addPasswordAccount(prompts, url);
    await expect(true, true, true);
    await runCommand('matrixDevtools.signOut', account.id);
    await expect(true, false, false);
    prompts.answers.push('Remove');
    await runCommand('matrixDevtools.removeAccount', account.id);
    await expect(false, false, false);
  });

  it('Refresh Accounts re-checks every account and does nothing without one', async () => {
    await assertNoAccounts();
    const prompts = await scriptPrompts();
    await runCommand('matrixDevtools.refreshAccounts');
    assert.deepStrictEqual(prompts.notifications, []);
    const { proxy, url } = await startRecordedHomeserver();
    const alice = await addPasswordAccount(prompts, url);
    const bob = await addPasswordAccount(prompts, url, 'bob', 'builder');
    const before = proxy.exchanges.length;
    await runCommand('matrixDevtools.refreshAccounts');
    const checked = proxy.exchanges
      .slice(before)
      .filter((e) => e.path.endsWith('/account/whoami'))
      .map((e) => e.authorization);
    assert.deepStrictEqual(
      checked.sort(),
      [`Bearer ${await currentAccessToken(alice.id)}`, `Bearer ${await currentAccessToken(bob.id)}`].sort(),
    );
  });
});
