// The token endpoint (RFC 6749 §3.2): code exchange (§4.1.3 + PKCE RFC 7636
// §4.5), refresh (§6), the device grant (RFC 8628 §3.4), all answered per
// §5.1 / §5.2. A public client sends `client_id` in the body (§2.3, method "none").
import type { HttpRequester } from '../http';
import { t } from '../l10n';
import type { SessionTokens } from '../session';
import { asOAuthError, invalidField, requireString } from './errors';
import { grantsApiAccess } from './scopes';
import type { OAuthGrant } from './types';

export interface TokenRequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  now?: () => number;
}

/** POST a grant to the token endpoint; OAuth error answers become MatrixApiError with the OAuth code. */
export async function requestToken(
  http: HttpRequester,
  tokenEndpoint: string,
  form: Record<string, string | undefined>,
  opts: TokenRequestOptions = {},
): Promise<{ body: Record<string, unknown>; url: string; status: number }> {
  try {
    const res = await http.request(tokenEndpoint, '', {
      method: 'POST',
      form,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      rateLimitRetries: 0,
    });
    return res;
  } catch (e) {
    throw asOAuthError(e);
  }
}

/**
 * RFC 6749 §5.1: `access_token` and `token_type` (Bearer, case-insensitive,
 * RFC 6750) are required; `expires_in` in seconds; `refresh_token` optional
 * (absent on refresh = keep the old one, §6); `scope` absent = as requested (§3.3).
 */
export function processTokenResponse(
  res: { body: Record<string, unknown>; url: string; status: number },
  grant: OAuthGrant,
  issuedAt: number,
  previousRefreshToken?: string,
): SessionTokens & { oauth: OAuthGrant } {
  const what = 'token request';
  const accessToken = requireString(res.body, 'access_token', res.url, what);
  const tokenType = requireString(res.body, 'token_type', res.url, what);
  if (tokenType.toLowerCase() !== 'bearer') throw invalidField(res.url, what, 'token_type', '"Bearer"', res.status);
  const expiresIn = res.body.expires_in;
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !(expiresIn > 0))) {
    throw invalidField(res.url, what, 'expires_in', t('a positive number of seconds'), res.status);
  }
  const refreshToken = res.body.refresh_token;
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
    throw invalidField(res.url, what, 'refresh_token', t('a non-empty string'), res.status);
  }
  const scope = res.body.scope === undefined ? grant.scope : requireString(res.body, 'scope', res.url, what);
  if (!grantsApiAccess(scope)) throw invalidField(res.url, what, 'scope', 'urn:matrix:client:api:*', res.status);
  const tokens: SessionTokens & { oauth: OAuthGrant } = { accessToken, issuedAt, oauth: { ...grant, scope } };
  const nextRefresh = typeof refreshToken === 'string' ? refreshToken : previousRefreshToken;
  if (nextRefresh !== undefined) tokens.refreshToken = nextRefresh;
  if (typeof expiresIn === 'number') tokens.expiresAt = issuedAt + expiresIn * 1000;
  return tokens;
}

/** RFC 6749 §4.1.3 with the PKCE `code_verifier` (RFC 7636 §4.5). */
export async function exchangeAuthorizationCode(
  http: HttpRequester,
  grant: OAuthGrant,
  code: string,
  redirectUri: string,
  codeVerifier: string,
  opts: TokenRequestOptions = {},
): Promise<SessionTokens & { oauth: OAuthGrant }> {
  return grantTokens(
    http,
    grant,
    { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: grant.clientId, code_verifier: codeVerifier },
    opts,
  );
}

/**
 * RFC 6749 §6, from the grant stored with the session (no discovery). The
 * caller (rotation.ts) stores the answer before anyone uses it.
 */
export async function refreshOAuthTokens(
  http: HttpRequester,
  grant: OAuthGrant,
  refreshToken: string,
  opts: TokenRequestOptions = {},
): Promise<SessionTokens & { oauth: OAuthGrant }> {
  return grantTokens(
    http,
    grant,
    { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: grant.clientId },
    opts,
    refreshToken,
  );
}

/** One token request at the grant's endpoint, its answer checked and turned into session tokens. */
async function grantTokens(
  http: HttpRequester,
  grant: OAuthGrant,
  params: Record<string, string>,
  opts: TokenRequestOptions,
  previousRefreshToken?: string,
): Promise<SessionTokens & { oauth: OAuthGrant }> {
  const now = opts.now ?? Date.now;
  const res = await requestToken(http, grant.tokenEndpoint, params, opts);
  return processTokenResponse(res, grant, now(), previousRefreshToken);
}
