// The sign-in conversations: Add Account (server → discovery → the way to
// sign in → that way's questions) and Sign In Again (the same, on the
// account's device). Which ways exist comes from the server
// (signInMethods.ts); the browser ways run in browserSignIns.ts, the password
// and token ways here. Plain Node, like flows.ts.
import { describeError, RequestFailedError } from '../../core/errors';
import { serverInputProblem, type DiscoveredHomeserver } from '../../core/homeserver';
import { t } from '../../core/l10n';
import { offersDeviceCode } from '../../core/oauth';
import type { AuthMetadata } from '../../core/oauth/types';
import { clearTextPasswordWarning, type LoginResult } from '../../core/session';
import type { SignInMethods } from '../../core/signInMethods';
import type { ProgressRunner } from '../progress';
import type { Prompts } from '../prompts';
import type { AccountActions, PasswordAnswer } from './actions';
import { BrowserSignIns } from './browserSignIns';
import type { AccountManager } from './manager';
import { chooseSignIn, type SignInChoice } from './signInMethods';
import type { AccountMetadata, AccountsLog, AccountView, ClipboardLike } from './types';

export interface SignInFlowOptions {
  /** A remote or web window: the browser cannot come back to a loopback listener in this extension host. */
  remoteWindow?: boolean;
  /** How long a browser sign-in waits. Default 5 minutes. */
  browserTimeoutMs?: number;
}

/** Runs a command's work and reports its error to the user (flows.ts). */
export type Guard = <T>(action: string, accountId: string | undefined, run: () => Promise<T>) => Promise<T | undefined>;

/** What the lazily loaded conversations (this file, accountDialogs.ts) get from flows.ts. */
export interface FlowDeps {
  readonly mgr: AccountManager;
  readonly actions: AccountActions;
  readonly prompts: Prompts;
  readonly progress: ProgressRunner;
  readonly clipboard: ClipboardLike;
  readonly log: AccountsLog;
  readonly guard: Guard;
}

/** MAS accepts these as device ids in the device scope; others get a new device. */
const OAUTH_DEVICE_ID = /^[A-Za-z0-9-]{10,}$/;

export class SignInFlows {
  private readonly browser: BrowserSignIns;

  constructor(
    private readonly d: FlowDeps,
    private readonly options: SignInFlowOptions = {},
  ) {
    const { actions, prompts, progress, clipboard, log } = d;
    this.browser = new BrowserSignIns({
      http: actions.http,
      prompts,
      progress,
      clipboard,
      log,
      deviceDisplayName: actions.deviceDisplayName,
      browserTimeoutMs: options.browserTimeoutMs,
    });
  }

  /** Undefined when the user gave up (or the error was already reported). */
  async addAccount(prefillServer?: string): Promise<AccountView | undefined> {
    const serverInput = await this.d.prompts.inputBox({
      title: t('Add Matrix Account'),
      prompt: t('Homeserver name or URL'),
      placeHolder: t('example.org or https://matrix.example.org'),
      value: prefillServer,
      ignoreFocusOut: true,
      validateInput: serverInputProblem,
    });
    if (!serverInput) return undefined;
    return this.d.guard(t('Add Account'), undefined, async () => {
      const { server, methods } = await this.d.progress.run(
        t('Contacting {0}…', serverInput.trim()),
        (signal) => this.d.actions.discover(serverInput, signal),
        { cancellable: true },
      );
      const choice = await chooseSignIn(this.d.prompts, server.baseUrl, methods, { remoteWindow: this.options.remoteWindow === true });
      if (!choice) return undefined;
      const view = await this.addWith(server, methods, choice);
      if (view) void this.d.prompts.info(t('Signed in as {0} on {1}.', view.userId, server.baseUrl));
      return view;
    });
  }

  /** A new session for an existing entry, keeping its device. */
  async signInAgain(id: string): Promise<AccountView | undefined> {
    const m = this.d.mgr.account(id);
    if (!m) return undefined;
    return this.d.guard(t('Sign In Again'), id, async () => {
      const methods = await this.methodsForSignInAgain(m);
      const choice = await chooseSignIn(this.d.prompts, m.homeserverUrl, methods, {
        remoteWindow: this.options.remoteWindow === true,
        preferred: m.signInMethod,
      });
      if (!choice) return undefined;
      const view = await this.signInAgainWith(m, methods, choice);
      if (view) void this.d.prompts.info(t('{0} is signed in again.', m.userId));
      return view;
    });
  }

  private async addWith(server: DiscoveredHomeserver, methods: SignInMethods, choice: SignInChoice): Promise<AccountView | undefined> {
    switch (choice.kind) {
      case 'password':
        return this.addWithPassword(server);
      case 'accessToken':
        return this.addWithToken(server);
      case 'sso':
        return this.d.actions.addWithLogin(server, await this.browser.sso(server.baseUrl, choice.provider), 'sso');
      default: {
        const oauth = methods.oauth!;
        const login = await this.oauth(server.baseUrl, oauth, choice.kind);
        return login && this.d.actions.addWithLogin(server, login, 'oauth', accountManagementOf(oauth));
      }
    }
  }

