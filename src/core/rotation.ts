// Token rotation that never logs anyone out by accident (shared/MATRIX-NOTES.md):
// - one /refresh per account at a time in this process (single flight) and
//   across processes (an ExclusiveLock), re-reading the store after taking the
//   lock so a rotation done by another window is adopted, not repeated;
// - new tokens are stored before anyone uses them, and the old refresh token is
//   only replaced by that store, so a lost answer is retried with it;
// - 401/403 from /refresh ends the session but deletes nothing.
// OAuth 2.0 sessions take the same path and only ask differently: the token
// endpoint with `grant_type=refresh_token`, from the grant stored with the
// tokens (no discovery), never /refresh. Their `invalid_grant` first re-reads
// the store (another window may hold newer tokens) before ending the session.
import { MatrixApiError, RequestFailedError, isTransientFailure } from './errors';
import type { ExclusiveLock } from './fileLock';
import { type HttpRequester, sleep } from './http';
import { t } from './l10n';
import { isOAuthError, refreshOAuthTokens } from './oauth';
import { requestRefresh, SessionTokens } from './session';

export interface TokenStore {
  /**
   * `forRotation`: the caller holds the lock and will send the refresh token. A
   * store that knows its copy is older than one another window wrote throws
   * StaleTokensError then: refreshing with a superseded token would end the
   * session for every window.
   */
  get(accountId: string, opts?: { forRotation?: boolean }): Promise<SessionTokens | undefined>;
  set(accountId: string, tokens: SessionTokens): Promise<void>;
  /**
   * Optional: records that the server refused the refresh token, so that
   * `get` stops handing the tokens out. Called while the lock is held: the
   * next holder (another window or process) then does not send the dead
   * refresh token again.
   */
  markEnded?(accountId: string, reason: MatrixApiError): Promise<void>;
}

/** What rotation needs to know about an account. */
export interface RotatableAccount {
  id: string;
  homeserverUrl: string;
  refreshTokenLifetimeMs?: number;
}

export class NoSessionError extends Error {
  readonly name = 'NoSessionError';
  constructor(readonly accountId: string) {
    super(t('{0} is not signed in; use Sign In Again.', accountId));
  }
}

export class NotRotatableError extends Error {
  readonly name = 'NotRotatableError';
  constructor(readonly accountId: string) {
    super(
      t(
        'The session of {0} has no refresh token (the server issued a non-expiring access token), so there is nothing to rotate.',
        accountId,
      ),
    );
  }
}

/** The server refused the refresh token: only a new sign-in helps. Tokens and account are kept. */
export class SessionEndedError extends Error {
  readonly name = 'SessionEndedError';
  constructor(
    readonly accountId: string,
    readonly reason: MatrixApiError,
  ) {
    super(t('The session of {0} has ended ({1}: {2}); sign in again.', accountId, reason.errcode, reason.error || String(reason.status)));
  }
}

/**
 * This process cannot see the tokens another process stored (VS Code for the
 * Web keeps a per-window copy of SecretStorage that never catches up), so it
 * must not rotate with the copy it has. Nothing was sent; the session is kept.
 */
export class StaleTokensError extends Error {
  readonly name = 'StaleTokensError';
  constructor(readonly accountId: string) {
    super(
      t(
        'Another VS Code window has newer tokens for {0} than this window can see, so this window did not rotate them (that would sign every window out). Reload this window to pick up the new tokens; the session is kept.',
        accountId,
      ),
    );
  }
}

