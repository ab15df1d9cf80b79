// The account model: which accounts exist, what state their sessions are in, and every operation on them. No `vscode`
// import: unit tests run two instances sharing one SecretStorage and one lock folder as two VS Code windows.
// Two halves: session state (sessionState.ts: what the tree shows) and token access (tokenAccess.ts: the only way
// to the tokens; rotation goes through the core's TokenRotator there). The secret entry is the source of truth for a
// session (present, ended, or absent); its change events, which VS Code delivers to every window, drive the session
// events, the timers and the tree.
import type { MatrixApiError } from '../../core/errors';
import { expiryText } from '../../core/expiry';
import { DEFAULT_ROTATION_POLICY, rotationDueAt, SessionEndedError, type AccessOptions } from '../../core/rotation';
import { t } from '../../core/l10n';
import type { SessionTokens } from '../../core/session';
import { AccountMetadataStore } from './metadataStore';
import { PerAccountActivity, PerAccountQueue } from './perAccount';
import { RotationScheduler } from './scheduler';
import { accountIdFromSecretKey, type StoredSession } from './secretTokenStore';
import { sessionEndedMessage, SessionStates } from './sessionState';
import { TokenAccess, type EndedBy } from './tokenAccess';
import { unreadableMetadataMessage, unreadableTokensMessage } from './unreadable';
import {
  realTimers,
  Waits,
  type AccountManagerOptions,
  type AccountMetadata,
  type AccountsLog,
  type AccountsSettings,
  type AccountView,
  type SessionEndedEvent,
  type SessionsChange,
  type UnreadableDataEvent,
} from './types';
import { Disposable, Emitter } from '../ports';

export type { AccountManagerOptions, SessionEndedEvent, UnreadableDataEvent } from './types';

const defaultSettings: AccountsSettings = { autoRotate: () => true, rotationPolicy: () => DEFAULT_ROTATION_POLICY };

export class AccountManager extends Disposable {
  private readonly metadata: AccountMetadataStore;
  private readonly tokens: TokenAccess;
  private readonly states: SessionStates;
  private readonly log: AccountsLog;
  private readonly clock: () => number;
  private readonly waits: Waits;
  private readonly settings: AccountsSettings;
  private readonly scheduler: RotationScheduler;
  private readonly reloads = new PerAccountQueue();
  /** Accounts being signed out or removed: their session ending is expected, not news. */
  private readonly leaving = new PerAccountActivity();
  private readonly changeEmitter = this._register(new Emitter<void>());
  private readonly sessionsEmitter = this._register(new Emitter<SessionsChange>());
  private readonly endedEmitter = this._register(new Emitter<SessionEndedEvent>());
  private readonly unreadableEmitter = this._register(new Emitter<UnreadableDataEvent>());
  private toldUnreadableMetadata = false;

  /** Anything shown in the tree changed. */
  readonly onDidChange = this.changeEmitter.event;
  /** Usable sessions appeared, disappeared or got new tokens (in this window or another). */
  readonly onDidChangeSessions = this.sessionsEmitter.event;
  /** This window found a session over (fired once per session, across windows: the ended mark is written once). */
  readonly onSessionEnded = this.endedEmitter.event;
  /** Stored data turned out unreadable (damaged, or a newer version's); kept as it is. Told once per window. */
  readonly onUnreadableData = this.unreadableEmitter.event;

