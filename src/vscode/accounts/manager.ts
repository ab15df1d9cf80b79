// The account model: which accounts exist, what state their sessions are in,
// and every operation on them. No `vscode` import: the extension wraps it in
// thin adapters and the unit tests run it in plain Node, two instances sharing
// one SecretStorage and one lock folder standing in for two VS Code windows.
//
// The secret entry is the source of truth for a session (present, ended, or
// absent); its change events, which VS Code delivers to every window, drive
// the session events, the timers and the tree.
import { isMatrixError, isTransientFailure, MatrixApiError } from '../../core/errors';
import type { ExclusiveLock } from '../../core/fileLock';
import type { HttpClient } from '../../core/http';
import { DEFAULT_ROTATION_POLICY, rotationDueAt, SessionEndedError, TokenRotator, type RotatableAccount } from '../../core/rotation';
import { t } from '../../core/l10n';
import type { SessionTokens } from '../../core/session';
import { AccountMetadataStore } from './metadataStore';
import { RotationScheduler } from './scheduler';
import { accountIdFromSecretKey, SecretTokenStore, type StoredSession } from './secretTokenStore';
import {
  Emitter,
  realTimers,
  type AccountMetadata,
  type AccountsLog,
  type AccountsSettings,
  type AccountState,
  type AccountView,
  type DisposableLike,
  type MementoLike,
  type SecretStorageLike,
  type SessionsChange,
  type Timers,
  type TokenFacts,
} from './types';

export interface AccountManagerOptions {
  secrets: SecretStorageLike;
  memento: MementoLike;
  lock: ExclusiveLock;
  http: HttpClient;
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

/** The token state of one account as last read from the secret store. */
interface Facts {
  generation?: string;
  usable: boolean;
  ended?: { at: number; errcode: string };
  token?: TokenFacts;
}

export interface SessionEndedEvent {
  accountId: string;
  userId: string;
  /** One sentence for the user. */
  message: string;
}

export function accountIdFor(userId: string, homeserverUrl: string): string {
  return `${userId}|${homeserverUrl.replace(/\/+$/, '')}`;
}

const defaultSettings: AccountsSettings = { autoRotate: () => true, rotationPolicy: () => DEFAULT_ROTATION_POLICY };

export class AccountManager implements DisposableLike {
  readonly metadata: AccountMetadataStore;
  readonly store: SecretTokenStore;
  readonly rotator: TokenRotator;
  readonly http: HttpClient;
  readonly log: AccountsLog;
  readonly now: () => number;

  private readonly settings: AccountsSettings;
  private readonly scheduler: RotationScheduler;
  private readonly facts = new Map<string, Facts>();
  private readonly unreachable = new Map<string, string>();
  private readonly reloads = new Map<string, Promise<void>>();
  /** Accounts being signed out or removed: their session ending is expected, not news. */
  private readonly leaving = new Map<string, number>();
  private readonly disposables: DisposableLike[] = [];
  private readonly changeEmitter = new Emitter<void>();
  private readonly sessionsEmitter = new Emitter<SessionsChange>();
  private readonly endedEmitter = new Emitter<SessionEndedEvent>();
  private disposed = false;

  /** Anything shown in the tree changed. */
  readonly onDidChange = this.changeEmitter.event;
  /** Usable sessions appeared, disappeared or got new tokens (in this window or another). */
  readonly onDidChangeSessions = this.sessionsEmitter.event;
  /** This window found a session over (fired once per session, across windows). */
  readonly onSessionEnded = this.endedEmitter.event;

