// Runs after the other account files (file names sort so): no access or
// refresh token the homeservers of these tests issued may show up anywhere a
// user or another extension can read without asking for it.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  addPasswordAccount,
  findLeaks,
  issuedTokens,
  lastIssued,
  startRecordedHomeserver,
  userVisibleTexts,
} from './support/accountsHarness';
import { runCommand, scriptPrompts } from './support/host';

describe('accounts: token leaks', () => {
  it('the leak check finds a token wherever it is', () => {
    const token = 'syt_YWxpY2U_planted_0123456789';
    assert.deepStrictEqual(findLeaks([token], { log: `GET /whoami Bearer ${token}`, tree: 'nothing here' }), ['log: syt_YWxp…']);
  });

  it('no issued token appears in globalState, the log, the tree, notifications or settings', async () => {
    // A whole life of an account, so this test stands on its own under --grep.
    const prompts = await scriptPrompts();
    const { proxy, url } = await startRecordedHomeserver({ honourCustomRefreshLifetime: true });
    const account = await addPasswordAccount(prompts, url);
    await runCommand('matrixDevtools.rotateToken', account.id);
    await runCommand('matrixDevtools.checkSession', account.id);
    await runCommand('matrixDevtools.copyAccessToken', account.id);
    prompts.inputs.push('1h');
    prompts.answers.push('Rotate Now');
    await runCommand('matrixDevtools.setRefreshTokenLifetime', account.id);
    await runCommand('matrixDevtools.refreshAccounts');
    await runCommand('matrixDevtools.signOut', account.id);
    prompts.picks.push('Sign in with a password');
    prompts.inputs.push('wonderland');
    await runCommand('matrixDevtools.signInAgain', account.id);

    // The collection itself works: what the extension holds now was recorded.
    const copied = await vscode.env.clipboard.readText();
    assert.ok(issuedTokens.has(copied), 'the copied token was not recorded as issued');
    assert.ok(issuedTokens.has(lastIssued(proxy, '/refresh', 'refresh_token')));
    assert.ok(issuedTokens.size >= 8, `only ${issuedTokens.size} tokens recorded`);

    const texts = await userVisibleTexts(prompts.notifications);
    assert.ok(texts.log.includes(`Signed in @alice:localhost again on ${url}`), 'the log does not show this test');
    assert.ok(texts.tree.includes(account.id));
    assert.deepStrictEqual(findLeaks(issuedTokens, texts), []);
  });
});