  constructor(options: AccountManagerOptions) {
    super();
    this.log = options.log;
    this.clock = options.now ?? Date.now;
    const timers = options.timers ?? realTimers;
    this.settings = options.settings ?? defaultSettings;
    this.metadata = new AccountMetadataStore(options.memento);
    this.waits = new Waits(timers);
    this.tokens = new TokenAccess({
      ...options,
      now: this.clock,
      account: {
        require: (id) => this.require(id),
        noteReachability: (id, error) => this.noteReachability(id, error),
        reload: (id) => this.reloadFacts(id),
        shownGeneration: (id) => this.states.shownGeneration(id),
        isLeaving: (id) => this.leaving.has(id),
        rotated: (id, tokens) => this.afterRotation(id, tokens),
        ended: (id, reason, expected, by) => this.sessionEnded(id, reason, expected, by),
      },
      onUnreadable: (id) =>
        this.unreadableEmitter.fire({ accountId: id, message: unreadableTokensMessage(this.metadata.get(id)?.userId ?? id) }),
    });
    this.scheduler = new RotationScheduler({
      now: this.clock,
      timers,
      maxWaitMs: options.schedulerMaxWaitMs,
      failureBackoffMs: options.schedulerBackoffMs,
      dueAt: (id) => (this.settings.autoRotate() && !this.isDisposed ? this.states.rotationDueAt(id) : undefined),
      rotate: (id) => this.rotateBecauseDue(id),
    });
    this.states = new SessionStates({
      now: this.clock,
      policy: () => this.settings.rotationPolicy(),
      nextCheckAt: (id) => this.scheduler.nextCheckAt(id),
    });
    const secretChanged = options.secrets.onDidChange((e) => {
      const id = accountIdFromSecretKey(e.key);
      if (id !== undefined) void this.onSecretChanged(id);
    });
    for (const d of [this.scheduler, this.waits, this.metadata.onDidChange(() => this.changeEmitter.fire()), secretChanged]) {
      this._register(d);
    }
  }

  now(): number {
    return this.clock();
  }

  /** After dispose: settles once the automatic rotations under way stored their tokens. */
  settled(): Promise<void> {
    return this.scheduler.settled();
  }

  /** Reads all accounts' token state and arms the rotation timers. */
  async load(): Promise<void> {
    const unreadable = this.metadata.unreadableCount();
    if (unreadable > 0 && !this.toldUnreadableMetadata) {
      this.toldUnreadableMetadata = true;
      this.log.warn(`${unreadable} account entries in globalState are unreadable; they are kept as they are.`);
      this.unreadableEmitter.fire({ message: unreadableMetadataMessage(unreadable) });
    }
    await Promise.all(this.metadata.list().map((a) => this.reloadFacts(a.id)));
  }

  /** Every account, for the tree, the auth provider and tests. No token strings. */
  accounts(): AccountView[] {
    return this.metadata.list().map((m) => this.states.view(m));
  }

  account(id: string): AccountView | undefined {
    const m = this.metadata.get(id);
    return m && this.states.view(m);
  }

  /** The account a caller means, or an error that says it is gone. */
  require(id: string): AccountMetadata {
    const m = this.metadata.get(id);
    if (!m) throw new Error(t('The Matrix account {0} no longer exists (it was removed).', id));
    return m;
  }

  /** Adds or replaces an entry (after its tokens are stored), then reads its session. */
  async saveAccount(m: AccountMetadata): Promise<void> {
    await this.metadata.upsert(m);
    await this.reloadFacts(m.id);
  }

  /** Changes some non-secret fields; `undefined` removes one. */
  updateAccount(id: string, fields: Partial<AccountMetadata>): Promise<void> {
    return this.metadata.patch(id, fields);
  }

  /** Deletes the entry (the tokens must be forgotten first). */
  async removeAccount(id: string): Promise<void> {
    await this.metadata.remove(id);
    this.scheduler.disarm(id);
    this.states.forget(id);
  }

  /** Re-arms every timer: after a settings change. */
  rearmAll(): void {
    for (const a of this.metadata.list()) this.scheduler.arm(a.id);
    this.changeEmitter.fire();
  }

  /** Marks an account unreachable after a transient failure, or reachable again after a success. */
  noteReachability(id: string, error?: unknown): void {
    if (this.states.noteReachability(id, error)) this.changeEmitter.fire();
  }

  /**
   * Runs an authenticated call with a valid token: rotates first when it is
   * about to expire, and once more on a soft-logout 401. A hard 401 ends the session.
   */
  withAccessToken<T>(id: string, call: (accessToken: string) => Promise<T>, opts: AccessOptions = {}): Promise<T> {
    return this.tokens.withAccessToken(id, call, opts);
  }

  /** A valid access token (rotated first when it expires within `minValidityMs`). */
  getAccessToken(id: string, opts: AccessOptions = {}): Promise<string> {
    return this.tokens.getAccessToken(id, opts);
  }

  /** The access token as stored right now, without rotating (for session change events). */
  async storedAccessToken(id: string): Promise<string | undefined> {
    return (await this.tokens.current(id))?.accessToken;
  }

