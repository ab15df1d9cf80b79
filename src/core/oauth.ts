// OAuth 2.0 sign-in and sign-out (MSC3861 / Matrix 1.15 "next-gen auth"), for
// the CLI and the extension. The steps (core/oauth/, and src/node's browser
// sign-in with its loopback listener) are loaded on the first call, not when
// this module is imported: activating the extension, a CLI whoami and the
// rotation of a password session need none of them. esbuild.js emits them as
// dist/oauth.js.
import type * as Flows from './oauth/flows';

export type { AuthMetadata, OAuthGrant } from './oauth/types';
export type { DeviceAuthorization } from './oauth/device';
export type { DeviceCodeSignInOptions, PreparedOAuthSignIn } from './oauth/signIn';
export type { BrowserSignInOptions } from '../node/browserSignIn';
export type { SsoSignInOptions } from '../node/ssoSignIn';

let flows: typeof Flows | undefined;
function load(): typeof Flows {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (flows ??= require('./oauth/flows') as typeof Flows);
}

/** The server's OAuth 2.0 metadata, or undefined when it offers none. */
export const discoverAuthMetadata: typeof Flows.discoverAuthMetadata = (...a) => load().discoverAuthMetadata(...a);
/** The server lists the device grant and has its endpoint. */
export const offersDeviceCode: typeof Flows.offersDeviceCode = (metadata) => load().offersDeviceCode(metadata);
export const prepareOAuthSignIn: typeof Flows.prepareOAuthSignIn = (...a) => load().prepareOAuthSignIn(...a);
export const completeOAuthSignIn: typeof Flows.completeOAuthSignIn = (...a) => load().completeOAuthSignIn(...a);
export const signInWithDeviceCode: typeof Flows.signInWithDeviceCode = (...a) => load().signInWithDeviceCode(...a);
export const signInWithBrowser: typeof Flows.signInWithBrowser = (...a) => load().signInWithBrowser(...a);
export const signInWithSso: typeof Flows.signInWithSso = (...a) => load().signInWithSso(...a);
export const revokeSession: typeof Flows.revokeSession = (...a) => load().revokeSession(...a);
export const revokeToken: typeof Flows.revokeToken = (...a) => load().revokeToken(...a);
/** The token endpoint's refresh grant (core/rotation.ts, for OAuth sessions only). */
export const refreshOAuthTokens: typeof Flows.refreshOAuthTokens = (...a) => load().refreshOAuthTokens(...a);
/** Whether `e` is the OAuth error with one of these codes; only asked about OAuth sessions. */
export const isOAuthError: typeof Flows.isOAuthError = (e, ...codes) => load().isOAuthError(e, ...codes);
