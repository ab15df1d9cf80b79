// OAuth 2.0 sign-in through the browser: authorization code + PKCE (S256)
// with the redirect coming back to a loopback listener (RFC 8252). The
// caller opens the URL (vscode.env.openExternal in the extension; a test
// browser in tests) and supplies the pages the browser tab shows.
import { RequestFailedError } from '../core/errors';
import type { HttpRequester } from '../core/http';
import { t } from '../core/l10n';
import { buildAuthorizationUrl, processAuthorizationCallback } from '../core/oauth/authorize';
import { codeChallengeS256, generateCodeVerifier, generateState } from '../core/oauth/pkce';
import { completeOAuthSignIn, prepareOAuthSignIn } from '../core/oauth/signIn';
import { exchangeAuthorizationCode } from '../core/oauth/token';
import type { AuthMetadata } from '../core/oauth/types';
import type { LoginResult } from '../core/session';
import { type LoopbackPages, startLoopbackListener } from './loopbackRedirect';

export interface BrowserSignInOptions {
  /** Opens the URL in the user's browser; false = it could not. */
  openBrowser(url: string): Promise<boolean>;
  pages: LoopbackPages;
  /** How long to wait for the browser. Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sign in again on this device. */
  deviceId?: string;
  /** Listen on this port instead of a random one (tests of a taken port). */
  port?: number;
}

export async function signInWithBrowser(
  http: HttpRequester,
  baseUrl: string,
  metadata: AuthMetadata,
  opts: BrowserSignInOptions,
): Promise<LoginResult> {
  const prepared = await prepareOAuthSignIn(http, metadata, { deviceId: opts.deviceId, signal: opts.signal });
  const listener = await startLoopbackListener({
    port: opts.port,
    timeoutMs: opts.timeoutMs ?? 5 * 60_000,
    signal: opts.signal,
    pages: opts.pages,
  });
  try {
    const verifier = generateCodeVerifier();
    const state = generateState();
    const url = buildAuthorizationUrl(metadata, {
      clientId: prepared.grant.clientId,
      redirectUri: listener.redirectUri,
      scope: prepared.grant.scope,
      state,
      codeChallenge: codeChallengeS256(verifier),
    });
    if (!(await opts.openBrowser(url))) {
      throw new RequestFailedError(
        'cancelled',
        t('The browser could not be opened for the sign-in; try "Sign in with a code" instead.'),
        metadata.issuer,
      );
    }
    const code = processAuthorizationCallback(await listener.callback, state, metadata.issuer);
    const tokens = await exchangeAuthorizationCode(http, prepared.grant, code, listener.redirectUri, verifier, { signal: opts.signal });
    return await completeOAuthSignIn(http, baseUrl, prepared, tokens, { signal: opts.signal });
  } finally {
    listener.close();
  }
}