  /** Rotates now (or adopts a rotation another window just did). */
  rotateNow(id: string, signal?: AbortSignal): Promise<SessionTokens> {
    return this.tokens.rotateNow(id, signal);
  }

  /** Stores a new session for an account (sign-in). */
  async storeSession(id: string, tokens: SessionTokens): Promise<void> {
    await this.tokens.save(id, tokens);
    this.states.clearReachability(id);
    await this.reloadFacts(id);
  }

  /** Forgets the tokens (the entry stays, or is removed with removeAccount). */
  async forgetSession(id: string): Promise<void> {
    await this.tokens.forget(id);
    this.states.clearReachability(id);
    await this.reloadFacts(id);
  }

  /** Runs a sign-out or removal: a session that turns out to be over is then no reason to notify. */
  whileLeaving<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.leaving.during(id, fn);
  }

  /** Throws StaleSecretsError when this window must reload before it may store a secret (VS Code for the Web). */
  assertWritable(): Promise<void> {
    return this.tokens.assertWritable();
  }

  /** Stored tokens, even of an ended session (for a best-effort server logout). */
  readStored(id: string): Promise<StoredSession | undefined> {
    return this.tokens.read(id);
  }

  /** Reloads one account's token state from the secret store and tells listeners what changed. */
  private reloadFacts(id: string): Promise<void> {
    return this.reloads.run(
      id,
      () => this.reloadFactsNow(id),
      (e) => this.log.error(`Could not read the tokens of ${id}: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** After this window marked the session ended: record it, and tell the user unless they are signing out anyway. */
  private async sessionEnded(id: string, reason: MatrixApiError, expected: boolean, by: EndedBy): Promise<void> {
    // A sign-out or removal in progress sets the final state itself.
    if (!expected) await this.metadata.patch(id, { state: 'needsSignIn' });
    await this.reloadFacts(id);
    if (expected) return;
    const m = this.metadata.get(id);
    const message = sessionEndedMessage(m?.userId ?? id, m?.homeserverUrl, reason, by);
    this.log.warn(`Session of ${id} ended: ${reason.status} ${reason.errcode} ${reason.error}`);
    this.endedEmitter.fire({ accountId: id, userId: m?.userId ?? id, message });
  }

  private async rotateBecauseDue(id: string): Promise<void> {
    const m = this.metadata.get(id);
    if (!m) return;
    const tokens = await this.tokens.current(id);
    const due = tokens && rotationDueAt(tokens, this.settings.rotationPolicy());
    if (!tokens || due === undefined || due > this.clock()) {
      // Another window rotated, or the session is gone: just catch up.
      await this.reloadFacts(id);
      return;
    }
    this.log.info(`Rotating the tokens of ${m.userId} automatically (access token ${expiryText(tokens.expiresAt, this.clock())}).`);
    try {
      await this.tokens.rotate(m, { seen: tokens });
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
    this.log.info(`Rotated the tokens of ${m?.userId ?? id}; the new access token ${expiryText(tokens.expiresAt, this.clock())}.`);
    await this.metadata.patch(id, { lastRotationAt: this.clock(), state: 'signedIn' });
    await this.reloadFacts(id);
  }

  private async onSecretChanged(id: string): Promise<void> {
    if (this.isDisposed) return;
    // A new account from another window: its globalState entry may arrive a little after the secret.
    for (let i = 0; i < 40 && !this.metadata.get(id) && !this.isDisposed; i++) await this.waits.wait(50);
    await this.reloadFacts(id);
    if (!this.metadata.get(id)) {
      this.scheduler.disarm(id);
      this.states.forget(id);
    }
    // A removal in another window reaches globalState after the secret: repaint once more then.
    void this.waits.wait(1_000).then(() => {
      if (!this.isDisposed) this.changeEmitter.fire();
    });
  }

  private async reloadFactsNow(id: string): Promise<void> {
    if (this.isDisposed) return;
    const known = this.metadata.get(id) !== undefined;
    const stored = known ? await this.tokens.read(id) : undefined;
    const { sessions, repaint } = this.states.update(id, known, stored);
    if (known) this.scheduler.arm(id);
    else this.scheduler.disarm(id);
    if (sessions) this.sessionsEmitter.fire(sessions);
    if (repaint) this.changeEmitter.fire();
  }
}
