// Adapter: the `matrix` AuthenticationProvider. Other extensions call
// vscode.authentication.getSession('matrix', [<homeserver>], { createIfNone })
// and get a session whose access token is fresh.
import * as vscode from 'vscode';
import { t } from '../../core/l10n';
import type { AccountFlows } from '../accounts/flows';
import type { AccountManager } from '../accounts/manager';
import type { AccountsLog, SessionsChange } from '../accounts/types';
import { accountIdParts } from '../accounts/accountId';
import { Disposable } from '../ports';
import { MatrixSessions, sessionOf, type MatrixSession } from './sessions';

export const AUTH_PROVIDER_ID = 'matrix';

export class MatrixAuthenticationProvider extends Disposable implements vscode.AuthenticationProvider {
  private readonly emitter = this._register(new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>());
  readonly onDidChangeSessions = this.emitter.event;
  private readonly sessions: MatrixSessions;
  /** Last known session per account, so a removal can name what was removed. */
  private readonly known = new Map<string, MatrixSession>();

  constructor(
    private readonly mgr: AccountManager,
    private readonly flows: AccountFlows,
    log: AccountsLog,
  ) {
    super();
    this.sessions = new MatrixSessions(mgr, log);
    this._register(mgr.onDidChangeSessions((change) => void this.forward(change)));
  }

  static register(mgr: AccountManager, flows: AccountFlows, log: AccountsLog): vscode.Disposable {
    const provider = new MatrixAuthenticationProvider(mgr, flows, log);
    return vscode.Disposable.from(
      provider,
      vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, t('Matrix'), provider, { supportsMultipleAccounts: true }),
    );
  }

  async getSessions(
    scopes: readonly string[] | undefined,
    options?: vscode.AuthenticationProviderSessionOptions,
  ): Promise<vscode.AuthenticationSession[]> {
    const sessions = await this.sessions.getSessions(scopes, options?.account?.label);
    for (const s of sessions) this.known.set(s.id, s);
    return sessions;
  }

  /** Runs Add Account, prefilled with the homeserver from the scopes. */
  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const homeserver = scopes.find((s) => s.trim() && !s.startsWith('@'));
    const view = await this.flows.addAccount(homeserver);
    if (!view) throw new Error(t('Signing in to Matrix was cancelled.'));
    const session = await this.sessions.freshSession(view, scopes);
    if (!session) throw new Error(t('Signed in as {0}, but no access token is available; see the Matrix log.', view.userId));
    this.known.set(session.id, session);
    return session;
  }

  /** Signs the account out (the entry stays, as in the Accounts view). */
  async removeSession(sessionId: string): Promise<void> {
    if (!this.mgr.account(sessionId)) return;
    const done = await this.flows.dialogs.signOut(sessionId);
    if (!done) throw new Error(t('Signing out of Matrix did not complete.'));
  }

  private async forward(change: SessionsChange): Promise<void> {
    const added = await this.collect(change.added);
    const changed = await this.collect(change.changed);
    const removed = change.removed.map((id) => {
      const last = this.known.get(id);
      this.known.delete(id);
      const a = this.mgr.account(id);
      // The token is gone; consumers only need the id and account.
      return last ? { ...last, accessToken: '' } : sessionOf(a ?? { id, ...accountIdParts(id) }, '');
    });
    if (added.length || changed.length || removed.length) this.emitter.fire({ added, removed, changed });
  }

  private async collect(ids: string[]): Promise<vscode.AuthenticationSession[]> {
    const out: vscode.AuthenticationSession[] = [];
    for (const id of ids) {
      const s = await this.sessions.storedSession(id);
      if (s) {
        this.known.set(id, s);
        out.push(s);
      }
    }
    return out;
  }
}