  private async signInAgainWith(m: AccountMetadata, methods: SignInMethods, choice: SignInChoice): Promise<AccountView | undefined> {
    const deviceId = m.deviceId || undefined;
    switch (choice.kind) {
      case 'password': {
        const password = await this.askPassword(m.userId, m.homeserverUrl);
        if (password === undefined) return undefined;
        return this.d.progress.run(
          t('Signing in {0} again…', m.userId),
          (signal) => this.d.actions.signInAgainWithPassword(m.id, password, signal),
          { cancellable: true },
        );
      }
      case 'accessToken': {
        const tokens = await this.askTokens();
        if (!tokens) return undefined;
        return this.d.progress.run(
          t('Checking the access token…'),
          (signal) => this.d.actions.signInAgainWithAccessToken(m.id, tokens.accessToken, tokens.refreshToken, signal),
          { cancellable: true },
        );
      }
      case 'sso':
        return this.d.actions.signInAgainWithLogin(m.id, await this.browser.sso(m.homeserverUrl, choice.provider, { deviceId }), 'sso');
      default: {
        const oauth = methods.oauth!;
        const login = await this.oauth(
          m.homeserverUrl,
          oauth,
          choice.kind,
          deviceId && OAUTH_DEVICE_ID.test(deviceId) ? deviceId : undefined,
        );
        return login && this.d.actions.signInAgainWithLogin(m.id, login, 'oauth', accountManagementOf(oauth));
      }
    }
  }

  /** The browser way; when it cannot finish (cancelled, timed out, no browser) and the server has codes, offers one. */
  private async oauth(
    baseUrl: string,
    metadata: AuthMetadata,
    kind: 'oauthBrowser' | 'oauthCode',
    deviceId?: string,
  ): Promise<LoginResult | undefined> {
    if (kind === 'oauthCode') return this.browser.oauthCode(baseUrl, metadata, { deviceId });
    try {
      return await this.browser.oauthBrowser(baseUrl, metadata, { deviceId });
    } catch (e) {
      const browserTrouble = e instanceof RequestFailedError && (e.kind === 'cancelled' || e.kind === 'timeout');
      if (!browserTrouble || !offersDeviceCode(metadata)) throw e;
      const withCode = t('Sign in with a code');
      const answer = await this.d.prompts.warning(
        t('{0} If the browser cannot reach VS Code (a remote or web window), sign in with a code instead.', describeError(e)),
        withCode,
      );
      if (answer !== withCode) return undefined;
      return this.browser.oauthCode(baseUrl, metadata, { deviceId });
    }
  }

  /** What the server offers now; when it cannot say, the ways a password account always had. */
  private async methodsForSignInAgain(m: AccountMetadata): Promise<SignInMethods> {
    try {
      return await this.d.progress.run(
        t('Contacting {0}…', new URL(m.homeserverUrl).host),
        (signal) => this.d.actions.signInMethodsOf(m.homeserverUrl, signal),
        { cancellable: true },
      );
    } catch (e) {
      if (e instanceof RequestFailedError && e.kind === 'cancelled') throw e;
      if (m.signInMethod !== 'password' && m.signInMethod !== 'accessToken') throw e;
      this.d.log.warn(`Could not ask ${m.homeserverUrl} how to sign in (${describeError(e)}); offering a password.`);
      return { password: true, loginToken: false };
    }
  }

  private async addWithPassword(server: DiscoveredHomeserver): Promise<AccountView | undefined> {
    const user = await this.d.prompts.inputBox({
      title: t('Sign in to {0}', server.baseUrl),
      prompt: t('User name or full user ID'),
      placeHolder: t('alice or @alice:{0}', server.serverName),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : t('Enter a user name.')),
    });
    if (!user) return undefined;
    const password = await this.askPassword(user.trim(), server.baseUrl);
    if (password === undefined) return undefined;
    return this.d.progress.run(
      t('Signing in to {0}…', server.baseUrl),
      (signal) => this.d.actions.addWithPassword(server, user.trim(), password, signal),
      { cancellable: true },
    );
  }

  private async addWithToken(server: DiscoveredHomeserver): Promise<AccountView | undefined> {
    const tokens = await this.askTokens();
    if (!tokens) return undefined;
    return this.d.progress.run(
      t('Checking the access token…'),
      (signal) => this.d.actions.addWithAccessToken(server, tokens.accessToken, tokens.refreshToken, signal),
      { cancellable: true },
    );
  }

  /** The password, once the user agreed to send it unencrypted when the server is plain http:// off this machine. */
  private async askPassword(user: string, baseUrl: string): Promise<PasswordAnswer | undefined> {
    const warning = clearTextPasswordWarning(baseUrl);
    if (warning) {
      const send = t('Send Password Anyway');
      const detail = t(
        'Anyone on the network path can read it and sign in as {0}. Use https:// unless this is a test server you control.',
        user,
      );
      if ((await this.d.prompts.confirm(warning, detail, send)) !== send) return undefined;
    }
    const password = await this.d.prompts.inputBox({
      title: t('Password for {0}', user),
      prompt: t('Password'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v ? undefined : t('Enter the password.')),
    });
    return password ? { password, clearTextPasswordConfirmed: warning !== undefined } : undefined;
  }

  private async askTokens(): Promise<{ accessToken: string; refreshToken?: string } | undefined> {
    const accessToken = await this.d.prompts.inputBox({
      title: t('Existing access token'),
      prompt: t('Access token (it is checked with whoami and stored only in the secret store)'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/^\S+$/.test(v.trim()) ? undefined : t('Paste the access token, without spaces.')),
    });
    if (!accessToken?.trim()) return undefined;
    const refreshToken = await this.d.prompts.inputBox({
      title: t('Refresh token (optional)'),
      prompt: t('Refresh token that belongs to this access token; leave empty if you have none (the token is then never rotated).'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' || /^\S+$/.test(v.trim()) ? undefined : t('Paste the refresh token, without spaces.')),
    });
    if (refreshToken === undefined) return undefined;
    return { accessToken: accessToken.trim(), refreshToken: refreshToken.trim() || undefined };
  }
}

function accountManagementOf(metadata: AuthMetadata): AccountMetadata['accountManagement'] {
  const uri = metadata.accountManagementUri;
  return uri
    ? { uri, ...(metadata.accountManagementActionsSupported ? { actions: metadata.accountManagementActionsSupported } : {}) }
    : undefined;
}
