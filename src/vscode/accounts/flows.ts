// The conversations behind the account commands: which questions to ask, what
// runs under progress, what the user is told. Questions and notifications go
// through `Prompts` and progress through `ProgressRunner`, so this file needs
// only types from vscode and runs in plain Node with scripted answers.
import { describeError, isMatrixError, RequestFailedError } from '../../core/errors';
import { t } from '../../core/l10n';
import { NoSessionError, NotRotatableError, SessionEndedError, StaleTokensError } from '../../core/rotation';
import { StaleSecretStoreError } from '../coherentSecrets';
import type { ProgressRunner } from '../progress';
import type { Prompts } from '../prompts';
import type { AccountActions } from './actions';
import type * as AccountDialogsModule from './accountDialogs';
import type { AccountDialogs } from './accountDialogs';
import type { AccountManager } from './manager';
import type * as SignInFlowsModule from './signInFlows';
import type { FlowDeps, SignInFlows, SignInFlowOptions } from './signInFlows';
import type { AccountsLog, AccountView, ClipboardLike } from './types';

export class AccountFlows {
  /** `actions` is asked for on the first command that needs it: it is loaded on first use too (accounts/index.ts). */
  constructor(
    private readonly mgr: AccountManager,
    private readonly actions: () => AccountActions,
    private readonly prompts: Prompts,
    private readonly progress: ProgressRunner,
    private readonly clipboard: ClipboardLike,
    private readonly log: AccountsLog,
    private readonly options: SignInFlowOptions = {},
  ) {}

  private signInFlows: SignInFlows | undefined;
  private accountDialogs: AccountDialogs | undefined;
  private flowDeps: FlowDeps | undefined;

  private get deps(): FlowDeps {
    const { mgr, prompts, progress, clipboard, log } = this;
    return (this.flowDeps ??= {
      mgr,
      actions: this.actions(),
      prompts,
      progress,
      clipboard,
      log,
      guard: (action, id, run) => this.guard(action, id, run),
    });
  }

  // Adding an account and signing in again (password, OAuth, SSO, device
  // code), and the other account commands' dialogs, are loaded on first use:
  // esbuild.js emits them as dist/signInFlows.js and dist/accountDialogs.js,
  // so activating the extension reads neither. What decides on errors
  // (reportError) stays here, next to the classes it recognises.
  private get signIns(): SignInFlows {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
    return (this.signInFlows ??= new (require('./signInFlows') as typeof SignInFlowsModule).SignInFlows(this.deps, this.options));
  }

  /** Remove, Sign Out, Manage Account, Rotate Now, Check Session, Copy Access Token, the lifetime (accountDialogs.ts). */
  get dialogs(): AccountDialogs {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
    return (this.accountDialogs ??= new (require('./accountDialogs') as typeof AccountDialogsModule).AccountDialogs(this.deps));
  }

  /** Server → discovery → the way to sign in (signInFlows.ts). Undefined when the user gave up. */
  addAccount(prefillServer?: string): Promise<AccountView | undefined> {
    return this.signIns.addAccount(prefillServer);
  }

  /** A new session for an existing entry, keeping its device. */
  signInAgain(id: string): Promise<AccountView | undefined> {
    return this.signIns.signInAgain(id);
  }

  async recheckAccounts(): Promise<void> {
    await this.guard(t('Refresh Accounts'), undefined, async () => {
      const summary = await this.progress.run(t('Checking Matrix accounts…'), (signal) => this.actions().recheckAll(signal), {
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
}
