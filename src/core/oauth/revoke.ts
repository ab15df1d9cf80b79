// Token revocation (RFC 7009 §2.1). MAS revokes both tokens of a session when
// either is revoked, and answers 200 for a token it no longer knows (§2.2).
import type { HttpClient } from '../http';
import { asOAuthError } from './errors';
import type { OAuthGrant } from './types';

/** False when the server has no revocation endpoint (nothing was sent). */
export async function revokeToken(http: HttpClient, grant: OAuthGrant, token: string, hint: 'refresh_token' | 'access_token', opts: { signal?: AbortSignal } = {}): Promise<boolean> {
  if (!grant.revocationEndpoint) return false;
  try {
    await http.request(grant.revocationEndpoint, '', { method: 'POST', form: { token, token_type_hint: hint, client_id: grant.clientId }, signal: opts.signal, allowEmptyBody: true });
    return true;
  } catch (e) {
    throw asOAuthError(e);
  }
}
