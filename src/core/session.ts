// The client-server calls that create, check, renew and end a session.
// Stateless: the rotation rules (who refreshes, when, what is kept) live in rotation.ts.
import { RequestFailedError } from './errors';
import { isLoopbackHost, type HttpRequester } from './http';
import { t } from './l10n';
import type { OAuthGrant } from './oauth/types';

/** What SecretStorage (or the CLI's store file) keeps for one account. */
export interface SessionTokens {
  accessToken: string;
  /** Absent when the server issues non-expiring tokens. */
  refreshToken?: string;
  /** Epoch ms at which the access token expires; absent = no known expiry. */
  expiresAt?: number;
  /** Epoch ms at which these tokens were received. */
  issuedAt: number;
  /** OAuth 2.0 sessions: where and as whom to refresh and revoke (rotation uses the token endpoint, never /refresh). */
  oauth?: OAuthGrant;
}

export interface LoginResult {
  userId: string;
  deviceId: string;
  tokens: SessionTokens;
}

export interface PasswordLoginRequest {
  /** Localpart ("alice") or full user id ("@alice:example.org"). */
  user: string;
  password: string;
  deviceDisplayName?: string;
  /** Re-use a device (sign in again keeping the device and its history). */
  deviceId?: string;
  /** `com.famedly.refresh_token_lifetime_ms`; sent only when set. */
  refreshTokenLifetimeMs?: number;
  /** The user saw clearTextPasswordWarning for this server and wants to send the password anyway. */
  clearTextPasswordConfirmed?: boolean;
}

/**
 * The warning a user must see before a password goes to `baseUrl` unencrypted
 * (plain http:// to a host that is not this machine), or undefined when it is
 * safe to send. The extension asks with it, the CLI prints it.
 */
export function clearTextPasswordWarning(baseUrl: string): string | undefined {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return undefined;
  return t('{0} uses plain http:// and is not this machine: your password would cross the network unencrypted.', url.host);
}

export const CUSTOM_REFRESH_LIFETIME_FIELD = 'com.famedly.refresh_token_lifetime_ms';

export interface CallOptions {
  signal?: AbortSignal;
  now?: () => number;
}

export async function loginWithPassword(
  http: HttpRequester,
  baseUrl: string,
  req: PasswordLoginRequest,
  opts: CallOptions = {},
): Promise<LoginResult> {
  const warning = clearTextPasswordWarning(baseUrl);
  if (warning && !req.clearTextPasswordConfirmed) throw new RequestFailedError('insecure-url', warning, baseUrl);
  const body: Record<string, unknown> = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: req.user },
    password: req.password,
    refresh_token: true,
  };
  if (req.deviceDisplayName) body.initial_device_display_name = req.deviceDisplayName;
  if (req.deviceId) body.device_id = req.deviceId;
  if (req.refreshTokenLifetimeMs !== undefined) body[CUSTOM_REFRESH_LIFETIME_FIELD] = req.refreshTokenLifetimeMs;
  return login(http, baseUrl, body, opts);
}

/** `m.login.token` (the second half of SSO), also with refresh tokens. */
export async function loginWithLoginToken(
  http: HttpRequester,
  baseUrl: string,
  token: string,
  req: { deviceDisplayName?: string; deviceId?: string } = {},
  opts: CallOptions = {},
): Promise<LoginResult> {
  const body: Record<string, unknown> = { type: 'm.login.token', token, refresh_token: true };
  if (req.deviceDisplayName) body.initial_device_display_name = req.deviceDisplayName;
  if (req.deviceId) body.device_id = req.deviceId;
  return login(http, baseUrl, body, opts);
}

async function login(http: HttpRequester, baseUrl: string, body: Record<string, unknown>, opts: CallOptions): Promise<LoginResult> {
  const now = opts.now ?? Date.now;
  const res = await http.request(baseUrl, '/_matrix/client/v3/login', { method: 'POST', body, signal: opts.signal });
  const b = res.body;
  if (typeof b.access_token !== 'string' || typeof b.user_id !== 'string') {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} answered the login without an access token or user id.', baseUrl),
      res.url,
      res.status,
    );
  }
  return {
    userId: b.user_id,
    deviceId: typeof b.device_id === 'string' ? b.device_id : '',
    tokens: tokensFrom(b, now()),
  };
}

function tokensFrom(b: Record<string, unknown>, issuedAt: number, previousRefreshToken?: string): SessionTokens {
  const expiresIn = typeof b.expires_in_ms === 'number' && b.expires_in_ms > 0 ? b.expires_in_ms : undefined;
  return {
    accessToken: b.access_token as string,
    refreshToken: typeof b.refresh_token === 'string' ? b.refresh_token : previousRefreshToken,
    expiresAt: expiresIn === undefined ? undefined : issuedAt + expiresIn,
    issuedAt,
  };
}

export interface WhoAmI {
  userId: string;
  deviceId?: string;
  isGuest: boolean;
}

export async function whoami(http: HttpRequester, baseUrl: string, accessToken: string, opts: CallOptions = {}): Promise<WhoAmI> {
  const { body } = await http.request(baseUrl, '/_matrix/client/v3/account/whoami', { accessToken, signal: opts.signal });
  if (typeof body.user_id !== 'string') {
    throw new RequestFailedError('invalid-response', t('{0} answered whoami without a user id.', baseUrl), baseUrl);
  }
  return {
    userId: body.user_id,
    deviceId: typeof body.device_id === 'string' ? body.device_id : undefined,
    isGuest: body.is_guest === true,
  };
}

export async function logout(http: HttpRequester, baseUrl: string, accessToken: string, opts: CallOptions = {}): Promise<void> {
  await http.request(baseUrl, '/_matrix/client/v3/logout', { method: 'POST', body: {}, accessToken, signal: opts.signal });
}

/**
 * One `/refresh` call. No Authorization header: the refresh token is the credential.
 * The caller must store the answer before using it (see rotation.ts).
 */
export async function requestRefresh(
  http: HttpRequester,
  baseUrl: string,
  refreshToken: string,
  opts: CallOptions & { refreshTokenLifetimeMs?: number; timeoutMs?: number } = {},
): Promise<SessionTokens> {
  const now = opts.now ?? Date.now;
  const body: Record<string, unknown> = { refresh_token: refreshToken };
  if (opts.refreshTokenLifetimeMs !== undefined) body[CUSTOM_REFRESH_LIFETIME_FIELD] = opts.refreshTokenLifetimeMs;
  const res = await http.request(baseUrl, '/_matrix/client/v3/refresh', {
    method: 'POST',
    body,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
  });
  if (typeof res.body.access_token !== 'string') {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} answered the token refresh without an access token.', baseUrl),
      res.url,
      res.status,
    );
  }
  // A server may rotate only the access token; then the old refresh token stays ours.
  return tokensFrom(res.body, now(), refreshToken);
}
