// What the `matrix` AuthenticationProvider hands to other extensions, without
// vscode: which accounts match the requested scopes, and sessions whose access
// token is fresh (rotated first when it is about to expire).
import type { AccountManager } from '../accounts/manager';
import type { AccountsLog, AccountView } from '../accounts/types';

/** Same shape as vscode.AuthenticationSession. */
export interface MatrixSession {
  readonly id: string;
  readonly accessToken: string;
  readonly account: { readonly id: string; readonly label: string };
  readonly scopes: readonly string[];
}

/** A token handed out must stay valid this long; otherwise it is rotated first. */
export const SESSION_MIN_VALIDITY_MS = 60_000;

/**
 * Scopes are homeserver names or URLs ("example.org", "https://matrix.example.org")
 * and, optionally, user ids ("@alice:example.org"). An account matches when it
 * matches every homeserver scope and every user scope given.
 */
export function accountMatchesScopes(
  a: Pick<AccountView, 'homeserverUrl' | 'serverName' | 'userId'>,
  scopes: readonly string[] | undefined,
): boolean {
  for (const raw of scopes ?? []) {
    const scope = raw.trim();
    if (!scope) continue;
    if (scope.startsWith('@')) {
      if (scope !== a.userId) return false;
      continue;
    }
    if (!matchesHomeserver(a, scope)) return false;
  }
  return true;
}

function matchesHomeserver(a: Pick<AccountView, 'homeserverUrl' | 'serverName' | 'userId'>, scope: string): boolean {
  const wanted = normalize(scope);
  if (!wanted) return false;
  const base = normalize(a.homeserverUrl);
  if (base && (wanted.href === base.href || (!wanted.explicitScheme && wanted.host === base.host))) return true;
  // The server name the user typed, or the one in the user id ("@alice:example.org").
  const names = [a.serverName, a.userId.slice(a.userId.indexOf(':') + 1)].map((n) => n.toLowerCase());
  return !wanted.explicitScheme && wanted.pathless && names.includes(wanted.host);
}

function normalize(text: string): { href: string; host: string; explicitScheme: boolean; pathless: boolean } | undefined {
  const explicitScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  try {
    const url = new URL(explicitScheme ? text : `https://${text}`);
    const path = url.pathname.replace(/\/+$/, '');
    return {
      href: `${url.protocol}//${url.host}${path}`.toLowerCase(),
      host: url.host.toLowerCase(),
      explicitScheme,
      pathless: path === '',
    };
  } catch {
    return undefined;
  }
}

export class MatrixSessions {
  constructor(
    private readonly mgr: AccountManager,
    private readonly log: AccountsLog,
  ) {}

  /** Sessions of signed-in accounts matching the scopes, each with a fresh token. */
  async getSessions(scopes: readonly string[] | undefined, accountLabel?: string): Promise<MatrixSession[]> {
    const candidates = this.mgr
      .accounts()
      .filter((a) => a.token !== undefined && a.displayState !== 'signedOut' && a.displayState !== 'needsSignIn')
      .filter((a) => accountMatchesScopes(a, scopes))
      .filter((a) => accountLabel === undefined || a.userId === accountLabel);
    const sessions = await Promise.all(candidates.map((a) => this.freshSession(a, scopes)));
    return sessions.filter((s): s is MatrixSession => s !== undefined);
  }

  /** A session for one account with a fresh token, or undefined when it has none. */
  async freshSession(a: AccountView, scopes?: readonly string[]): Promise<MatrixSession | undefined> {
    try {
      const accessToken = await this.mgr.getAccessToken(a.id, { minValidityMs: SESSION_MIN_VALIDITY_MS });
      return sessionOf(a, accessToken, scopes);
    } catch (e) {
      this.log.warn(`No session for ${a.userId} handed out: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /** The session as stored right now (no rotation): for change events. */
  async storedSession(id: string): Promise<MatrixSession | undefined> {
    const a = this.mgr.account(id);
    const accessToken = a && (await this.mgr.storedAccessToken(id));
    return a && accessToken ? sessionOf(a, accessToken) : undefined;
  }
}

/** Scopes of a session: those asked for, or the homeserver URL. */
export function sessionOf(
  a: AccountView | { id: string; userId: string; homeserverUrl: string },
  accessToken: string,
  scopes?: readonly string[],
): MatrixSession {
  return {
    id: a.id,
    accessToken,
    account: { id: a.userId, label: a.userId },
    scopes: scopes && scopes.length > 0 ? [...scopes] : [a.homeserverUrl],
  };
}
