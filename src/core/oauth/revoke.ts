// Token revocation (RFC 7009 §2.1). MAS revokes both tokens of a session when
// either is revoked, and answers 200 for a token it no longer knows (§2.2).
import type { HttpRequester } from '../http';
import { asOAuthError } from './errors';
import type { OAuthGrant } from './types';

/** False when the server has no revocation endpoint (nothing was sent). */
export async function revokeToken(
  http: HttpRequester,
  grant: OAuthGrant,
  token: string,
  hint: 'refresh_token' | 'access_token',
  opts: { signal?: AbortSignal } = {},
): Promise<boolean> {
  if (!grant.revocationEndpoint) return false;
  try {
    await http.request(grant.revocationEndpoint, '', {
      method: 'POST',
      form: { token, token_type_hint: hint, client_id: grant.clientId },
      signal: opts.signal,
      allowEmptyBody: true,
    });
    return true;
  } catch (e) {
    throw asOAuthError(e);
  }
}

/**
 * Sign-out of an OAuth session: revoke the refresh token (MAS then revokes
 * the access token with it), or the access token when there is none.
 * Never /logout: a delegated server does not serve it.
 */
export async function revokeSession(
  http: HttpRequester,
  tokens: { accessToken: string; refreshToken?: string; oauth: OAuthGrant },
  opts: { signal?: AbortSignal } = {},
): Promise<boolean> {
  if (tokens.refreshToken) return revokeToken(http, tokens.oauth, tokens.refreshToken, 'refresh_token', opts);
  return revokeToken(http, tokens.oauth, tokens.accessToken, 'access_token', opts);
}
