// Everything dist/oauth.js holds (esbuild.js): the OAuth 2.0 steps of signing
// in and out, loaded through src/core/oauth.ts on the first sign-in or sign-out.
// The browser and single sign-on sign-ins (a loopback listener, src/node) are
// in the same file because they are only ever used together with these steps.
export { discoverAuthMetadata } from './metadata';
export { completeOAuthSignIn, offersDeviceCode, prepareOAuthSignIn, signInWithDeviceCode } from './signIn';
export { revokeSession, revokeToken } from './revoke';
export { refreshOAuthTokens } from './token';
export { isOAuthError } from './errors';
export { signInWithBrowser } from '../../node/browserSignIn';
export { signInWithSso } from '../../node/ssoSignIn';
