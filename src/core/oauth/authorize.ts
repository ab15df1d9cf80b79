// The authorization request and the redirect back (RFC 6749 §4.1.1–4.1.2,
// PKCE RFC 7636 §4.3, loopback redirect RFC 8252 §7.3).
import { MatrixApiError, RequestFailedError } from '../errors';
import { t } from '../l10n';
import type { AuthMetadata } from './types';

export interface AuthorizationRequest {
  clientId: string;
  /** The loopback URI with the port actually listened on. */
  redirectUri: string;
  scope: string;
  state: string;
  codeChallenge: string;
}

/** RFC 6749 §4.1.1 with `code_challenge_method=S256`; `response_mode=query` so the loopback listener sees the answer. */
export function buildAuthorizationUrl(metadata: AuthMetadata, req: AuthorizationRequest): string {
  const url = new URL(metadata.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('response_mode', 'query');
  url.searchParams.set('client_id', req.clientId);
  url.searchParams.set('redirect_uri', req.redirectUri);
  url.searchParams.set('scope', req.scope);
  url.searchParams.set('state', req.state);
  url.searchParams.set('code_challenge', req.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** The query of a loopback callback, once its `state` is the one this sign-in sent (also for legacy SSO). */
export function callbackParams(callbackUrl: string, expectedState: string, server: string): URLSearchParams {
  const params = new URL(callbackUrl).searchParams;
  if (params.get('state') !== expectedState) {
    throw new RequestFailedError(
      'invalid-response',
      t(
        'The browser came back with a sign-in answer this sign-in did not ask for ("state" does not match); nothing was used. Start the sign-in again.',
      ),
      server,
    );
  }
  return params;
}

/**
 * RFC 6749 §4.1.2 / §4.1.2.1: the query of the redirect. `state` is checked
 * first (§10.12: a request we did not start is never acted on, not even its
 * error). An error answer becomes a MatrixApiError with the OAuth code
 * (`access_denied` when the user said no).
 */
export function processAuthorizationCallback(callbackUrl: string, expectedState: string, issuer: string): string {
  const params = callbackParams(callbackUrl, expectedState, issuer);
  // RFC 9207 §2.4: when the server names its issuer, it must be the one we asked.
  const iss = params.get('iss');
  if (iss !== null && iss !== issuer) {
    throw new RequestFailedError(
      'invalid-response',
      t('The sign-in answer came from {0}, not from {1} ("iss" does not match); nothing was used.', iss, issuer),
      issuer,
    );
  }
  const error = params.get('error');
  if (error !== null) throw new MatrixApiError(400, error, params.get('error_description') ?? '', issuer, undefined, false, { error });
  const code = params.get('code');
  if (!code) {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} redirected back without a "code"; start the sign-in again.', new URL(issuer).host),
      issuer,
    );
  }
  return code;
}
