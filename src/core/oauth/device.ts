// The device authorization grant (RFC 8628): for terminals and for VS Code
// windows whose extension host a loopback redirect cannot reach (remote, web).
import { RequestFailedError } from '../errors';
import { type HttpRequester, sleep } from '../http';
import { t } from '../l10n';
import type { SessionTokens } from '../session';
import { asOAuthError, invalidField, isOAuthError, optionalString, requireString } from './errors';
import { requestToken, processTokenResponse, type TokenRequestOptions } from './token';
import { type AuthMetadata, DEVICE_CODE_GRANT, type OAuthGrant } from './types';

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  /** RFC 8628 §3.3.1: the URI with the code in it; MAS sends it only when configured to. */
  verificationUriComplete?: string;
  /** Epoch ms after which the codes are dead. */
  expiresAt: number;
  /** Seconds between polls (RFC 8628 §3.2: default 5). */
  intervalSeconds: number;
}

/** RFC 8628 §3.1. */
export async function requestDeviceAuthorization(
  http: HttpRequester,
  metadata: AuthMetadata,
  clientId: string,
  scope: string,
  opts: { signal?: AbortSignal; now?: () => number } = {},
): Promise<DeviceAuthorization> {
  if (!metadata.deviceAuthorizationEndpoint) {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} does not offer sign-in with a code (no device_authorization_endpoint).', new URL(metadata.issuer).host),
      metadata.issuer,
    );
  }
  try {
    const res = await http.request(metadata.deviceAuthorizationEndpoint, '', {
      method: 'POST',
      form: { client_id: clientId, scope },
      signal: opts.signal,
    });
    return processDeviceAuthorizationResponse(res.body, res.url, (opts.now ?? Date.now)());
  } catch (e) {
    throw asOAuthError(e);
  }
}

/** RFC 8628 §3.2: `device_code`, `user_code`, `verification_uri`, `expires_in` required; `interval` defaults to 5. */
export function processDeviceAuthorizationResponse(body: Record<string, unknown>, url: string, now: number): DeviceAuthorization {
  const what = 'device authorization request';
  const expiresIn = body.expires_in;
  if (typeof expiresIn !== 'number' || !(expiresIn > 0)) throw invalidField(url, what, 'expires_in', t('a positive number of seconds'));
  const interval = body.interval;
  if (interval !== undefined && (typeof interval !== 'number' || interval < 0)) {
    throw invalidField(url, what, 'interval', t('a number of seconds'));
  }
  return {
    deviceCode: requireString(body, 'device_code', url, what),
    userCode: requireString(body, 'user_code', url, what),
    verificationUri: requireString(body, 'verification_uri', url, what),
    verificationUriComplete: optionalString(body, 'verification_uri_complete', url, what),
    expiresAt: now + expiresIn * 1000,
    intervalSeconds: typeof interval === 'number' ? interval : 5,
  };
}

export interface DevicePollOptions extends TokenRequestOptions {
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * RFC 8628 §3.4–3.5: polls at the server's interval until the user approved.
 * `authorization_pending` → wait; `slow_down` → 5 s more from then on;
 * `access_denied`, `expired_token` and every other error end the wait (thrown
 * as MatrixApiError with that code). Cancel through `signal`.
 */
export async function pollDeviceToken(
  http: HttpRequester,
  grant: OAuthGrant,
  authorization: DeviceAuthorization,
  opts: DevicePollOptions = {},
): Promise<SessionTokens & { oauth: OAuthGrant }> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? sleep;
  let intervalMs = authorization.intervalSeconds * 1000;
  for (;;) {
    await wait(intervalMs, opts.signal).catch(() => {
      throw new RequestFailedError('cancelled', t('The sign-in with a code was cancelled.'), grant.issuer);
    });
    // The server says expired_token; this is for servers that keep saying authorization_pending.
    if (now() > authorization.expiresAt + intervalMs) {
      throw new RequestFailedError(
        'timeout',
        t('The code {0} expired before it was used; start the sign-in again.', authorization.userCode),
        grant.issuer,
      );
    }
    try {
      const res = await requestToken(
        http,
        grant.tokenEndpoint,
        { grant_type: DEVICE_CODE_GRANT, device_code: authorization.deviceCode, client_id: grant.clientId },
        opts,
      );
      return processTokenResponse(res, grant, now());
    } catch (e) {
      if (isOAuthError(e, 'authorization_pending')) continue;
      if (isOAuthError(e, 'slow_down')) {
        intervalMs += 5_000;
        continue;
      }
      throw e;
    }
  }
}
