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
import { eventually, extensionApi, runCommand, runnerHomeserver, scriptPrompts } from '../suite/support/host';

function homeserver() {
  const info = runnerHomeserver();
  assert.ok(info, 'the scenario runner started no homeserver (MATRIX_DEVTOOLS_TEST_INFO is unset)');
  return info as typeof info & { controlUrl: string };
}

async function refreshCount(): Promise<number> {
  const response = await fetch(`${homeserver().controlUrl}/requests`);
  const requests = (await response.json()) as Array<{ method: string; path: string }>;
  return requests.filter((r) => r.method === 'POST' && r.path.endsWith('/refresh')).length;
}

async function whoamiStatus(accessToken: string): Promise<number> {
  const response = await fetch(`${homeserver().baseUrl}/_matrix/client/v3/account/whoami`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return response.status;
}

/** Signed in ("expiring soon" is signed in too). */
const SIGNED_IN = ['signedIn', 'expiringSoon'];

async function alice() {
  const api = await extensionApi();
  await eventually(() => api.accounts.listAccounts().some((a) => a.userId === '@alice:localhost'), 'the account @alice:localhost in this window', 15_000);
  return { api, account: api.accounts.listAccounts().find((a) => a.userId === '@alice:localhost')! };
}

/** Waits until every window named in MATRIX_DEVTOOLS_TEST_WINDOWS has reached `step`. */
async function barrier(step: string): Promise<void> {
  const dir = process.env.MATRIX_DEVTOOLS_TEST_BARRIER_DIR;
  const me = process.env.MATRIX_DEVTOOLS_TEST_WINDOW;
  const all = (process.env.MATRIX_DEVTOOLS_TEST_WINDOWS ?? '').split(',').filter(Boolean);
  assert.ok(dir && me && all.length > 1, 'barrier needs MATRIX_DEVTOOLS_TEST_BARRIER_DIR, _WINDOW and _WINDOWS');
  fs.writeFileSync(path.join(dir, `${step}.${me}`), '');
  await eventually(() => all.every((w) => fs.existsSync(path.join(dir, `${step}.${w}`))), `every window (${all.join(', ')}) at ${step}`, 60_000);
}

describe('phase sign-in: a first VS Code session', () => {
  it('signs alice in with a password through Add Account', async () => {
    const hs = homeserver();
    const prompts = await scriptPrompts();
    prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    prompts.picks.push('password');
    await runCommand('matrixDevtools.addAccount');
    const { api, account } = await alice();
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
    assert.deepStrictEqual(accounts.map((a) => a.label), ['@alice:localhost']);
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
      assert.ok(e instanceof Error && e.name === 'StaleTokensError', `the rotation failed otherwise: ${String(e)}`);
      outcome = 'stale';
    }
    fs.writeFileSync(path.join(dir, `outcome.${me}`), outcome);
    await barrier('rotated');
    const after = await refreshCount();
    assert.strictEqual(after - before, 1, `the homeserver saw ${after - before} /refresh requests for two windows`);
    const outcomes = fs.readdirSync(dir).filter((f) => f.startsWith('outcome.')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const tokens = new Set(outcomes.filter((o) => o.startsWith('token ')));
    assert.strictEqual(tokens.size, 1, `windows ended with ${tokens.size} different working tokens (${outcomes.map((o) => o.split(' ')[0]).join(', ')})`);
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
