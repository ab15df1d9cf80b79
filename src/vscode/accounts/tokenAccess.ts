// Token access: the only way to an account's tokens in SecretStorage. Every
// token operation (hand out, rotate, store, forget, mark ended) passes through
// here and, when it writes, under the account's lock. A token is rotated (POST
// /refresh) by the core's TokenRotator (src/core/rotation.ts), which this wraps
// with what the account model needs to hear about: reachability, rotations,
// the end of a session.
import { isMatrixError, type MatrixApiError } from '../../core/errors';
import type { ExclusiveLock } from '../../core/fileLock';
import type { HttpRequester } from '../../core/http';
import { TokenRotator, type AccessOptions, type RotatableAccount } from '../../core/rotation';
import type { SessionTokens } from '../../core/session';
import { SecretTokenStore, type StoredSession, type UnreadableEntry } from './secretTokenStore';
import type { AccountMetadata, AccountsLog } from './types';
import type { SecretStorageLike } from '../ports';

/** What ended a session: the server refused the refresh token, or an ordinary call's access token. */
export type EndedBy = 'refresh' | 'call';

/** The account model, as token access reports to it. */
export interface TokenAccessHooks {
  require(id: string): AccountMetadata;
  noteReachability(id: string, error?: unknown): void;
  reload(id: string): Promise<void>;
  /** The generation of the entry the window last showed. */
  shownGeneration(id: string): string | undefined;
  /** A sign-out or removal is running: a session that turns out to be over is then no news. */
  isLeaving(id: string): boolean;
  rotated(id: string, tokens: SessionTokens): Promise<void>;
  ended(id: string, reason: MatrixApiError, expected: boolean, by: EndedBy): Promise<void>;
}

export interface TokenAccessOptions {
  secrets: SecretStorageLike;
  lock: ExclusiveLock;
  http: HttpRequester;
  log: AccountsLog;
  now: () => number;
  coherenceDir?: string;
  catchUpTimeoutMs?: number;
  retryDelaysMs?: number[];
  account: TokenAccessHooks;
  /** A secret entry this version cannot read (see SecretTokenStoreOptions.onUnreadable). */
  onUnreadable?: (id: string, why: UnreadableEntry) => void;
}

export class TokenAccess {
  private readonly store: SecretTokenStore;
  private readonly rotator: TokenRotator;
  private readonly account: TokenAccessHooks;

  constructor(private readonly options: TokenAccessOptions) {
    this.account = options.account;
    this.store = new SecretTokenStore(options.secrets, {
      coherenceDir: options.coherenceDir,
      log: options.log,
      catchUpTimeoutMs: options.catchUpTimeoutMs,
      onUnreadable: options.onUnreadable,
    });
    this.rotator = new TokenRotator({
      http: options.http,
      store: this.store,
      lock: options.lock,
      now: options.now,
      retryDelaysMs: options.retryDelaysMs,
      events: {
        onRotated: (id, tokens) => void this.account.rotated(id, tokens),
        // The rotator already marked the stored session ended, under the lock.
        onSessionEnded: (id, error) => void this.account.ended(id, error.reason, this.account.isLeaving(id), 'refresh'),
      },
    });
  }

  assertWritable(): Promise<void> {
    return this.store.assertWritable();
  }

  /** The stored entry, even of an ended session (for a best-effort server logout and for the tree). */
  read(id: string): Promise<StoredSession | undefined> {
    return this.store.read(id);
  }

  /** Usable tokens as stored right now; no rotation. */
  current(id: string): Promise<SessionTokens | undefined> {
    return this.store.get(id);
  }

  /** A new session (sign-in). */
  save(id: string, tokens: SessionTokens): Promise<void> {
    return this.options.lock.run(id, () => this.store.set(id, tokens));
  }

  forget(id: string): Promise<void> {
    return this.options.lock.run(id, () => this.store.delete(id));
  }

  async withAccessToken<T>(id: string, call: (accessToken: string) => Promise<T>, opts: AccessOptions = {}): Promise<T> {
    const m = this.account.require(id);
    let lastToken: string | undefined;
    try {
      const result = await this.rotator.withAccessToken(
        rotatable(m),
        (token) => {
          lastToken = token;
          return call(token);
        },
        opts,
      );
      this.account.noteReachability(id);
      return result;
    } catch (e) {
      this.account.noteReachability(id, e);
      if (isMatrixError(e, 'M_UNKNOWN_TOKEN') && !e.softLogout && lastToken !== undefined) {
        const used = lastToken;
        await this.endIfCurrent(id, e, (current) => current.accessToken === used);
      }
      throw e;
    }
  }

  async getAccessToken(id: string, opts: AccessOptions = {}): Promise<string> {
    const m = this.account.require(id);
    try {
      const token = await this.rotator.getAccessToken(rotatable(m), opts);
      this.account.noteReachability(id);
      return token;
    } catch (e) {
      this.account.noteReachability(id, e);
      throw e;
    }
  }

  async rotateNow(id: string, signal?: AbortSignal): Promise<SessionTokens> {
    const m = this.account.require(id);
    // What this window last showed: if the stored session moved on since
    // (another window rotated a moment ago), that rotation is the one asked for.
    const shown = this.account.shownGeneration(id);
    try {
      const stored = await this.store.read(id);
      const live = stored && !stored.ended ? stored : undefined;
      if (live && shown !== undefined && live.generation !== shown) {
        this.options.log.info(`The tokens of ${m.userId} were just rotated by another window; using those.`);
        this.account.noteReachability(id);
        await this.account.reload(id);
        return live.tokens;
      }
      const tokens = await this.rotate(m, { signal, seen: live?.tokens });
      this.account.noteReachability(id);
      await this.account.reload(id);
      return tokens;
    } catch (e) {
      this.account.noteReachability(id, e);
      throw e;
    }
  }

  /** One /refresh (or the one already running); `seen` is the token set the caller found wanting. */
  rotate(m: AccountMetadata, opts?: { seen?: SessionTokens; signal?: AbortSignal }): Promise<SessionTokens> {
    return this.rotator.rotate(rotatable(m), opts);
  }

  /**
   * Marks the session ended (tokens kept) if the stored tokens are still the
   * ones that failed, under the account's lock so a concurrent sign-in or a
   * rotation in another window is never overwritten.
   */
  private async endIfCurrent(id: string, reason: MatrixApiError, stillCurrent: (current: SessionTokens) => boolean): Promise<void> {
    const expected = this.account.isLeaving(id);
    const changed = await this.options.lock.run(id, async () => {
      const stored = await this.store.read(id);
      if (!stored || stored.ended || !stillCurrent(stored.tokens)) return false;
      await this.store.markEnded(id, reason, this.options.now());
      return true;
    });
    if (changed) await this.account.ended(id, reason, expected, 'call');
    else await this.account.reload(id);
  }
}

function rotatable(m: AccountMetadata): RotatableAccount {
  return { id: m.id, homeserverUrl: m.homeserverUrl, refreshTokenLifetimeMs: m.refreshTokenLifetimeMs };
}
