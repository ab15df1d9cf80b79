// Wires the accounts feature into VS Code: storage, lock, log, tree, commands,
// the `matrix` AuthenticationProvider. The logic imports no vscode at run time:
// flows.ts (what a command asks and says) → actions.ts (sign in, sign out,
// recheck) → manager.ts (the accounts and their state), which hands token work
// to tokenAccess.ts (SecretStorage, the lock, core/rotation.ts's TokenRotator)
// and display state to sessionState.ts; scheduler.ts rotates before expiry.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { FileLock } from '../../core/fileLock';
import { t } from '../../core/l10n';
import { MatrixAuthenticationProvider } from '../auth/provider';
import { lockDirOf } from '../coherentSecrets';
import { ContextKeys } from '../contextKeys';
import type { FeatureDeps } from '../deps';
import { Log } from '../log';
import { setListenerErrorHandler } from '../ports';
import { notificationProgress } from '../progress';
import { config, createHttpClient, rotationPolicy } from '../settings';
import type * as AccountActionsModule from './actions';
import type { AccountActions } from './actions';
import { AccountFlows } from './flows';
import { AccountManager } from './manager';
import { METADATA_KEY } from './metadataStore';
import { secretKeyFor } from './secretTokenStore';
import { SwitchableHttpClient } from './switchableHttp';
import { accountContextKeys, accountIdOf } from './palette';
import { pickAccount, type AccountNeed, type AccountPickerDeps } from './picker';
import { AccountsTreeProvider, type AccountNode, type RenderedTreeItem } from './treeProvider';
import type { AccountView } from './types';
import { showUnreadableData } from './unreadable';

export interface AccountSummary {
  userId: string;
  homeserverUrl: string;
}

/**
 * Internal, for the extension's own host test suite: no token strings except
 * the clearly named one. A type alias (not an interface) so it fits the
 * `Record<string, unknown>` slot of the internal API.
 */
export type AccountsTestApi = {
  listAccounts(): AccountView[];
  treeItems(): RenderedTreeItem[];
  logLines(): string[];
  /** Secret keys this feature has entries under right now, for the listed accounts and for `alsoAccountIds` (e.g. removed ones). */
  secretKeys(alsoAccountIds?: string[]): Promise<string[]>;
  /** The feature's globalState entries, as JSON text. */
  globalStateText(): string;
  /** The extension's globalState keys (names only), to tell a lost entry from a store that did not load. */
  globalStateKeys(): readonly string[];
  rotateNow(accountId: string): Promise<void>;
  /** Re-reads storage (as after another window wrote). */
  reload(): Promise<void>;
  /** Internal: the current access token (rotated first when near expiry). Never for UI. */
  internalGetAccessTokenForTest(accountId: string): Promise<string>;
  /** The palette's context keys as this feature last set them. */
  contextKeys(): Record<string, boolean>;
};

export interface AccountsFeature {
  /** Signed-in accounts, for features that need "a picked account's homeserver". */
  list(): AccountSummary[];
  /** Internal, for the host test suite. */
  testApi: AccountsTestApi;
}