  constructor(private readonly options: AccountManagerOptions) {
    this.http = options.http;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.settings = options.settings ?? defaultSettings;
    this.metadata = new AccountMetadataStore(options.memento);
    this.store = new SecretTokenStore(options.secrets, {
      coherenceDir: options.coherenceDir,
      log: options.log,
      catchUpTimeoutMs: options.catchUpTimeoutMs,
    });
    this.rotator = new TokenRotator({
      http: options.http,
      store: this.store,
      lock: options.lock,
      now: this.now,
      retryDelaysMs: options.retryDelaysMs,
      events: {
        onRotated: (id, tokens) => void this.afterRotation(id, tokens),
        // The rotator already marked the stored session ended, under the lock.
        onSessionEnded: (id, error) => void this.sessionEnded(id, error.reason, this.leaving.has(id)),
      },
    });
    this.scheduler = new RotationScheduler({
      now: this.now,
      timers: options.timers ?? realTimers,
      maxWaitMs: options.schedulerMaxWaitMs,
      failureBackoffMs: options.schedulerBackoffMs,
      dueAt: (id) => this.rotationDueAt(id),
      rotate: (id) => this.rotateBecauseDue(id),
    });
    this.disposables.push(
      this.scheduler,
      options.secrets.onDidChange((e) => {
        const id = accountIdFromSecretKey(e.key);
        if (id !== undefined) void this.onSecretChanged(id);
      }),
    );
  }

  /** Reads all accounts' token state and arms the rotation timers. */
  async load(): Promise<void> {
    await Promise.all(this.metadata.list().map((a) => this.reloadFacts(a.id)));
  }

  /** Every account, for the tree, the auth provider and tests. No token strings. */
  accounts(): AccountView[] {
    return this.metadata.list().map((m) => this.view(m));
  }

  account(id: string): AccountView | undefined {
    const m = this.metadata.get(id);
    return m && this.view(m);
  }

  /** The account a caller means, or an error that says it is gone. */
  require(id: string): AccountMetadata {
    const m = this.metadata.get(id);
    if (!m) throw new Error(t('The Matrix account {0} no longer exists (it was removed).', id));
    return m;
  }

  rotatable(m: AccountMetadata): RotatableAccount {
    return { id: m.id, homeserverUrl: m.homeserverUrl, refreshTokenLifetimeMs: m.refreshTokenLifetimeMs };
  }

  /** Re-arms every timer: after a settings change. */
  rearmAll(): void {
    for (const a of this.metadata.list()) this.scheduler.arm(a.id);
    this.changeEmitter.fire();
  }

  /** Reloads one account's token state from the secret store and tells listeners what changed. */
  reloadFacts(id: string): Promise<void> {
    const previous = this.reloads.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => this.reloadFactsNow(id))
      .catch((e) => this.log.error(`Could not read the tokens of ${id}: ${e instanceof Error ? e.message : String(e)}`));
    this.reloads.set(id, next);
    void next.finally(() => {
      if (this.reloads.get(id) === next) this.reloads.delete(id);
    });
    return next;
  }

  /** Marks an account unreachable after a transient failure, or reachable again after a success. */
  noteReachability(id: string, error?: unknown): void {
    const before = this.unreachable.get(id);
    if (error !== undefined && isTransientFailure(error)) {
      this.unreachable.set(id, error instanceof Error ? error.message : String(error));
    } else if (error === undefined || error instanceof MatrixApiError) {
      this.unreachable.delete(id); // the server answered
    } else {
      return;
    }
    if (before !== this.unreachable.get(id)) this.changeEmitter.fire();
  }

  /**
   * Marks the session ended (tokens kept) if the stored tokens are still the
   * ones that failed, under the account's lock so a concurrent sign-in or a
   * rotation in another window is never overwritten. Fires onSessionEnded once.
   */
  async endSession(id: string, reason: MatrixApiError, stillCurrent: (current: SessionTokens) => boolean): Promise<boolean> {
    const expected = this.leaving.has(id);
    const changed = await this.options.lock.run(id, async () => {
      const stored = await this.store.read(id);
      if (!stored || stored.ended || !stillCurrent(stored.tokens)) return false;
      await this.store.markEnded(id, reason, this.now());
      return true;
    });
    if (changed) await this.sessionEnded(id, reason, expected);
    else await this.reloadFacts(id);
    return changed;
  }

