// Legacy single sign-on (client-server spec "SSO client login"): the browser
// goes to /login/sso/redirect[/{idpId}]?redirectUrl=…, the identity provider
// signs the person in, and the homeserver sends the browser back to
// redirectUrl with `loginToken` added; the client then logs in with
// m.login.token (session.ts). Synapse keeps the query of redirectUrl, so our
// own `state` travels in it and is checked when the browser comes back (the
// spec has no state of its own; a redirect we did not start is never used).
import { RequestFailedError } from './errors';
import { t } from './l10n';
import { callbackParams } from './oauth/authorize';

export const SSO_REDIRECT_PATH = '/_matrix/client/v3/login/sso/redirect';

export function buildSsoRedirectUrl(baseUrl: string, redirectUrl: string, idpId?: string): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${SSO_REDIRECT_PATH}${idpId ? `/${encodeURIComponent(idpId)}` : ''}`);
  url.searchParams.set('redirectUrl', redirectUrl);
  return url.toString();
}

/** The redirect URL with our state in it. */
export function ssoRedirectUrlWithState(loopbackUri: string, state: string): string {
  const url = new URL(loopbackUri);
  url.searchParams.set('state', state);
  return url.toString();
}

/** The `loginToken` of the callback, after checking it is the answer to this sign-in. */
export function processSsoCallback(callbackUrl: string, expectedState: string, baseUrl: string): string {
  const params = callbackParams(callbackUrl, expectedState, baseUrl);
  const token = params.get('loginToken');
  if (!token) {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} sent the browser back without a "loginToken"; start the sign-in again.', new URL(baseUrl).host),
      baseUrl,
    );
  }
  return token;
}
