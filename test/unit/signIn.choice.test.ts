// Which way Add Account takes (vscode/accounts/signInMethods.ts) and the
// account page links (core/oauth/accountManagement.ts): plain functions, with
// scripted prompts.
import * as assert from 'node:assert/strict';
import { accountManagementUrl, accountPagesOf } from '../../src/core/oauth/accountManagement';
import type { AuthMetadata } from '../../src/core/oauth/types';
import type { SignInMethods } from '../../src/core/signInMethods';
import { chooseSignIn, signInChoices } from '../../src/vscode/accounts/signInMethods';
import { ScriptedPrompts } from '../support/scriptedPrompts';

const BASE = 'https://matrix.example.org';
const oauth = (deviceCode: boolean): AuthMetadata => ({
  issuer: 'https://auth.example.org/',
  authorizationEndpoint: 'https://auth.example.org/authorize',
  tokenEndpoint: 'https://auth.example.org/token',
  registrationEndpoint: 'https://auth.example.org/register',
  deviceAuthorizationEndpoint: deviceCode ? 'https://auth.example.org/device' : undefined,
  grantTypesSupported: ['authorization_code', 'refresh_token', ...(deviceCode ? ['urn:ietf:params:oauth:grant-type:device_code'] : [])],
  source: 'stable',
});

describe('choosing how to sign in', () => {
  const choose = async (methods: SignInMethods, remoteWindow: boolean, pick?: string) => {
    const prompts = new ScriptedPrompts();
    if (pick !== undefined) prompts.picks.push(pick);
    const choice = await chooseSignIn(prompts, BASE, methods, { remoteWindow });
    return { choice, asked: prompts.quickPicks };
  };

  it('uses OAuth 2.0 without a question: the browser in a desktop window, a code in a remote one', async () => {
    assert.deepEqual(await choose({ oauth: oauth(true), password: false, loginToken: false }, false), {
      choice: { kind: 'oauthBrowser' },
      asked: [],
    });
    assert.deepEqual((await choose({ oauth: oauth(true), password: false, loginToken: false }, true)).choice, { kind: 'oauthCode' });
    // Without the device grant there is only the browser, remote or not.
    assert.deepEqual((await choose({ oauth: oauth(false), password: false, loginToken: false }, true)).choice, { kind: 'oauthBrowser' });
  });

  it('asks when the server offers OAuth 2.0 and passwords, saying so, OAuth first', async () => {
    const { choice, asked } = await choose({ oauth: oauth(true), password: true, loginToken: true }, false, 'Sign in with a password');
    assert.deepEqual(choice, { kind: 'password' });
    assert.equal(asked[0].placeHolder, 'matrix.example.org offers OAuth 2.0 and password sign-in; OAuth 2.0 is recommended.');
    assert.deepEqual(asked[0].labels, [
      'Sign in with the browser',
      'Sign in with a code',
      'Sign in with a password',
      'Use an existing access token',
    ]);
  });

  it('uses single sign-on with one identity provider without a question, and lists several', async () => {
    const one = { password: false, loginToken: true, sso: { providers: [{ id: 'gh', name: 'GitHub' }] } };
    assert.deepEqual((await choose(one, false)).choice, { kind: 'sso', provider: { id: 'gh', name: 'GitHub' } });
    const two = { ...one, sso: { providers: [...one.sso.providers, { id: 'gl', name: 'GitLab' }] } };
    const { choice, asked } = await choose(two, false, 'GitLab');
    assert.deepEqual(choice, { kind: 'sso', provider: { id: 'gl', name: 'GitLab' } });
    assert.deepEqual(asked[0].labels, ['Sign in with GitHub', 'Sign in with GitLab', 'Use an existing access token']);
  });

  it('keeps the password pick a password server always had, and puts the account’s own way first on Sign In Again', () => {
    const labels = (preferred?: 'accessToken' | 'oauth') =>
      signInChoices(BASE, { oauth: oauth(true), password: true, loginToken: true }, { remoteWindow: false, preferred }).map((i) => i.label);
    assert.deepEqual(labels('accessToken')[0], 'Use an existing access token');
    assert.deepEqual(labels('oauth').slice(0, 2), ['Sign in with the browser', 'Sign in with a code']);
    assert.deepEqual(
      signInChoices(BASE, { password: true, loginToken: true }, { remoteWindow: false }).map((i) => i.label),
      ['Sign in with a password', 'Use an existing access token'],
    );
  });
});

describe('account page links', () => {
  const uri = 'https://auth.example.org/account';

  it('offers the pages the server lists, stable or MSC4191 names, and adds action and device_id', () => {
    assert.deepEqual(accountPagesOf(undefined), []);
    assert.deepEqual(accountPagesOf(['org.matrix.profile', 'org.matrix.sessions_list', 'org.matrix.session_end']), ['profile', 'devices']);
    assert.deepEqual(accountPagesOf(['org.matrix.device_view', 'org.matrix.profile']), ['profile', 'thisDevice']);
    assert.equal(accountManagementUrl(uri), uri);
    assert.equal(
      accountManagementUrl(uri, 'devices', { actionsSupported: ['org.matrix.sessions_list'] }),
      `${uri}?action=org.matrix.sessions_list`,
    );
    assert.equal(accountManagementUrl(uri, 'devices'), `${uri}?action=org.matrix.devices_list`);
    assert.equal(
      accountManagementUrl(uri, 'thisDevice', { actionsSupported: ['org.matrix.session_view'], deviceId: 'ABC DEF' }),
      `${uri}?action=org.matrix.session_view&device_id=ABC+DEF`,
    );
  });
});
