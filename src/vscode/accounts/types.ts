// The account model's own types and options; the host interfaces it talks to
// instead of `vscode` (SecretStorage, Memento, events) are in ../ports.ts.
import type { ExclusiveLock } from '../../core/fileLock';
import type { HttpRequester, HttpLogEntry } from '../../core/http';
import type { RotationPolicy } from '../../core/rotation';
import type { DisposableLike, MementoLike, SecretStorageLike } from '../ports';

/** What the model writes to the output channel (implemented by `Log`). */
export interface AccountsLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  request(entry: HttpLogEntry): void;
}

export interface AccountsSettings {
  autoRotate(): boolean;
  rotationPolicy(): RotationPolicy;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): DisposableLike;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    // A pending rotation must not keep a CLI or test process alive.
    handle.unref?.();
    return { dispose: () => clearTimeout(handle) };
  },
};

/** What a session is, as the user sees it. */
export type AccountState = 'signedIn' | 'expiringSoon' | 'needsSignIn' | 'signedOut' | 'unreachable';

/** The persisted part of the state (the rest is derived at run time). */
export type StoredSessionState = 'signedIn' | 'needsSignIn' | 'signedOut';

/** Non-secret facts about an account, kept in globalState. Never a token. */
export interface AccountMetadata {
  id: string;
  userId: string;
  homeserverUrl: string;
  /** What the user typed (server name or URL), for Sign In Again and the auth provider's scopes. */
  serverName: string;
  deviceId: string;
  displayName?: string;
  specVersions: string[];
  /**
   * How the session was obtained: a password login, OAuth 2.0 (browser or
   * code; the grant is stored with the tokens), legacy single sign-on
   * (m.login.token), or a pasted access token.
   */
  signInMethod: 'password' | 'accessToken' | 'oauth' | 'sso';
  /** OAuth 2.0: the server's account page (`account_management_uri`) and the actions it lists. */
  accountManagement?: { uri: string; actions?: string[] };
  state: StoredSessionState;
  addedAt: number;
  lastRotationAt?: number;
  /** `com.famedly.refresh_token_lifetime_ms`, sent only when set. */
  refreshTokenLifetimeMs?: number;
}

/** The token facts the UI may show: times and flags, never a token string. */
export interface TokenFacts {
  expiresAt?: number;
  issuedAt: number;
  refreshable: boolean;
}

/** One account as the UI and the host test suite see it. */
export interface AccountView extends AccountMetadata {
  /** Derived: stored state, then unreachable, then expiringSoon. */
  displayState: AccountState;
  token?: TokenFacts;
  /** When automatic rotation will next look at this account. */
  nextRotationAt?: number;
  /** Last transient failure (one sentence), while the account is unreachable. */
  unreachableReason?: string;
}

export interface SessionsChange {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface AccountManagerOptions {
  secrets: SecretStorageLike;
  memento: MementoLike;
  lock: ExclusiveLock;
  http: HttpRequester;
  log: AccountsLog;
  settings?: AccountsSettings;
  /** Folder shared by all windows (the lock folder), for the cross-window catch-up markers. */
  coherenceDir?: string;
  now?: () => number;
  timers?: Timers;
  /** Back-off between /refresh attempts after a network failure. */
  retryDelaysMs?: number[];
  schedulerMaxWaitMs?: number;
  schedulerBackoffMs?: number[];
  catchUpTimeoutMs?: number;
}

/** Stored data this version cannot read: the account (if it is one account's tokens) and one sentence for the user. */
export interface UnreadableDataEvent {
  accountId?: string;
  message: string;
}

export interface SessionEndedEvent {
  accountId: string;
  userId: string;
  /** One sentence for the user. */
  message: string;
}

/** Waits through injected timers; dispose settles every pending wait at once, firing nothing. */
export class Waits implements DisposableLike {
  private readonly pending = new Set<() => void>();
  private disposed = false;

  constructor(private readonly timers: Timers) {}

  wait(ms: number): Promise<void> {
    // A wait asked for after dispose (an event handler still finishing) would
    // leave its timer running for `ms`, with nobody left to settle it early.
    if (this.disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => settle(), ms);
      const settle = () => {
        timer.dispose();
        this.pending.delete(settle);
        resolve();
      };
      this.pending.add(settle);
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const settle of [...this.pending]) settle();
  }
}

/** Where Copy Access Token writes (vscode.env.clipboard). */
export interface ClipboardLike {
  writeText(text: string): Thenable<void>;
}