export interface RotationPolicy {
  /** Rotate once this fraction of the access token's lifetime has passed. */
  lifetimeFraction: number;
  /** …and no later than this long before it expires. */
  minMarginMs: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = { lifetimeFraction: 2 / 3, minMarginMs: 30_000 };

/** When these tokens should be rotated proactively; undefined when they never expire. */
export function rotationDueAt(tokens: SessionTokens, policy: RotationPolicy = DEFAULT_ROTATION_POLICY): number | undefined {
  return rotationDueAtFor({ issuedAt: tokens.issuedAt, expiresAt: tokens.expiresAt, refreshable: !!tokens.refreshToken }, policy);
}

/** The same from the token times alone (what a window shows, without the token strings). */
export function rotationDueAtFor(
  timing: { issuedAt: number; expiresAt?: number; refreshable: boolean },
  policy: RotationPolicy = DEFAULT_ROTATION_POLICY,
): number | undefined {
  if (timing.expiresAt === undefined || !timing.refreshable) return undefined;
  const lifetime = timing.expiresAt - timing.issuedAt;
  const byFraction = timing.issuedAt + lifetime * policy.lifetimeFraction;
  return Math.max(timing.issuedAt, Math.min(byFraction, timing.expiresAt - usableMargin(policy.minMarginMs, lifetime)));
}

/**
 * How long before expiry a token counts as "about to expire": the margin asked
 * for, but at most half the token's lifetime. A server that issues tokens
 * shorter-lived than the margin (a 2-s token never has 60 s left) would
 * otherwise have every fresh token rotated at once, on every call and on every
 * timer: one /refresh per request instead of one per half lifetime.
 */
export function usableMargin(marginMs: number, lifetimeMs: number): number {
  return Math.min(marginMs, Math.max(0, lifetimeMs) / 2);
}

export interface RotatorEvents {
  /** New tokens were stored by this process. */
  onRotated?(accountId: string, tokens: SessionTokens): void;
  onSessionEnded?(accountId: string, error: SessionEndedError): void;
}

export interface TokenRotatorOptions {
  http: HttpRequester;
  store: TokenStore;
  lock: ExclusiveLock;
  now?: () => number;
  /** Back-off between attempts after a network failure; attempts = length + 1. */
  retryDelaysMs?: number[];
  events?: RotatorEvents;
}

export interface AccessOptions {
  /** Rotate first when the access token expires within this time (at most half its lifetime, see usableMargin). Default 60 s. */
  minValidityMs?: number;
  signal?: AbortSignal;
}

export class TokenRotator {
  private readonly inFlight = new Map<string, Promise<SessionTokens>>();
  private readonly now: () => number;
  private readonly retryDelaysMs: number[];

  constructor(private readonly options: TokenRotatorOptions) {
    this.now = options.now ?? Date.now;
    this.retryDelaysMs = options.retryDelaysMs ?? [500, 1_000, 2_000, 4_000];
  }

  /** A valid access token, rotating first when it is about to expire. */
  async getAccessToken(account: RotatableAccount, opts: AccessOptions = {}): Promise<string> {
    const tokens = await this.options.store.get(account.id);
    if (!tokens) throw new NoSessionError(account.id);
    if (tokens.expiresAt === undefined || !tokens.refreshToken) return tokens.accessToken;
    const minValidityMs = usableMargin(opts.minValidityMs ?? 60_000, tokens.expiresAt - tokens.issuedAt);
    if (tokens.expiresAt - this.now() > minValidityMs) {
      return tokens.accessToken;
    }
    return (await this.rotate(account, { seen: tokens, signal: opts.signal })).accessToken;
  }

  /**
   * Rotates now. `seen` is the token set the caller found wanting; if the store
   * holds a different one by the time we own the lock, someone else rotated and
   * that result is returned instead of refreshing again.
   */
  rotate(account: RotatableAccount, opts: { seen?: SessionTokens; signal?: AbortSignal } = {}): Promise<SessionTokens> {
    const running = this.inFlight.get(account.id);
    if (running) return running;
    const flight = this.rotateExclusively(account, opts.seen, opts.signal).finally(() => this.inFlight.delete(account.id));
    this.inFlight.set(account.id, flight);
    return flight;
  }

