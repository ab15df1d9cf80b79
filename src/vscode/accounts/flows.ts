// The conversations behind the account commands: which questions to ask, what
// runs under progress, what the user is told. Questions and notifications go
// through `Prompts` and progress through `ProgressRunner`, so this file needs
// only types from vscode and runs in plain Node with scripted answers.
import { describeError, isMatrixError, RequestFailedError } from '../../core/errors';
import { serverInputProblem, type DiscoveredHomeserver } from '../../core/homeserver';
import { t } from '../../core/l10n';
import { NoSessionError, NotRotatableError, SessionEndedError, StaleTokensError } from '../../core/rotation';
import { StaleSecretStoreError } from '../coherentSecrets';
import type { ProgressRunner } from '../progress';
import type { Prompts } from '../prompts';
import { ServerLogoutFailedError, type AccountActions } from './actions';
import type { AccountManager } from './manager';
import { formatDuration } from '../../core/expiry';
import { describeExpiry, parseLifetime } from './present';
import type { AccountsLog, AccountView } from './types';

export interface ClipboardLike {
  writeText(text: string): Thenable<void>;
}

interface MethodItem {
  label: string;
  description?: string;
  method: 'password' | 'accessToken';
}

export class AccountFlows {
  constructor(
    private readonly mgr: AccountManager,
    private readonly actions: AccountActions,
    private readonly prompts: Prompts,
    private readonly progress: ProgressRunner,
    private readonly clipboard: ClipboardLike,
    private readonly log: AccountsLog,
  ) {}

  /** Server → discovery → login flows → password or existing token. Undefined when the user gave up. */
  async addAccount(prefillServer?: string): Promise<AccountView | undefined> {
    const serverInput = await this.prompts.inputBox({
      title: t('Add Matrix Account'),
      prompt: t('Homeserver name or URL'),
      placeHolder: t('example.org or https://matrix.example.org'),
      value: prefillServer,
      ignoreFocusOut: true,
      validateInput: serverInputProblem,
    });
    if (!serverInput) return undefined;
    return this.guard(t('Add Account'), undefined, async () => {
      const { server, hasPassword } = await this.progress.run(
        t('Contacting {0}…', serverInput.trim()),
        (signal) => this.actions.discover(serverInput, signal),
        { cancellable: true },
      );
      const method = await this.pickMethod(server.baseUrl, hasPassword, 'password');
      if (!method) return undefined;
      const view = method === 'password' ? await this.addWithPassword(server) : await this.addWithToken(server);
      if (view) void this.prompts.info(t('Signed in as {0} on {1}.', view.userId, server.baseUrl));
      return view;
    });
  }

  /** A new session for an existing entry, keeping its device. */
  async signInAgain(id: string): Promise<AccountView | undefined> {
    const m = this.mgr.account(id);
    if (!m) return undefined;
    return this.guard(t('Sign In Again'), id, async () => {
      const method = await this.pickMethod(m.homeserverUrl, true, m.signInMethod);
      if (!method) return undefined;
      let view: AccountView | undefined;
      if (method === 'password') {
        const password = await this.askPassword(m.userId);
        if (password === undefined) return undefined;
        view = await this.progress.run(
          t('Signing in {0} again…', m.userId),
          (signal) => this.actions.signInAgainWithPassword(id, password, signal),
          { cancellable: true },
        );
      } else {
        const tokens = await this.askTokens();
        if (!tokens) return undefined;
        view = await this.progress.run(
          t('Checking the access token…'),
          (signal) => this.actions.signInAgainWithAccessToken(id, tokens.accessToken, tokens.refreshToken, signal),
          { cancellable: true },
        );
      }
      void this.prompts.info(t('{0} is signed in again.', m.userId));
      return view;
    });
  }

  async removeAccount(id: string): Promise<boolean> {
    const m = this.mgr.account(id);
    if (!m) return false;
    const remove = t('Remove');
    const answer = await this.prompts.confirm(
      t('Remove the Matrix account {0}?', m.userId),
      t('Signs this session out on {0} when possible and deletes its tokens from this machine.', m.homeserverUrl),
      remove,
    );
    if (answer !== remove) return false;
    return (
      (await this.guard(t('Remove Account'), id, async () => {
        await this.progress.run(t('Removing {0}…', m.userId), (signal) => this.actions.remove(id, signal), { cancellable: true });
        return true;
      })) ?? false
    );
  }

