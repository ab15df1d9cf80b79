// Runs after the other account files (file names sort so): no access or
// refresh token the homeservers of these tests issued, and no appservice
// token, may show up anywhere a user or another extension can read without
// asking for it: globalState, workspaceState, settings, both output channels,
// notifications, both trees (labels, descriptions, tooltips).
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
import { addRegistration, fakeAppservice, node, registration, testFolder, usedSecrets, useHomeserver } from './support/appservices';
import { extensionApi, runCommand, scriptPrompts } from './support/host';
import { recordFigures } from '../support/reliabilityFigures';

const ROTATIONS = 3;

describe('accounts: token leaks', () => {
  it('the leak check finds a token wherever it is', () => {
    const token = 'syt_YWxpY2U_planted_0123456789';
    assert.deepStrictEqual(findLeaks([token], { log: `GET /whoami Bearer ${token}`, tree: 'nothing here' }), ['log: syt_YWxp…']);
  });

  it('a whole session, appservices included: no token ever held appears in anything the extension wrote or showed', async () => {
    // A whole life of an account, so this test stands on its own under --grep.
    const prompts = await scriptPrompts();
    const api = await extensionApi();
    const { hs, proxy, url } = await startRecordedHomeserver({ honourCustomRefreshLifetime: true });
    const account = await addPasswordAccount(prompts, url);
    for (let i = 0; i < ROTATIONS; i++) await runCommand('matrixDevtools.rotateToken', account.id);
    await runCommand('matrixDevtools.checkSession', account.id);
    await runCommand('matrixDevtools.copyAccessToken', account.id);
    prompts.inputs.push('1h');
    prompts.answers.push('Rotate Now');
    await runCommand('matrixDevtools.setRefreshTokenLifetime', account.id);
    await runCommand('matrixDevtools.refreshAccounts');
    // An appservice on the same homeserver: ping, Ping All, diagnose, check directly.
    const reg = registration('leakscan', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'leakscan'), reg, 'leakscan-registration.yaml');
    await useHomeserver(api, item, hs);
    await runCommand('matrixDevtools.pingAppservice', node(item));
    await runCommand('matrixDevtools.pingAllAppservices');
    await runCommand('matrixDevtools.diagnoseAppservice', node(item));
    await runCommand('matrixDevtools.checkAppserviceDirectly', node(item));
    await runCommand('matrixDevtools.signOut', account.id);
    prompts.picks.push('Sign in with a password');
    prompts.inputs.push('wonderland');
    await runCommand('matrixDevtools.signInAgain', account.id);
    await runCommand('matrixDevtools.signOut', account.id);

    // The collection itself works: what the extension held was recorded, and the scenario ran.
    const copied = await vscode.env.clipboard.readText();
    assert.ok(issuedTokens.has(copied), 'the copied token was not recorded as issued');
    assert.ok(issuedTokens.has(lastIssued(proxy, '/refresh', 'refresh_token')));
    assert.ok(issuedTokens.size >= 2 * (ROTATIONS + 3), `only ${issuedTokens.size} tokens recorded`);
    assert.ok(proxy.find('POST', '/refresh').length >= ROTATIONS + 1, 'the rotations did not happen');
    assert.ok(hs.requests.filter((r) => r.path.endsWith('/ping') && r.status === 200).length >= 3, 'the pings did not happen');

    const texts = await userVisibleTexts(prompts.notifications);
    assert.ok(texts.log.includes(`Signed in @alice:localhost again on ${url}`), 'the log does not show this test');
    assert.ok(texts.appserviceOutput.includes(reg.id), 'the appservice output does not show this test');
    assert.ok(texts.appserviceTree.includes(reg.id), 'the appservice tree does not show this test');
    assert.ok(texts.workspaceState.includes('lastPing'), 'workspaceState holds no ping result');
    const leaks = findLeaks([...issuedTokens, ...usedSecrets], texts);
    // For the README's Reliability figures, beside the CLI's scan in the unit run.
    recordFigures({ leakScans: 1, leaks: leaks.length });
    assert.deepStrictEqual(leaks, []);
  });
});