  /**
   * Runs an authenticated call. On 401 `M_UNKNOWN_TOKEN` with `soft_logout: true`
   * it rotates once and retries once; on any 401 `M_UNKNOWN_TOKEN` for a token
   * that was replaced meanwhile it retries once with the current one; any
   * other answer goes to the caller.
   */
  async withAccessToken<T>(account: RotatableAccount, call: (accessToken: string) => Promise<T>, opts: AccessOptions = {}): Promise<T> {
    const token = await this.getAccessToken(account, opts);
    try {
      return await call(token);
    } catch (e) {
      if (!(e instanceof MatrixApiError && e.errcode === 'M_UNKNOWN_TOKEN')) throw e;
      const current = await this.options.store.get(account.id);
      // Rotated meanwhile (here or in another window). Once the new token is
      // used the server may drop the old one outright, without soft_logout,
      // so this retry does not depend on the flag.
      if (current && current.accessToken !== token) return call(current.accessToken);
      if (!e.softLogout || !current?.refreshToken) throw e;
      const fresh = await this.rotate(account, { seen: current, signal: opts.signal });
      return call(fresh.accessToken);
    }
  }

  private async rotateExclusively(
    account: RotatableAccount,
    seen: SessionTokens | undefined,
    signal?: AbortSignal,
  ): Promise<SessionTokens> {
    const before = seen ?? (await this.options.store.get(account.id));
    return this.options.lock.run(
      account.id,
      async () => {
        const current = await this.options.store.get(account.id, { forRotation: true });
        if (!current) throw new NoSessionError(account.id);
        if (before && current.accessToken !== before.accessToken) return current; // another window got there first
        if (!current.refreshToken) throw new NotRotatableError(account.id);
        const { tokens: fresh, adopted } = await this.refreshWithRetries(account, current, current.refreshToken, signal);
        if (adopted) return fresh;
        // Stored before anyone can use it: once A1/R1 is used, the old refresh token is dead.
        await this.options.store.set(account.id, fresh);
        this.options.events?.onRotated?.(account.id, fresh);
        return fresh;
      },
      signal,
    );
  }

  /** One rotation code path, two ways to ask the server. */
  private requestNewTokens(
    account: RotatableAccount,
    current: SessionTokens,
    refreshToken: string,
    signal?: AbortSignal,
  ): Promise<SessionTokens> {
    if (current.oauth) return refreshOAuthTokens(this.options.http, current.oauth, refreshToken, { signal, now: this.now });
    return requestRefresh(this.options.http, account.homeserverUrl, refreshToken, {
      refreshTokenLifetimeMs: account.refreshTokenLifetimeMs,
      signal,
      now: this.now,
    });
  }

  /** `adopted`: the store already held newer tokens (written by another window or process). */
  private async refreshWithRetries(
    account: RotatableAccount,
    current: SessionTokens,
    refreshToken: string,
    signal?: AbortSignal,
  ): Promise<{ tokens: SessionTokens; adopted?: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { tokens: await this.requestNewTokens(account, current, refreshToken, signal) };
      } catch (e) {
        if (current.oauth && isOAuthError(e, 'invalid_grant')) {
          // Another window or process may have rotated without our lock seeing it: its tokens are the session now.
          const latest = await this.options.store.get(account.id);
          if (latest && latest.accessToken !== current.accessToken) return { tokens: latest, adopted: true };
        }
        if (
          e instanceof MatrixApiError &&
          (e.status === 401 ||
            e.status === 403 ||
            (current.oauth !== undefined && isOAuthError(e, 'invalid_grant', 'invalid_client', 'unauthorized_client')))
        ) {
          const ended = new SessionEndedError(account.id, e);
          await this.options.store.markEnded?.(account.id, e);
          this.options.events?.onSessionEnded?.(account.id, ended);
          throw ended;
        }
        // The spec keeps the old refresh token valid until the new tokens are
        // used, so after a lost answer the same request is safe to repeat.
        const delay = this.retryDelaysMs[attempt];
        if (!isTransientFailure(e) || delay === undefined || signal?.aborted) throw e;
        const wait = e instanceof MatrixApiError && e.retryAfterMs !== undefined ? Math.max(delay, e.retryAfterMs) : delay;
        await sleep(wait, signal).catch(() => {
          throw new RequestFailedError(
            'cancelled',
            t('Token rotation for {0} was cancelled; the current tokens are kept.', account.id),
            account.homeserverUrl,
          );
        });
      }
    }
  }
}