  async signOut(id: string): Promise<boolean> {
    const m = this.mgr.account(id);
    if (!m) return false;
    return (
      (await this.guard(t('Sign Out'), id, async () => {
        try {
          await this.progress.run(t('Signing out {0}…', m.userId), (signal) => this.actions.signOut(id, { signal }), { cancellable: true });
        } catch (e) {
          if (!(e instanceof ServerLogoutFailedError)) throw e;
          this.log.warn(`Sign-out of ${m.userId} on the server failed: ${e.message}`);
          const forget = t('Forget Tokens');
          const answer = await this.prompts.warning(
            t(
              '{0} Forget the tokens on this machine anyway? The session then stays valid on the server until it expires.',
              describeError(e.cause),
            ),
            forget,
          );
          if (answer !== forget) return false;
          await this.actions.signOut(id, { forgetIfUnreachable: true });
        }
        void this.prompts.info(t('Signed out {0}.', m.userId));
        return true;
      })) ?? false
    );
  }

  async rotateNow(id: string): Promise<void> {
    const m = this.mgr.account(id);
    if (!m) return;
    await this.guard(t('Rotate Refresh Token Now'), id, async () => {
      await this.progress.run(t('Rotating the tokens of {0}…', m.userId), (signal) => this.mgr.rotateNow(id, signal), {
        cancellable: true,
      });
      const after = this.mgr.account(id);
      void this.prompts.info(
        t('Rotated the tokens of {0}; the new access token {1}.', m.userId, after ? describeExpiry(after, this.mgr.now()) : '?'),
      );
    });
  }

  async checkSession(id: string): Promise<void> {
    const m = this.mgr.account(id);
    if (!m) return;
    await this.guard(t('Check Session'), id, async () => {
      const me = await this.progress.run(t('Checking the session of {0}…', m.userId), (signal) => this.actions.checkSession(id, signal), {
        cancellable: true,
      });
      const after = this.mgr.account(id) ?? m;
      void this.prompts.info(
        t(
          '{0} is signed in on {1} (device {2}); the access token {3}.',
          me.userId,
          after.homeserverUrl,
          me.deviceId ?? t('unknown'),
          describeExpiry(after, this.mgr.now()),
        ),
      );
    });
  }

  /** Copies a token valid for at least a minute; the notification never shows it. */
  async copyAccessToken(id: string): Promise<void> {
    const m = this.mgr.account(id);
    if (!m) return;
    await this.guard(t('Copy Access Token'), id, async () => {
      const token = await this.progress.run(
        t('Getting a fresh access token for {0}…', m.userId),
        (signal) => this.mgr.getAccessToken(id, { minValidityMs: 60_000, signal }),
        { cancellable: true },
      );
      await this.clipboard.writeText(token);
      const after = this.mgr.account(id) ?? m;
      void this.prompts.info(
        t('Copied the access token of {0} to the clipboard; it {1}.', m.userId, describeExpiry(after, this.mgr.now())),
      );
    });
  }

  async setRefreshTokenLifetime(id: string): Promise<void> {
    const m = this.mgr.account(id);
    if (!m) return;
    const input = await this.prompts.inputBox({
      title: t('Refresh-Token Lifetime for {0}', m.userId),
      prompt: t(
        'Asks the server for this refresh-token lifetime (com.famedly.refresh_token_lifetime_ms), for example 10m, 2h or 1d. Leave empty to clear. Servers without support ignore it.',
      ),
      value: m.refreshTokenLifetimeMs === undefined ? '' : String(m.refreshTokenLifetimeMs),
      ignoreFocusOut: true,
      validateInput: (v) => {
        const parsed = parseLifetime(v);
        return 'error' in parsed ? parsed.error : undefined;
      },
    });
    if (input === undefined) return;
    const parsed = parseLifetime(input);
    if ('error' in parsed) return;
    await this.guard(t('Set Refresh-Token Lifetime'), id, async () => {
      await this.actions.setRefreshTokenLifetime(id, parsed.ms);
      const now = this.mgr.account(id);
      const rotate = t('Rotate Now');
      const canRotate = now?.displayState !== 'signedOut' && now?.displayState !== 'needsSignIn' && now?.token?.refreshable;
      const message =
        parsed.ms === undefined
          ? t('{0} no longer asks for a custom refresh-token lifetime.', m.userId)
          : t('{0} asks for a refresh-token lifetime of {1} from the next rotation or sign-in.', m.userId, formatDuration(parsed.ms));
      const answer = await (canRotate ? this.prompts.info(message, rotate) : this.prompts.info(message));
      if (answer === rotate) await this.rotateNow(id);
    });
  }

  async recheckAccounts(): Promise<void> {
    await this.guard(t('Refresh Accounts'), undefined, async () => {
      const summary = await this.progress.run(t('Checking Matrix accounts…'), (signal) => this.actions.recheckAll(signal), {
        cancellable: true,
      });
      if (summary.failed.length > 0) {
        const first = summary.failed[0];
        void this.prompts.warning(
          t(
            '{0} of {1} accounts could not be checked; first: {2}',
            summary.failed.length,
            summary.failed.length + summary.checked,
            first.message,
          ),
        );
      }
    });
  }

