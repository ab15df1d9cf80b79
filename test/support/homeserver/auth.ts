// Users, devices, access tokens and refresh tokens, modelled on Synapse's
// tables so the rotation rules fall out of the same data: a refresh token row
// points at its successor (`nextId`), access tokens belong to the refresh
// token they were issued with, and deleting a row cascades like the SQL
// foreign keys do.
import { MatrixError } from './http';
import { generateDeviceId, generateToken, hasRefreshTokenShape } from './tokens';

interface AccessTokenRow {
  token: string;
  userId: string;
  deviceId: string;
  validUntil: number | null;
  refreshId: number | null;
  used: boolean;
}

interface RefreshTokenRow {
  id: number;
  token: string;
  userId: string;
  deviceId: string;
  nextId: number | null;
  expiresAt: number | null;
}

export interface Device {
  userId: string;
  deviceId: string;
  displayName?: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  expiresInMs?: number;
}

export interface Lifetimes {
  accessMs: number | null;
  /** Refresh token lifetime for this request (server default or an honoured custom value). */
  refreshMs: number | null;
}

export class SessionStore {
  private readonly passwords = new Map<string, string>();
  private readonly devices = new Map<string, Device>();
  private readonly access = new Map<string, AccessTokenRow>();
  private readonly refreshRows = new Map<number, RefreshTokenRow>();
  private readonly refreshIdByToken = new Map<string, number>();
  private nextRefreshId = 1;
  /** Refreshes with a token that had already been refreshed (a retry, or two clients racing). */
  repeatedRefreshes = 0;
  /** Every access and refresh token ever handed out, deleted ones too (for leak scans). */
  readonly issued: string[] = [];

  constructor(
    readonly serverName: string,
    private readonly now: () => number,
  ) {}

  addUser(localpart: string, password: string): string {
    const userId = `@${localpart}:${this.serverName}`;
    this.passwords.set(userId, password);
    return userId;
  }

