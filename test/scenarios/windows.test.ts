// Phases of the multi-host scenarios, each run in its own extension host by
// scripts/vscode/scenarios.mjs against one shared dev homeserver: sign in,
// restart VS Code, then two windows rotating at the same moment, then a
// window opened after them. Access tokens live 5 minutes, so nothing rotates
// unless a phase asks (the workbench asks the auth provider for sessions at
// start-up, which would rotate a token about to expire).
//
// VS Code for the Web (code-server) loads SecretStorage into each window once
// and never shows it another window's writes, so of two windows racing, the
// loser cannot see the winner's tokens: it must refuse to rotate with its old
// copy (StaleTokensError, "reload this window") instead of ending the session
// for everyone. Desktop VS Code propagates the write and both windows succeed;
// either way the homeserver sees one /refresh and the session survives.
import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { node } from '../suite/support/appservices';
import { eventually, extensionApi, runCommand, runnerHomeserver, scriptPrompts } from '../suite/support/host';

function homeserver() {
  const info = runnerHomeserver();
  assert.ok(info, 'the scenario runner started no homeserver (MATRIX_DEVTOOLS_TEST_INFO is unset)');
  return info as typeof info & { controlUrl: string };
}

async function postCount(endpoint: string): Promise<number> {
  const response = await fetch(`${homeserver().controlUrl}/requests`);
  const requests = (await response.json()) as Array<{ method: string; path: string }>;
  return requests.filter((r) => r.method === 'POST' && r.path.endsWith(endpoint)).length;
}

const refreshCount = () => postCount('/refresh');

