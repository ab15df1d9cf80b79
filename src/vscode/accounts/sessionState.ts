// Session state: what this window last read about each account's session
// (present, ended or absent; token times), whether its server is reachable,
// and how that shows (AccountView). No tokens and no I/O: the manager feeds it
// what it reads and fires the events this returns.
import { isTransientFailure, MatrixApiError } from '../../core/errors';
import { rotationDueAtFor, type RotationPolicy } from '../../core/rotation';
import { t } from '../../core/l10n';
import type { StoredSession } from './secretTokenStore';
import type { EndedBy } from './tokenAccess';
import type { AccountMetadata, AccountState, AccountView, SessionsChange, TokenFacts } from './types';

/** The token state of one account as last read from the secret store. */
interface Facts {
  generation?: string;
  usable: boolean;
  ended?: { at: number; errcode: string };
  token?: TokenFacts;
}

export interface SessionStateOptions {
  now: () => number;
  policy: () => RotationPolicy;
  nextCheckAt: (id: string) => number | undefined;
}

export class SessionStates {
  private readonly facts = new Map<string, Facts>();
  private readonly unreachable = new Map<string, string>();

  constructor(private readonly options: SessionStateOptions) {}

  /** The generation of the entry this window last showed. */
  shownGeneration(id: string): string | undefined {
    return this.facts.get(id)?.generation;
  }

  /** Records what was just read; says what changed for the session events and the tree. */
  update(id: string, known: boolean, stored: StoredSession | undefined): { sessions?: SessionsChange; repaint: boolean } {
    const before = this.facts.get(id);
    const after: Facts = stored
      ? {
          generation: stored.generation,
          usable: !stored.ended,
          ended: stored.ended,
          token: { issuedAt: stored.tokens.issuedAt, expiresAt: stored.tokens.expiresAt, refreshable: !!stored.tokens.refreshToken },
        }
      : { usable: false };
    if (known) this.facts.set(id, after);
    else this.facts.delete(id);
    const change: SessionsChange = { added: [], removed: [], changed: [] };
    const wasUsable = before?.usable ?? false;
    if (!wasUsable && after.usable) change.added.push(id);
    else if (wasUsable && !after.usable) change.removed.push(id);
    else if (wasUsable && after.usable && before?.generation !== after.generation) change.changed.push(id);
    const sessions = change.added.length || change.removed.length || change.changed.length ? change : undefined;
    return { sessions, repaint: before?.generation !== after.generation || before?.usable !== after.usable };
  }

  /** Unreachable after a transient failure, reachable again once the server answers. True when that changed. */
  noteReachability(id: string, error?: unknown): boolean {
    const before = this.unreachable.get(id);
    if (error !== undefined && isTransientFailure(error)) {
      this.unreachable.set(id, error instanceof Error ? error.message : String(error));
    } else if (error === undefined || error instanceof MatrixApiError) {
      this.unreachable.delete(id); // the server answered
    } else {
      return false;
    }
    return before !== this.unreachable.get(id);
  }

  clearReachability(id: string): void {
    this.unreachable.delete(id);
  }

  forget(id: string): void {
    this.facts.delete(id);
    this.unreachable.delete(id);
  }

  /** When the automatic rotation is due; undefined when there is nothing to rotate. */
  rotationDueAt(id: string): number | undefined {
    const f = this.facts.get(id);
    return f?.usable && f.token ? rotationDueAtFor(f.token, this.options.policy()) : undefined;
  }

  view(m: AccountMetadata): AccountView {
    const f = this.facts.get(m.id);
    return {
      ...m,
      displayState: this.displayState(m, f),
      token: f?.token,
      nextRotationAt: f?.usable ? this.options.nextCheckAt(m.id) : undefined,
      unreachableReason: this.unreachable.get(m.id),
    };
  }

  private displayState(m: AccountMetadata, f: Facts | undefined): AccountState {
    if (!f) return m.state; // not read yet
    if (f.ended) return 'needsSignIn';
    if (!f.usable) return 'signedOut';
    if (this.unreachable.has(m.id)) return 'unreachable';
    const expiresAt = f.token?.expiresAt;
    const margin = Math.max(60_000, this.options.policy().minMarginMs);
    if (expiresAt !== undefined && expiresAt - this.options.now() <= margin) return 'expiringSoon';
    return 'signedIn';
  }
}

/** What the user reads when a session ended by itself (not by signing out). */
export function sessionEndedMessage(userId: string, homeserverUrl: string | undefined, reason: MatrixApiError, by: EndedBy): string {
  const host = homeserverUrl ? new URL(homeserverUrl).host : userId;
  return by === 'call' && reason.errcode === 'M_UNKNOWN_TOKEN' && !reason.softLogout
    ? t(
        '{0}: {1} no longer knows this session (M_UNKNOWN_TOKEN); it was signed out elsewhere. Sign in again to keep using the account.',
        userId,
        host,
      )
    : t(
        '{0}: {1} refused the refresh token ({2}), so the session is over. Sign in again to keep using the account.',
        userId,
        host,
        reason.errcode,
      );
}
