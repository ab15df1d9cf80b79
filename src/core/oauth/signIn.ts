// OAuth 2.0 sign-in to a Matrix homeserver, the steps both ways share
// (browser + loopback in src/node/browserSignIn.ts, a code in a terminal or a
// remote window here): register the client, pick the device, ask for the
// Matrix scopes, and turn the tokens into a session (whoami names the user).
import type { HttpRequester } from '../http';
import { t } from '../l10n';
import { RequestFailedError } from '../errors';
import { type LoginResult, type SessionTokens, whoami } from '../session';
import { type DeviceAuthorization, type DevicePollOptions, pollDeviceToken, requestDeviceAuthorization } from './device';
import { registerClient } from './registration';
import { deviceIdFromScope, generateDeviceId, matrixScope } from './scopes';
import { type AuthMetadata, DEVICE_CODE_GRANT, type OAuthGrant } from './types';

export interface PreparedOAuthSignIn {
  metadata: AuthMetadata;
  grant: OAuthGrant;
  deviceId: string;
}

/**
 * Registers a client for this sign-in (spec v1.15: clients register for each
 * sign-in unless they know the server still has them) and builds the scope.
 * `deviceId`: sign in again on an existing device.
 */
export async function prepareOAuthSignIn(
  http: HttpRequester,
  metadata: AuthMetadata,
  opts: { deviceId?: string; signal?: AbortSignal } = {},
): Promise<PreparedOAuthSignIn> {
  const client = await registerClient(http, metadata, { signal: opts.signal });
  const deviceId = opts.deviceId ?? generateDeviceId();
  return {
    metadata,
    deviceId,
    grant: {
      issuer: metadata.issuer,
      tokenEndpoint: metadata.tokenEndpoint,
      revocationEndpoint: metadata.revocationEndpoint,
      clientId: client.clientId,
      scope: matrixScope(deviceId, metadata.scopesSupported),
    },
  };
}

/** The server lists the device grant and has its endpoint. */
export function offersDeviceCode(metadata: AuthMetadata): boolean {
  return metadata.deviceAuthorizationEndpoint !== undefined && metadata.grantTypesSupported.includes(DEVICE_CODE_GRANT);
}

/** Checks the new tokens with whoami: the user id, and that the device is the one asked for. */
export async function completeOAuthSignIn(
  http: HttpRequester,
  baseUrl: string,
  prepared: PreparedOAuthSignIn,
  tokens: SessionTokens,
  opts: { signal?: AbortSignal } = {},
): Promise<LoginResult> {
  const me = await whoami(http, baseUrl, tokens.accessToken, opts);
  const deviceId = me.deviceId ?? deviceIdFromScope(tokens.oauth?.scope ?? '') ?? prepared.deviceId;
  if (deviceId !== prepared.deviceId) {
    throw new RequestFailedError(
      'invalid-response',
      t('{0} signed in device {1}, not the device {2} that was asked for.', new URL(baseUrl).host, deviceId, prepared.deviceId),
      baseUrl,
    );
  }
  return { userId: me.userId, deviceId, tokens };
}

export interface DeviceCodeSignInOptions extends DevicePollOptions {
  deviceId?: string;
  /** Show the code to the person (stderr, a notification); polling starts when it returns. */
  onCode(authorization: DeviceAuthorization): void | Promise<void>;
}

/** RFC 8628 end to end: register, ask for a code, show it, poll, check the session. */
export async function signInWithDeviceCode(
  http: HttpRequester,
  baseUrl: string,
  metadata: AuthMetadata,
  opts: DeviceCodeSignInOptions,
): Promise<LoginResult> {
  const prepared = await prepareOAuthSignIn(http, metadata, { deviceId: opts.deviceId, signal: opts.signal });
  const authorization = await requestDeviceAuthorization(http, metadata, prepared.grant.clientId, prepared.grant.scope, {
    signal: opts.signal,
    now: opts.now,
  });
  await opts.onCode(authorization);
  const tokens = await pollDeviceToken(http, prepared.grant, authorization, opts);
  return completeOAuthSignIn(http, baseUrl, prepared, tokens, { signal: opts.signal });
}
