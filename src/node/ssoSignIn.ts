// Legacy SSO through the browser: the redirect comes back to the same
// loopback listener OAuth uses (RFC 8252 §7.3), then m.login.token with
// refresh_token: true (core/sso.ts, core/session.ts).
import { RequestFailedError } from '../core/errors';
import type { HttpRequester } from '../core/http';
import { t } from '../core/l10n';
import { generateState } from '../core/oauth/pkce';
import { loginWithLoginToken, type LoginResult } from '../core/session';
import { buildSsoRedirectUrl, processSsoCallback, ssoRedirectUrlWithState } from '../core/sso';
import { type LoopbackPages, startLoopbackListener } from './loopbackRedirect';

export interface SsoSignInOptions {
  /** Opens the URL in the user's browser; false = it could not. */
  openBrowser(url: string): Promise<boolean>;
  pages: LoopbackPages;
  /** One of the flow's `identity_providers`; none = the server's default. */
  idpId?: string;
  deviceDisplayName?: string;
  /** Sign in again on this device. */
  deviceId?: string;
  /** How long to wait for the browser. Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

export async function signInWithSso(http: HttpRequester, baseUrl: string, opts: SsoSignInOptions): Promise<LoginResult> {
  const listener = await startLoopbackListener({ timeoutMs: opts.timeoutMs ?? 5 * 60_000, signal: opts.signal, pages: opts.pages });
  try {
    const state = generateState();
    const url = buildSsoRedirectUrl(baseUrl, ssoRedirectUrlWithState(listener.redirectUri, state), opts.idpId);
    if (!(await opts.openBrowser(url))) {
      throw new RequestFailedError('cancelled', t('The browser could not be opened for the sign-in.'), baseUrl);
    }
    const loginToken = processSsoCallback(await listener.callback, state, baseUrl);
    return await loginWithLoginToken(
      http,
      baseUrl,
      loginToken,
      { deviceDisplayName: opts.deviceDisplayName, deviceId: opts.deviceId },
      { signal: opts.signal, now: opts.now },
    );
  } finally {
    listener.close();
  }
}
