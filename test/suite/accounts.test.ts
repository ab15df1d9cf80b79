// The account commands in a real extension host, against a Synapse-like
// homeserver on loopback: what the user does, and what they then see.
import * as assert from 'assert';
import { extensionApi, runCommand, scriptPrompts, startHomeserver } from './support/host';

describe('accounts in the extension host', () => {
  it('adds an account with a password and lists it in the tree', async () => {
    const hs = await startHomeserver({ accessTokenLifetimeMs: 300_000 });
    const prompts = await scriptPrompts();
    prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    prompts.picks.push('password');
    await runCommand('matrixDevtools.addAccount');
    const api = await extensionApi();
    const account = api.accounts.listAccounts().find((a) => a.homeserverUrl === hs.baseUrl);
    assert.ok(account, `no account for ${hs.baseUrl}; notifications: ${JSON.stringify(prompts.notifications)}`);
    assert.strictEqual(account.userId, '@alice:localhost');
    assert.strictEqual(hs.count('POST', '/_matrix/client/v3/login'), 1);
  });
});