  /**
   * One sentence for the user with the errcode, details to the log. The end of
   * a session is announced by the manager's onSessionEnded, once, not here.
   */
  async reportError(action: string, accountId: string | undefined, e: unknown): Promise<void> {
    const who = accountId ? (this.mgr.account(accountId)?.userId ?? accountId) : undefined;
    this.log.error(`${action}${who ? ` (${who})` : ''} failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    if ((e instanceof RequestFailedError && e.kind === 'cancelled') || (e instanceof Error && e.name === 'AbortError')) return;
    if (e instanceof SessionEndedError) return;
    if (accountId && isMatrixError(e, 'M_UNKNOWN_TOKEN') && !e.softLogout && this.mgr.account(accountId)?.displayState === 'needsSignIn') {
      return;
    }
    if (e instanceof NoSessionError && accountId) {
      const signIn = t('Sign In Again');
      const answer = await this.prompts.error(t('{0} is not signed in.', who ?? accountId), signIn);
      if (answer === signIn) await this.signInAgain(accountId);
      return;
    }
    if (e instanceof StaleTokensError || e instanceof StaleSecretStoreError) {
      const reload = t('Reload Window');
      const answer = await this.prompts.error(e.message, reload);
      if (answer === reload) this.onReloadWindow?.();
      return;
    }
    const message =
      e instanceof NotRotatableError
        ? t('{0} has a non-expiring access token without a refresh token; there is nothing to rotate.', who ?? '')
        : describeError(e);
    const showLog = t('Show Log');
    const answer = await this.prompts.error(message, showLog);
    if (answer === showLog) this.onShowLog?.();
  }

  /** Set by the extension: opens the output channel. */
  onShowLog?: () => void;

  /** Set by the extension: reloads the window (a fresh copy of SecretStorage). */
  onReloadWindow?: () => void;

  private async guard<T>(action: string, accountId: string | undefined, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (e) {
      await this.reportError(action, accountId, e);
      return undefined;
    }
  }

  private async pickMethod(
    baseUrl: string,
    hasPassword: boolean,
    preferred: 'password' | 'accessToken',
  ): Promise<'password' | 'accessToken' | undefined> {
    const items: MethodItem[] = [];
    if (hasPassword) {
      items.push({
        label: t('Sign in with a password'),
        description: t('gets a refresh token when the server supports it'),
        method: 'password',
      });
    }
    items.push({
      label: t('Use an existing access token'),
      description: t('checked with whoami; a refresh token is optional'),
      method: 'accessToken',
    });
    items.sort((a, b) => (a.method === preferred ? -1 : b.method === preferred ? 1 : 0));
    const picked = await this.prompts.quickPick(items, {
      title: t('Sign in to {0}', baseUrl),
      placeHolder: hasPassword
        ? t('How do you want to sign in?')
        : t('{0} offers no password login (single sign-on or OAuth only); paste an access token instead.', baseUrl),
      ignoreFocusOut: true,
    });
    return picked?.method;
  }

  private async addWithPassword(server: DiscoveredHomeserver): Promise<AccountView | undefined> {
    const user = await this.prompts.inputBox({
      title: t('Sign in to {0}', server.baseUrl),
      prompt: t('User name or full user ID'),
      placeHolder: t('alice or @alice:{0}', server.serverName),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : t('Enter a user name.')),
    });
    if (!user) return undefined;
    const password = await this.askPassword(user.trim());
    if (password === undefined) return undefined;
    return this.progress.run(
      t('Signing in to {0}…', server.baseUrl),
      (signal) => this.actions.addWithPassword(server, user.trim(), password, signal),
      { cancellable: true },
    );
  }

  private async addWithToken(server: DiscoveredHomeserver): Promise<AccountView | undefined> {
    const tokens = await this.askTokens();
    if (!tokens) return undefined;
    return this.progress.run(
      t('Checking the access token…'),
      (signal) => this.actions.addWithAccessToken(server, tokens.accessToken, tokens.refreshToken, signal),
      { cancellable: true },
    );
  }

  private async askPassword(user: string): Promise<string | undefined> {
    const password = await this.prompts.inputBox({
      title: t('Password for {0}', user),
      prompt: t('Password'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v ? undefined : t('Enter the password.')),
    });
    return password || undefined;
  }

  private async askTokens(): Promise<{ accessToken: string; refreshToken?: string } | undefined> {
    const accessToken = await this.prompts.inputBox({
      title: t('Existing access token'),
      prompt: t('Access token (it is checked with whoami and stored only in the secret store)'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/^\S+$/.test(v.trim()) ? undefined : t('Paste the access token, without spaces.')),
    });
    if (!accessToken?.trim()) return undefined;
    const refreshToken = await this.prompts.inputBox({
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