export function registerAccounts(deps: FeatureDeps): AccountsFeature {
  const { context, prompts } = deps;
  const log = new Log('Matrix');
  // A failing listener must not stop the others, nor vanish: it goes to the log (redacted).
  setListenerErrorHandler((e) => log.error(t('An internal event listener failed: {0}', describeError(e))));
  const http = new SwitchableHttpClient(createHttpClient(log));
  const lockDir = lockDirOf(context);
  const manager = new AccountManager({
    secrets: deps.secrets,
    memento: context.globalState,
    lock: new FileLock(lockDir),
    coherenceDir: lockDir,
    http,
    log,
    settings: { autoRotate: () => config().get<boolean>('autoRotate', true), rotationPolicy },
  });
  // Signing in and out, checking sessions: dist/accountActions.js, loaded with the first command that needs it.
  let loadedActions: AccountActions | undefined;
  const actions = () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
    (loadedActions ??= new (require('./actions') as typeof AccountActionsModule).AccountActions(manager, {
      http,
      log,
      deviceDisplayName: `Matrix DevTools (${vscode.env.appName})`,
    }));
  // In a remote or web window the browser cannot come back to a loopback listener in this extension host.
  const remoteWindow = vscode.env.remoteName !== undefined || vscode.env.uiKind === vscode.UIKind.Web;
  const flows = new AccountFlows(manager, actions, prompts, notificationProgress, vscode.env.clipboard, log, { remoteWindow });
  flows.onShowLog = () => log.show(false);
  flows.onReloadWindow = () => void vscode.commands.executeCommand('workbench.action.reloadWindow');
  const tree = new AccountsTreeProvider(manager);
  const view = vscode.window.createTreeView('matrixDevtools.accounts', { treeDataProvider: tree, showCollapseAll: true });

  const signInAgain = t('Sign In Again');
  const picker: AccountPickerDeps = {
    accounts: () => manager.accounts(),
    prompts,
    now: Date.now,
    addAccount: () => flows.addAccount(),
    signInAgain: (id) => flows.signInAgain(id),
  };
  // From a tree item, an id (tests, other commands, keybindings with args), or asked.
  const byItem = (need: AccountNeed, title: string, run: (id: string) => Promise<unknown>) => async (arg?: AccountNode | string) => {
    const id = await accountIdOf(
      arg,
      (known) => manager.account(known) !== undefined,
      () => pickAccount(picker, { need, title }),
    );
    if (id) await run(id);
  };
  // The commands that act on one account: from its tree item, an id, or a quick pick of the accounts that qualify.
  const accountCommands: Array<[string, AccountNeed, string, (id: string) => Promise<unknown>]> = [
    ['matrixDevtools.removeAccount', 'any', t('Remove Account'), (id) => flows.dialogs.removeAccount(id)],
    ['matrixDevtools.signOut', 'signedIn', t('Sign Out'), (id) => flows.dialogs.signOut(id)],
    ['matrixDevtools.signInAgain', 'any', signInAgain, (id) => flows.signInAgain(id)],
    ['matrixDevtools.rotateToken', 'rotatable', t('Rotate Refresh Token Now'), (id) => flows.dialogs.rotateNow(id)],
    ['matrixDevtools.checkSession', 'signedIn', t('Check Session'), (id) => flows.dialogs.checkSession(id)],
    ['matrixDevtools.copyAccessToken', 'signedIn', t('Copy Access Token'), (id) => flows.dialogs.copyAccessToken(id)],
    ['matrixDevtools.setRefreshTokenLifetime', 'any', t('Set Refresh-Token Lifetime'), (id) => flows.dialogs.setRefreshTokenLifetime(id)],
    ['matrixDevtools.manageAccount', 'manageable', t('Manage Account'), (id) => flows.dialogs.manageAccount(id)],
  ];
  const contextKeys = new ContextKeys((key, value) => vscode.commands.executeCommand('setContext', key, value));
  const updateContextKeys = () => contextKeys.update(accountContextKeys(manager.accounts()));
  updateContextKeys();

  context.subscriptions.push(
    log,
    manager,
    tree,
    view,
    MatrixAuthenticationProvider.register(manager, flows, log),
    vscode.commands.registerCommand('matrixDevtools.addAccount', (server?: string) =>
      flows.addAccount(typeof server === 'string' ? server : undefined),
    ),
    ...accountCommands.map(([command, need, title, run]) => vscode.commands.registerCommand(command, byItem(need, title, run))),
    vscode.commands.registerCommand('matrixDevtools.refreshAccounts', () => flows.recheckAccounts()),
    vscode.commands.registerCommand('matrixDevtools.showLog', () => log.show(false)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('matrixDevtools.requestTimeoutSeconds') || e.affectsConfiguration('matrixDevtools.allowInsecureHttp')) {
        http.switchTo(createHttpClient(log));
      }
      if (e.affectsConfiguration('matrixDevtools.autoRotate') || e.affectsConfiguration('matrixDevtools.rotation')) manager.rearmAll();
    }),
  );
  const ended = manager.onSessionEnded(async (e) => {
    // Told once: the manager fires this only for the window that found the session over.
    const answer = await prompts.warning(e.message, signInAgain);
    if (answer === signInAgain) await flows.signInAgain(e.accountId);
  });
  const unreadable = showUnreadableData(manager.onUnreadableData, prompts.warning, (id) => flows.signInAgain(id));
  const changed = manager.onDidChange(updateContextKeys);
  context.subscriptions.push(
    { dispose: () => ended.dispose() },
    { dispose: () => unreadable.dispose() },
    { dispose: () => changed.dispose() },
  );
  void manager.load();

  return {
    list: () =>
      manager
        .accounts()
        .filter((a) => a.displayState !== 'signedOut' && a.displayState !== 'needsSignIn')
        .map((a) => ({ userId: a.userId, homeserverUrl: a.homeserverUrl })),
    testApi: {
      listAccounts: () => manager.accounts(),
      treeItems: () => tree.render(),
      logLines: () => [...log.lines],
      secretKeys: async (alsoAccountIds = []) => {
        const keys = [...new Set([...manager.accounts().map((a) => a.id), ...alsoAccountIds])].map(secretKeyFor);
        const present = await Promise.all(keys.map(async (k) => ((await context.secrets.get(k)) === undefined ? undefined : k)));
        return present.filter((k): k is string => k !== undefined);
      },
      globalStateText: () => JSON.stringify(context.globalState.get(METADATA_KEY) ?? []),
      globalStateKeys: () => context.globalState.keys(),
      rotateNow: async (id) => {
        await manager.rotateNow(id);
      },
      reload: () => manager.load(),
      internalGetAccessTokenForTest: (id) => manager.getAccessToken(id),
      contextKeys: () => contextKeys.snapshot(),
    },
  };
}
