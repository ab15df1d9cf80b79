// What the account commands do, minus the prompts: sign in (password or an
// existing token), sign in again keeping the device, sign out, remove, check,
// set the custom refresh-token lifetime, refresh. Plain Node, like the manager.
import { discoverHomeserver, getVersions, type DiscoveredHomeserver } from '../../core/homeserver';
import type { HttpRequester } from '../../core/http';
import { sharedPerKey } from '../../core/memo';
import { t } from '../../core/l10n';
import {
  loginWithPassword,
  whoami,
  type LoginResult,
  type PasswordLoginRequest,
  type SessionTokens,
  type WhoAmI,
} from '../../core/session';
import { detectSignInMethods, type SignInMethods } from '../../core/signInMethods';
import { accountIdFor } from './accountId';
import type { AccountManager } from './manager';
import { ServerLogoutFailedError } from './errors';
import { SessionEnding } from './sessionEnding';
import { expiryText } from '../../core/expiry';
import { runWithConcurrency } from '../../core/concurrency';
import type { AccountMetadata, AccountsLog, AccountView } from './types';

const RECHECK_CONCURRENCY = 4;

/** The password as typed, and whether the user agreed to send it unencrypted (clearTextPasswordWarning). */
export type PasswordAnswer = Pick<PasswordLoginRequest, 'password' | 'clearTextPasswordConfirmed'>;

export interface AccountActionsOptions {
  http: HttpRequester;
  log: AccountsLog;
  /** Shown in the user's device list. */
  deviceDisplayName?: string;
}

export interface RecheckSummary {
  checked: number;
  failed: Array<{ accountId: string; message: string }>;
}

export class AccountActions {
  /** Shown in the user's device list. */
  readonly deviceDisplayName: string;
  /** Also what the browser sign-ins (browserSignIns.ts) talk through. */
  readonly http: HttpRequester;
  private readonly log: AccountsLog;
  private readonly ending: SessionEnding;

  constructor(
    private readonly mgr: AccountManager,
    options: AccountActionsOptions,
  ) {
    this.deviceDisplayName = options.deviceDisplayName ?? 'Matrix DevTools';
    this.http = options.http;
    this.log = options.log;
    this.ending = new SessionEnding(mgr, this.http, this.log);
  }

  /** Discovery, then the ways the server offers to sign in. */
  async discover(serverInput: string, signal?: AbortSignal): Promise<{ server: DiscoveredHomeserver; methods: SignInMethods }> {
    const server = await discoverHomeserver(this.http, serverInput, signal);
    return { server, methods: await this.signInMethodsOf(server.baseUrl, signal) };
  }

  async signInMethodsOf(baseUrl: string, signal?: AbortSignal): Promise<SignInMethods> {
    const methods = await detectSignInMethods(this.http, baseUrl, signal);
    if (methods.oauthProblem) this.log.warn(`OAuth 2.0 sign-in on ${baseUrl} is not usable: ${methods.oauthProblem}`);
    return methods;
  }

  /** A session the browser sign-in (OAuth 2.0 or SSO) produced, for a new entry. */
  async addWithLogin(
    server: DiscoveredHomeserver,
    login: LoginResult,
    method: 'oauth' | 'sso',
    accountManagement?: AccountMetadata['accountManagement'],
  ): Promise<AccountView> {
    await this.mgr.assertWritable();
    return this.adopt(server, login.userId, login.deviceId, login.tokens, method, accountManagement);
  }

  /** The same for an existing entry (signed in again on its device). */
  async signInAgainWithLogin(
    id: string,
    login: LoginResult,
    method: 'oauth' | 'sso',
    accountManagement?: AccountMetadata['accountManagement'],
  ): Promise<AccountView> {
    const m = this.mgr.require(id);
    await this.checkSameUser(m, login.userId, login.tokens);
    if (accountManagement) await this.mgr.updateAccount(id, { accountManagement });
    return this.resume(m, login.deviceId, login.tokens, method);
  }

  async addWithPassword(server: DiscoveredHomeserver, user: string, password: PasswordAnswer, signal?: AbortSignal): Promise<AccountView> {
    // Before the server creates a session this window could not store.
    await this.mgr.assertWritable();
    const login = await loginWithPassword(
      this.http,
      server.baseUrl,
      { user, ...password, deviceDisplayName: this.deviceDisplayName },
      { signal, now: () => this.mgr.now() },
    );
    return this.adopt(server, login.userId, login.deviceId, login.tokens, 'password');
  }