  /** Synapse matches user ids case-insensitively when exactly one user fits. */
  findUser(qualifiedUserId: string): string | undefined {
    if (this.passwords.has(qualifiedUserId)) return qualifiedUserId;
    const matches = [...this.passwords.keys()].filter((u) => u.toLowerCase() === qualifiedUserId.toLowerCase());
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Delegated auth: the user exists once the authorization server says so. */
  ensureUser(localpart: string): string {
    const userId = `@${localpart}:${this.serverName}`;
    if (!this.passwords.has(userId)) this.passwords.set(userId, `\u0000no password: ${localpart}`);
    return userId;
  }

  /** Delegated auth: the device of the device scope, created on first use. */
  ensureDevice(userId: string, deviceId: string): void {
    const key = deviceKey(userId, deviceId);
    if (!this.devices.has(key)) this.devices.set(key, { userId, deviceId });
  }

  userExists(userId: string): boolean {
    return this.passwords.has(userId);
  }

  checkPassword(userId: string, password: string): boolean {
    return this.passwords.get(userId) === password;
  }

  devicesOf(userId: string): Device[] {
    return [...this.devices.values()].filter((d) => d.userId === userId).map((d) => ({ ...d }));
  }

  /** Login: register (or reuse) the device, then issue tokens. */
  login(
    userId: string,
    deviceId: string | undefined,
    displayName: string | undefined,
    withRefresh: boolean,
    life: Lifetimes,
  ): IssuedTokens & { deviceId: string } {
    const id = deviceId ?? generateDeviceId();
    const key = deviceKey(userId, id);
    if (!this.devices.has(key)) this.devices.set(key, { userId, deviceId: id, displayName });
    if (!withRefresh || life.accessMs == null) {
      return { deviceId: id, accessToken: this.addAccessToken(userId, id, null, null) };
    }
    const refresh = this.addRefreshToken(userId, id, life.refreshMs);
    const now = this.now();
    const accessToken = this.addAccessToken(userId, id, now + life.accessMs, refresh.id);
    return { deviceId: id, accessToken, refreshToken: refresh.token, expiresInMs: life.accessMs };
  }

  /** Synapse's `AuthHandler.refresh_token` + `replace_refresh_token`, check for check. */
  refresh(token: string, life: Lifetimes): Required<IssuedTokens> {
    if (!hasRefreshTokenShape(token)) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'invalid refresh token');
    const id = this.refreshIdByToken.get(token);
    const existing = id === undefined ? undefined : this.refreshRows.get(id);
    if (!existing) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'refresh token does not exist');
    const next = existing.nextId === null ? undefined : this.refreshRows.get(existing.nextId);
    if (next && (next.nextId !== null || this.accessTokensOf(next.id).some((a) => a.used))) {
      throw new MatrixError(403, 'M_FORBIDDEN', "refresh token isn't valid anymore");
    }
    const now = this.now();
    if (existing.expiresAt !== null && existing.expiresAt < now) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'The supplied refresh token has expired');
    }
    const accessMs = life.accessMs ?? 0;
    const fresh = this.addRefreshToken(existing.userId, existing.deviceId, life.refreshMs);
    const accessToken = this.addAccessToken(existing.userId, existing.deviceId, now + accessMs, fresh.id);
    const oldNextId = existing.nextId;
    existing.nextId = fresh.id;
    // A retried refresh replaces the first result: its tokens die here.
    if (oldNextId !== null) {
      this.repeatedRefreshes++;
      this.deleteRefresh(oldNextId);
    }
    // Refreshing with R1 means R0 (and A0 with it) can never be needed again.
    for (const row of [...this.refreshRows.values()]) if (row.nextId === existing.id) this.deleteRefresh(row.id);
    return { accessToken, refreshToken: fresh.token, expiresInMs: accessMs };
  }

  /**
   * Look up an access token for a request. `allowExpired` is Synapse's flag
   * for /logout. The first use of a rotated access token also kills the access
   * token of the previous generation (simplification: Synapse keeps it until
   * it expires or the next rotation deletes it; clients must not rely on either).
   */
  authenticate(token: string, allowExpired = false): AccessTokenRow {
    const row = this.access.get(token);
    if (!row) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Invalid access token passed.', { soft_logout: false });
    if (!allowExpired && row.validUntil !== null && row.validUntil < this.now()) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token has expired', { soft_logout: true });
    }
    if (!row.used) {
      row.used = true;
      const predecessor = [...this.refreshRows.values()].find((r) => row.refreshId !== null && r.nextId === row.refreshId);
      if (predecessor) for (const a of this.accessTokensOf(predecessor.id)) this.access.delete(a.token);
    }
    return row;
  }

  hasAccessToken(token: string): boolean {
    return this.access.has(token);
  }

  deleteAccessToken(token: string): void {
    this.access.delete(token);
  }

  /** Deleting a device deletes every token issued to it, as Synapse does. */
  deleteDevice(userId: string, deviceId: string): void {
    this.devices.delete(deviceKey(userId, deviceId));
    for (const a of [...this.access.values()]) if (a.userId === userId && a.deviceId === deviceId) this.access.delete(a.token);
    for (const r of [...this.refreshRows.values()]) if (r.userId === userId && r.deviceId === deviceId) this.deleteRefresh(r.id);
  }

  deleteAllDevices(userId: string): void {
    for (const d of this.devicesOf(userId)) this.deleteDevice(userId, d.deviceId);
    for (const a of [...this.access.values()]) if (a.userId === userId) this.access.delete(a.token);
  }

  expireAccessToken(token: string): void {
    const row = this.access.get(token);
    if (!row) throw new Error(`expireAccessToken: the homeserver does not know this access token`);
    row.validUntil = this.now() - 1;
  }

  expireAllAccessTokens(): void {
    for (const row of this.access.values()) row.validUntil = this.now() - 1;
  }

  /** Expiry of a refresh token (ms since epoch), null = never; undefined = unknown token. */
  refreshTokenExpiresAt(token: string): number | null | undefined {
    const id = this.refreshIdByToken.get(token);
    return id === undefined ? undefined : this.refreshRows.get(id)?.expiresAt;
  }

  private addAccessToken(userId: string, deviceId: string, validUntil: number | null, refreshId: number | null): string {
    const token = generateToken('syt', localpartOf(userId));
    this.issued.push(token);
    this.access.set(token, { token, userId, deviceId, validUntil, refreshId, used: false });
    return token;
  }

  private addRefreshToken(userId: string, deviceId: string, lifetimeMs: number | null): RefreshTokenRow {
    const row: RefreshTokenRow = {
      id: this.nextRefreshId++,
      token: generateToken('syr', localpartOf(userId)),
      userId,
      deviceId,
      nextId: null,
      expiresAt: lifetimeMs == null ? null : this.now() + lifetimeMs,
    };
    this.refreshRows.set(row.id, row);
    this.refreshIdByToken.set(row.token, row.id);
    this.issued.push(row.token);
    return row;
  }

  private accessTokensOf(refreshId: number): AccessTokenRow[] {
    return [...this.access.values()].filter((a) => a.refreshId === refreshId);
  }

  /** ON DELETE CASCADE: access tokens issued with it, and rows pointing at it as successor. */
  private deleteRefresh(id: number): void {
    const row = this.refreshRows.get(id);
    if (!row) return;
    this.refreshRows.delete(id);
    this.refreshIdByToken.delete(row.token);
    for (const a of this.accessTokensOf(id)) this.access.delete(a.token);
    for (const r of [...this.refreshRows.values()]) if (r.nextId === id) this.deleteRefresh(r.id);
  }
}

const deviceKey = (userId: string, deviceId: string) => `${userId}\u0000${deviceId}`;

export const localpartOf = (userId: string) => userId.slice(1, userId.indexOf(':') === -1 ? undefined : userId.indexOf(':'));