  /** After this window marked the session ended: record it, and tell the user unless they are signing out anyway. */
  private async sessionEnded(id: string, reason: MatrixApiError, expected: boolean): Promise<void> {
    // A sign-out or removal in progress sets the final state itself.
    if (!expected) await this.metadata.patch(id, { state: 'needsSignIn', sessionEndedNotifiedAt: this.now() });
    await this.reloadFacts(id);
    if (!expected) {
      const m = this.metadata.get(id);
      const host = m ? new URL(m.homeserverUrl).host : id;
      const message =
        reason.errcode === 'M_UNKNOWN_TOKEN' && !reason.softLogout && !reason.url.includes('/refresh')
          ? t(
              '{0}: {1} no longer knows this session (M_UNKNOWN_TOKEN); it was signed out elsewhere. Sign in again to keep using the account.',
              m?.userId ?? id,
              host,
            )
          : t(
              '{0}: {1} refused the refresh token ({2}), so the session is over. Sign in again to keep using the account.',
              m?.userId ?? id,
              host,
              reason.errcode,
            );
      this.log.warn(`Session of ${id} ended: ${reason.status} ${reason.errcode} ${reason.error}`);
      this.endedEmitter.fire({ accountId: id, userId: m?.userId ?? id, message });
    }
  }

  /**
   * Runs an authenticated call with a valid token: rotates first when it is
   * about to expire, and once more on a soft-logout 401. A hard 401 ends the session.
   */
  async withAccessToken<T>(
    id: string,
    call: (accessToken: string) => Promise<T>,
    opts: { signal?: AbortSignal; minValidityMs?: number } = {},
  ): Promise<T> {
    const m = this.require(id);
    let lastToken: string | undefined;
    try {
      const result = await this.rotator.withAccessToken(
        this.rotatable(m),
        (token) => {
          lastToken = token;
          return call(token);
        },
        opts,
      );
      this.noteReachability(id);
      return result;
    } catch (e) {
      this.noteReachability(id, e);
      if (isMatrixError(e, 'M_UNKNOWN_TOKEN') && !e.softLogout && lastToken !== undefined) {
        const used = lastToken;
        await this.endSession(id, e, (current) => current.accessToken === used);
      }
      throw e;
    }
  }

  /** A valid access token (rotated first when it expires within `minValidityMs`). */
  async getAccessToken(id: string, opts: { signal?: AbortSignal; minValidityMs?: number } = {}): Promise<string> {
    const m = this.require(id);
    try {
      const token = await this.rotator.getAccessToken(this.rotatable(m), opts);
      this.noteReachability(id);
      return token;
    } catch (e) {
      this.noteReachability(id, e);
      throw e;
    }
  }

  /** Rotates now (or adopts a rotation another window just did). */
  async rotateNow(id: string, signal?: AbortSignal): Promise<SessionTokens> {
    const m = this.require(id);
    // What this window last showed: if the stored session moved on since
    // (another window rotated a moment ago), that rotation is the one asked for.
    const shown = this.facts.get(id)?.generation;
    try {
      const stored = await this.store.read(id);
      const live = stored && !stored.ended ? stored : undefined;
      if (live && shown !== undefined && live.generation !== shown) {
        this.log.info(`The tokens of ${m.userId} were just rotated by another window; using those.`);
        this.noteReachability(id);
        await this.reloadFacts(id);
        return live.tokens;
      }
      const tokens = await this.rotator.rotate(this.rotatable(m), { signal, seen: live?.tokens });
      this.noteReachability(id);
      await this.reloadFacts(id);
      return tokens;
    } catch (e) {
      this.noteReachability(id, e);
      throw e;
    }
  }

  /** Stores a new session for an account (sign-in); the entry must exist. */
  async storeSession(id: string, tokens: SessionTokens): Promise<void> {
    await this.options.lock.run(id, () => this.store.set(id, tokens));
    this.unreachable.delete(id);
    await this.reloadFacts(id);
  }

  /** Forgets the tokens (the entry stays, or is removed by the caller). */
  async forgetSession(id: string): Promise<void> {
    await this.options.lock.run(id, () => this.store.delete(id));
    this.unreachable.delete(id);
    await this.reloadFacts(id);
  }

