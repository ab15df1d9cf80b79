// Everything dist/oauth.js holds (esbuild.js): the OAuth 2.0 steps of signing
// in and out, loaded through src/core/oauth.ts on the first sign-in or sign-out.
// The browser sign-in (a loopback listener, src/node) is in the same file
// because it is only ever used together with these steps.
export { discoverAuthMetadata } from './metadata';
export { completeOAuthSignIn, offersDeviceCode, prepareOAuthSignIn, signInWithDeviceCode } from './signIn';
export { revokeSession, revokeToken } from './revoke';
export { refreshOAuthTokens } from './token';
export { isOAuthError } from './errors';
export { signInWithBrowser } from '../../node/browserSignIn';