  /** An access token the user already has (optionally with its refresh token), checked with whoami. */
  async addWithAccessToken(
    server: DiscoveredHomeserver,
    accessToken: string,
    refreshToken: string | undefined,
    signal?: AbortSignal,
  ): Promise<AccountView> {
    await this.mgr.assertWritable();
    const me = await whoami(this.http, server.baseUrl, accessToken, { signal });
    const tokens: SessionTokens = { accessToken, refreshToken: refreshToken || undefined, issuedAt: this.mgr.now() };
    return this.adopt(server, me.userId, me.deviceId ?? '', tokens, 'accessToken');
  }

  /** Password sign-in for an existing entry, keeping its device (and so its history and keys). */
  async signInAgainWithPassword(id: string, password: PasswordAnswer, signal?: AbortSignal): Promise<AccountView> {
    const m = this.mgr.require(id);
    await this.mgr.assertWritable();
    const login = await loginWithPassword(
      this.http,
      m.homeserverUrl,
      {
        user: m.userId,
        ...password,
        deviceId: m.deviceId || undefined,
        deviceDisplayName: this.deviceDisplayName,
        refreshTokenLifetimeMs: m.refreshTokenLifetimeMs,
      },
      { signal, now: () => this.mgr.now() },
    );
    await this.checkSameUser(m, login.userId, login.tokens);
    return this.resume(m, login.deviceId, login.tokens, 'password');
  }

  async signInAgainWithAccessToken(
    id: string,
    accessToken: string,
    refreshToken: string | undefined,
    signal?: AbortSignal,
  ): Promise<AccountView> {
    const m = this.mgr.require(id);
    const me = await whoami(this.http, m.homeserverUrl, accessToken, { signal });
    if (me.userId !== m.userId) {
      throw new Error(t('That access token belongs to {0}, not {1}; add it as a separate account instead.', me.userId, m.userId));
    }
    return this.resume(
      m,
      me.deviceId ?? m.deviceId,
      { accessToken, refreshToken: refreshToken || undefined, issuedAt: this.mgr.now() },
      'accessToken',
    );
  }

  /**
   * Logs out on the server and forgets the tokens; the entry stays (signed out).
   * When the server cannot be reached, throws ServerLogoutFailedError unless
   * `forgetIfUnreachable`, so the user decides whether to forget anyway.
   */
  async signOut(id: string, opts: { signal?: AbortSignal; forgetIfUnreachable?: boolean } = {}): Promise<void> {
    const m = this.mgr.require(id);
    await this.mgr.whileLeaving(id, async () => {
      try {
        await this.ending.endAccountSession(m, opts.signal);
      } catch (e) {
        if (!opts.forgetIfUnreachable) throw new ServerLogoutFailedError(id, e);
        this.log.warn(
          `Signing out ${m.userId} on the server failed (${e instanceof Error ? e.message : String(e)}); forgetting the tokens anyway.`,
        );
      }
      await this.mgr.updateAccount(id, { state: 'signedOut' });
      await this.mgr.forgetSession(id);
    });
    this.log.info(`Signed out ${m.userId} on ${m.homeserverUrl}.`);
  }