  /** Runs a sign-out or removal: a session that turns out to be over is then no reason to notify. */
  async whileLeaving<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.leaving.set(id, (this.leaving.get(id) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.leaving.get(id) ?? 1) - 1;
      if (n > 0) this.leaving.set(id, n);
      else this.leaving.delete(id);
    }
  }

  /** Stored tokens, even of an ended session (for a best-effort server logout). */
  readStored(id: string): Promise<StoredSession | undefined> {
    return this.store.read(id);
  }

  forgetAccount(id: string): void {
    this.scheduler.disarm(id);
    this.facts.delete(id);
    this.unreachable.delete(id);
  }

  fireChanged(): void {
    this.changeEmitter.fire();
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.changeEmitter.dispose();
    this.sessionsEmitter.dispose();
    this.endedEmitter.dispose();
  }

  private view(m: AccountMetadata): AccountView {
    const f = this.facts.get(m.id);
    return {
      ...m,
      displayState: this.displayState(m, f),
      token: f?.token,
      nextRotationAt: f?.usable ? this.scheduler.nextCheckAt(m.id) : undefined,
      unreachableReason: this.unreachable.get(m.id),
    };
  }

  private displayState(m: AccountMetadata, f: Facts | undefined): AccountState {
    if (!f) return m.state; // not read yet
    if (f.ended) return 'needsSignIn';
    if (!f.usable) return 'signedOut';
    if (this.unreachable.has(m.id)) return 'unreachable';
    const expiresAt = f.token?.expiresAt;
    const margin = Math.max(60_000, this.settings.rotationPolicy().minMarginMs);
    if (expiresAt !== undefined && expiresAt - this.now() <= margin) return 'expiringSoon';
    return 'signedIn';
  }

  private rotationDueAt(id: string): number | undefined {
    const f = this.facts.get(id);
    if (!f?.usable || !f.token?.refreshable || !this.settings.autoRotate() || this.disposed) return undefined;
    return rotationDueAt(
      { accessToken: '', refreshToken: 'r', issuedAt: f.token.issuedAt, expiresAt: f.token.expiresAt },
      this.settings.rotationPolicy(),
    );
  }

  private async rotateBecauseDue(id: string): Promise<void> {
    const m = this.metadata.get(id);
    if (!m) return;
    const tokens = await this.store.get(id);
    const due = tokens && rotationDueAt(tokens, this.settings.rotationPolicy());
    if (!tokens || due === undefined || due > this.now()) {
      // Another window rotated, or the session is gone: just catch up.
      await this.reloadFacts(id);
      return;
    }
    this.log.info(
      `Rotating the tokens of ${m.userId} automatically (access token expires in ${Math.round(((tokens.expiresAt ?? 0) - this.now()) / 1000)} s).`,
    );
    try {
      await this.rotator.rotate(this.rotatable(m), { seen: tokens });
      this.noteReachability(id);
    } catch (e) {
      this.noteReachability(id, e);
      if (!(e instanceof SessionEndedError)) {
        this.log.warn(`Automatic rotation for ${m.userId} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      throw e;
    } finally {
      await this.reloadFacts(id);
    }
  }

  private async afterRotation(id: string, tokens: SessionTokens): Promise<void> {
    const m = this.metadata.get(id);
    const expires = tokens.expiresAt === undefined ? 'never expires' : `expires in ${Math.round((tokens.expiresAt - this.now()) / 1000)} s`;
    this.log.info(`Rotated the tokens of ${m?.userId ?? id}; the new access token ${expires}.`);
    await this.metadata.patch(id, { lastRotationAt: this.now(), state: 'signedIn' });
    await this.reloadFacts(id);
  }

  private async onSecretChanged(id: string): Promise<void> {
    if (this.disposed) return;
    // A new account from another window: its globalState entry may arrive a little after the secret.
    for (let i = 0; i < 40 && !this.metadata.get(id); i++) await new Promise((r) => setTimeout(r, 50));
    await this.reloadFacts(id);
    if (!this.metadata.get(id)) this.forgetAccount(id);
    // A removal in another window reaches globalState after the secret: repaint once more then.
    realTimers.setTimeout(() => {
      if (!this.disposed) this.changeEmitter.fire();
    }, 1_000);
  }

  private async reloadFactsNow(id: string): Promise<void> {
    if (this.disposed) return;
    const known = this.metadata.get(id) !== undefined;
    const stored = known ? await this.store.read(id) : undefined;
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
    if (known) this.scheduler.arm(id);
    else this.scheduler.disarm(id);
    if (change.added.length || change.removed.length || change.changed.length) this.sessionsEmitter.fire(change);
    if (before?.generation !== after.generation || before?.usable !== after.usable) this.changeEmitter.fire();
  }
}