async function whoamiStatus(accessToken: string): Promise<number> {
  const response = await fetch(`${homeserver().baseUrl}/_matrix/client/v3/account/whoami`, {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  return response.status;
}

/** Signed in ("expiring soon" is signed in too). */
const SIGNED_IN = ['signedIn', 'expiringSoon'];

/** Where the sign-in phase leaves alice's account id (not a secret), for the diagnosis below. */
const aliceIdFile = () => path.join(process.env.MATRIX_DEVTOOLS_TEST_BARRIER_DIR ?? '', 'alice-account-id');

async function alice() {
  const api = await extensionApi();
  try {
    await eventually(
      () => api.accounts.listAccounts().some((a) => a.userId === '@alice:localhost'),
      'the account @alice:localhost in this window',
      15_000,
    );
  } catch (e) {
    // Which store lost her: globalState (her entry, or all of it) or SecretStorage.
    const id = fs.existsSync(aliceIdFile()) ? fs.readFileSync(aliceIdFile(), 'utf8') : undefined;
    const secret = id ? ((await api.accounts.secretKeys([id])).length ? 'present' : 'absent') : 'unknown';
    const keys = api.accounts.globalStateKeys();
    throw new Error(
      `${(e as Error).message} (globalState keys: [${keys.join(', ')}]; alice's secret: ${secret}; ` +
        `accounts entry: ${api.accounts.globalStateText().length} characters)`,
    );
  }
  return { api, account: api.accounts.listAccounts().find((a) => a.userId === '@alice:localhost')! };
}

/** Waits until every window named in MATRIX_DEVTOOLS_TEST_WINDOWS has reached `step`. */
async function barrier(step: string): Promise<void> {
  const dir = process.env.MATRIX_DEVTOOLS_TEST_BARRIER_DIR;
  const me = process.env.MATRIX_DEVTOOLS_TEST_WINDOW;
  const all = (process.env.MATRIX_DEVTOOLS_TEST_WINDOWS ?? '').split(',').filter(Boolean);
  assert.ok(dir && me && all.length > 1, 'barrier needs MATRIX_DEVTOOLS_TEST_BARRIER_DIR, _WINDOW and _WINDOWS');
  fs.writeFileSync(path.join(dir, `${step}.${me}`), '');
  await eventually(
    () => all.every((w) => fs.existsSync(path.join(dir, `${step}.${w}`))),
    `every window (${all.join(', ')}) at ${step}`,
    60_000,
  );
}

describe('phase sign-in: a first VS Code session', () => {
  it('signs alice in with a password through Add Account', async () => {
    const hs = homeserver();
    const prompts = await scriptPrompts();
    prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    prompts.picks.push('password');
    await runCommand('matrixDevtools.addAccount');
    const { api, account } = await alice();
    fs.writeFileSync(aliceIdFile(), account.id);
    assert.ok(SIGNED_IN.includes(account.displayState), `alice is ${account.displayState}`);
    assert.strictEqual((await api.accounts.secretKeys()).length, 1, 'one SecretStorage entry for the one account');
  });
});

describe('phase after-restart: VS Code opened again with the same profile', () => {
  it('still has alice signed in from SecretStorage: the access token works and the refresh token rotates', async () => {
    const { api, account } = await alice();
    assert.ok(SIGNED_IN.includes(account.displayState), `alice is ${account.displayState}`);
    assert.strictEqual((await api.accounts.secretKeys()).length, 1, 'the secret survived the restart');
    assert.strictEqual(await whoamiStatus(await api.accounts.internalGetAccessTokenForTest(account.id)), 200);
    const before = await refreshCount();
    await api.accounts.rotateNow(account.id);
    assert.strictEqual(await refreshCount(), before + 1);
    const token = await api.accounts.internalGetAccessTokenForTest(account.id);
    assert.strictEqual(await whoamiStatus(token), 200);
  });

  it('offers the account to other extensions through the matrix authentication provider', async () => {
    // Handing out the token needs the user's consent (the Accounts menu), which
    // the main suite grants and tests; here: the provider knows the account again.
    await alice();
    const accounts = await vscode.authentication.getAccounts('matrix');
    assert.deepStrictEqual(
      accounts.map((a) => a.label),
      ['@alice:localhost'],
    );
  });
});

describe('phase two-windows: two windows rotate at the same moment', () => {
  it('rotates exactly once; a window either gets the new token or, unable to see it, sends nothing and says to reload', async () => {
    const { api, account } = await alice();
    const dir = process.env.MATRIX_DEVTOOLS_TEST_BARRIER_DIR!;
    const me = process.env.MATRIX_DEVTOOLS_TEST_WINDOW!;
    const before = await refreshCount();
    await barrier('ready');
    let outcome: string;
    try {
      await api.accounts.rotateNow(account.id);
      const token = await api.accounts.internalGetAccessTokenForTest(account.id);
      assert.strictEqual(await whoamiStatus(token), 200, 'this window got a token the homeserver rejects');
      // Compared across windows through a hash, never written out.
      outcome = `token ${createHash('sha256').update(token).digest('hex')}`;
    } catch (e) {
      // StaleSecretStoreError: this window's copy missed the winner's write, so it stores nothing either.
      assert.ok(
        e instanceof Error && ['StaleTokensError', 'StaleSecretStoreError'].includes(e.name),
        `the rotation failed otherwise: ${String(e)}`,
      );
      outcome = 'stale';
    }
    fs.writeFileSync(path.join(dir, `outcome.${me}`), outcome);
    await barrier('rotated');
    const after = await refreshCount();
    assert.strictEqual(after - before, 1, `the homeserver saw ${after - before} /refresh requests for two windows`);
    const outcomes = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('outcome.'))
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const tokens = new Set(outcomes.filter((o) => o.startsWith('token ')));
    assert.strictEqual(
      tokens.size,
      1,
      `windows ended with ${tokens.size} different working tokens (${outcomes.map((o) => o.split(' ')[0]).join(', ')})`,
    );
    const current = api.accounts.listAccounts().find((a) => a.id === account.id);
    assert.ok(current && SIGNED_IN.includes(current.displayState), `alice is ${current?.displayState} in window ${me}`);
  });
});

describe('phase after-two-windows: a window opened afterwards', () => {
  it('loads the tokens the winning window stored, and they still rotate and work', async () => {
    const { api, account } = await alice();
    const before = await refreshCount();
    await api.accounts.rotateNow(account.id);
    const token = await api.accounts.internalGetAccessTokenForTest(account.id);
    assert.strictEqual(await refreshCount(), before + 1, 'Rotate Now did not send exactly one /refresh');
    assert.strictEqual(await whoamiStatus(token), 200);
  });
});

// VS Code for the Web saves a window's whole copy of SecretStorage on every
// write: window B, opened before A rotated, must not store anything (a new
// account, an appservice token), or it writes alice's dead tokens back.
const SETTINGS_APPSERVICE = 'settings:scenario-bridge';
const isWeb = () => vscode.env.uiKind === vscode.UIKind.Web;

async function bob() {
  const api = await extensionApi();
  return api.accounts.listAccounts().find((a) => a.userId === '@bob:localhost');
}

async function addBobAndSetAppserviceToken(): Promise<string[]> {
  const api = await extensionApi();
  const prompts = await scriptPrompts();
  prompts.inputs.push(homeserver().baseUrl, 'bob', 'builder');
  prompts.picks.push('password');
  await runCommand('matrixDevtools.addAccount');
  // The catalog is read on first need (the view, a command); this reads it directly, so it asks for that first.
  await api.appservices.loaded();
  await eventually(() => !!api.appservices.catalog.get(SETTINGS_APPSERVICE), 'the appservice from the settings', 15_000);
  prompts.inputs.push('scenario-as-token');
  await runCommand('matrixDevtools.setAppserviceToken', node(api.appservices.catalog.get(SETTINGS_APPSERVICE)!));
  return prompts.notifications.filter((n) => n.kind === 'error').map((n) => n.message);
}

describe('phase stale-write: A rotates, then B (open since before) adds an account and sets an appservice token', () => {
  it('B stores nothing and says to reload (VS Code for the Web), or sees the rotation and stores (desktop)', async () => {
    const { api, account } = await alice();
    const me = process.env.MATRIX_DEVTOOLS_TEST_WINDOW!;
    await barrier('stale-open');
    if (me === 'A') {
      const before = await refreshCount();
      await api.accounts.rotateNow(account.id);
      assert.strictEqual(await refreshCount(), before + 1);
      assert.strictEqual(await whoamiStatus(await api.accounts.internalGetAccessTokenForTest(account.id)), 200);
      await barrier('stale-rotated');
    } else {
      await barrier('stale-rotated');
      const logins = await postCount('/login');
      const errors = await addBobAndSetAppserviceToken();
      if (isWeb()) {
        assert.strictEqual(
          errors.filter((m) => /Reload this window/.test(m)).length,
          2,
          `B was not told to reload twice: ${JSON.stringify(errors)}`,
        );
        assert.strictEqual(await bob(), undefined, 'B added bob with its stale copy');
        assert.strictEqual(await api.appservices.pings.hasAsToken('scenario-bridge'), false);
        assert.strictEqual(await postCount('/login'), logins, 'B signed bob in although it could not store the session');
      } else {
        assert.deepStrictEqual(errors, []);
        assert.ok(await bob());
      }
    }
    await barrier('stale-tried');
  });
});

describe('phase after-stale-write: B reloaded', () => {
  it('adds bob and stores the appservice token; alice still works', async () => {
    const { api, account } = await alice();
    if (!(await bob())) assert.deepStrictEqual(await addBobAndSetAppserviceToken(), []);
    assert.ok(await bob(), 'bob was not added after the reload');
    assert.strictEqual(await api.appservices.pings.hasAsToken('scenario-bridge'), true);
    assert.strictEqual(await whoamiStatus(await api.accounts.internalGetAccessTokenForTest(account.id)), 200);
  });
});

describe('phase after-reloads: both windows reloaded', () => {
  it('every session works and rotates, and the appservice token is there', async () => {
    const { api } = await alice();
    await eventually(async () => !!(await bob()), 'bob in this window', 15_000);
    for (const account of api.accounts.listAccounts()) {
      assert.ok(SIGNED_IN.includes(account.displayState), `${account.userId} is ${account.displayState}`);
      assert.strictEqual(
        await whoamiStatus(await api.accounts.internalGetAccessTokenForTest(account.id)),
        200,
        `${account.userId}'s stored token`,
      );
      const before = await refreshCount();
      await api.accounts.rotateNow(account.id);
      assert.strictEqual(await refreshCount(), before + 1);
      assert.strictEqual(
        await whoamiStatus(await api.accounts.internalGetAccessTokenForTest(account.id)),
        200,
        `${account.userId} after rotating`,
      );
    }
    assert.strictEqual(api.accounts.listAccounts().length, 2);
    assert.strictEqual(await api.appservices.pings.hasAsToken('scenario-bridge'), true);
  });
});