  /** Logs out on the server when possible, then deletes the tokens and the entry. */
  async remove(id: string, signal?: AbortSignal): Promise<void> {
    const m = this.mgr.require(id);
    await this.mgr.whileLeaving(id, async () => {
      try {
        await this.ending.endAccountSession(m, signal);
      } catch (e) {
        this.log.warn(
          `Could not sign ${m.userId} out on the server before removing the account: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      await this.mgr.forgetSession(id);
      await this.mgr.removeAccount(id);
    });
    this.log.info(`Removed the account ${m.userId} on ${m.homeserverUrl}.`);
  }

  /** whoami with the current token (rotating on expiry or soft logout). */
  async checkSession(id: string, signal?: AbortSignal): Promise<WhoAmI> {
    const m = this.mgr.require(id);
    const me = await this.mgr.withAccessToken(id, (token) => whoami(this.http, m.homeserverUrl, token, { signal }), { signal });
    if (me.deviceId && me.deviceId !== m.deviceId) await this.mgr.updateAccount(id, { deviceId: me.deviceId });
    this.log.info(`Checked the session of ${me.userId} (device ${me.deviceId ?? '?'}): valid.`);
    return me;
  }

  /** `undefined` clears it. Applies from the next rotation or sign-in. */
  async setRefreshTokenLifetime(id: string, lifetimeMs: number | undefined): Promise<void> {
    this.mgr.require(id);
    await this.mgr.updateAccount(id, { refreshTokenLifetimeMs: lifetimeMs });
  }

  /** Re-reads storage, then checks every signed-in account and updates its spec versions. */
  async recheckAll(signal?: AbortSignal): Promise<RecheckSummary> {
    await this.mgr.load();
    const summary: RecheckSummary = { checked: 0, failed: [] };
    const live = this.mgr.accounts().filter((a) => a.displayState !== 'signedOut' && a.displayState !== 'needsSignIn');
    // One /versions per homeserver, not per account on it.
    const versionsFor = sharedPerKey((url: string) => getVersions(this.http, url, signal));
    // A few at a time, as Ping All: 20 accounts are no reason for 20 requests
    // at once (each of which listens on the one cancellation signal).
    await runWithConcurrency(
      live,
      RECHECK_CONCURRENCY,
      async (a) => {
        try {
          const versions = await versionsFor(a.homeserverUrl);
          await this.mgr.updateAccount(a.id, { specVersions: versions.versions });
          await this.checkSession(a.id, signal);
          summary.checked++;
        } catch (e) {
          this.mgr.noteReachability(a.id, e);
          summary.failed.push({ accountId: a.id, message: e instanceof Error ? e.message : String(e) });
        }
      },
      (a) => void summary.failed.push({ accountId: a.id, message: t('Cancelled before {0} was checked.', a.userId) }),
      signal,
    );
    return summary;
  }

  private async adopt(
    server: DiscoveredHomeserver,
    userId: string,
    deviceId: string,
    tokens: SessionTokens,
    method: AccountMetadata['signInMethod'],
    accountManagement?: AccountMetadata['accountManagement'],
  ): Promise<AccountView> {
    const id = accountIdFor(userId, server.baseUrl);
    const existing = this.mgr.account(id);
    if (existing) {
      // Same account added again: the new session replaces the old one, whose device would otherwise linger.
      const old = await this.mgr.readStored(id);
      if (old && existing.deviceId !== deviceId) await this.ending.endOtherSession(server.baseUrl, old.tokens);
    }
    // Tokens first: an entry must never be listed as signed in before its tokens exist.
    await this.mgr.storeSession(id, tokens);
    await this.mgr.saveAccount({
      id,
      userId,
      homeserverUrl: server.baseUrl,
      serverName: server.serverName,
      deviceId,
      specVersions: server.versions.versions,
      signInMethod: method,
      state: 'signedIn',
      addedAt: existing?.addedAt ?? this.mgr.now(),
      lastRotationAt: undefined,
      refreshTokenLifetimeMs: existing?.refreshTokenLifetimeMs,
      accountManagement,
    });
    this.log.info(`Signed in ${userId} on ${server.baseUrl} (device ${deviceId || '?'}, ${describeExpiry(tokens, this.mgr.now())}).`);
    return this.mgr.account(id) as AccountView;
  }

  private async resume(
    m: AccountMetadata,
    deviceId: string,
    tokens: SessionTokens,
    method: AccountMetadata['signInMethod'],
  ): Promise<AccountView> {
    await this.mgr.updateAccount(m.id, { deviceId, state: 'signedIn', signInMethod: method });
    await this.mgr.storeSession(m.id, tokens);
    this.log.info(
      `Signed in ${m.userId} again on ${m.homeserverUrl} (device ${deviceId || '?'}, ${describeExpiry(tokens, this.mgr.now())}).`,
    );
    return this.mgr.account(m.id) as AccountView;
  }

  private async checkSameUser(m: AccountMetadata, userId: string, newTokens: SessionTokens): Promise<void> {
    if (userId === m.userId) return;
    await this.ending.endOtherSession(m.homeserverUrl, newTokens);
    throw new Error(t('The server signed in {0}, not {1}; add it as a separate account instead.', userId, m.userId));
  }
}

function describeExpiry(tokens: SessionTokens, now: number): string {
  return `access token ${expiryText(tokens.expiresAt, now)}${tokens.refreshToken ? ', refreshable' : ''}`;
}
