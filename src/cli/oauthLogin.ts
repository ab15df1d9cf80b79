// `matrix-devtools login --homeserver <server> --oauth`: OAuth 2.0 sign-in
// with the device grant, the natural flow in a terminal (like `gh auth login`):
// the URL and the code go to stderr, the session summary to stdout.
import { discoverHomeserver } from '../core/homeserver';
import { discoverAuthMetadata, offersDeviceCode, signInWithDeviceCode } from '../core/oauth';
import type { LoginResult } from '../core/session';
import type { HttpRequester } from '../core/http';

export async function oauthDeviceLogin(
  http: HttpRequester,
  err: (line: string) => void,
  homeserver: string,
): Promise<{ baseUrl: string; result: LoginResult }> {
  const server = await discoverHomeserver(http, homeserver);
  const metadata = await discoverAuthMetadata(http, server.baseUrl);
  if (!metadata) {
    throw new Error(
      `${server.baseUrl} does not use OAuth 2.0 sign-in (no auth_metadata); sign in with --user and --password-stdin instead.`,
    );
  }
  if (!offersDeviceCode(metadata)) {
    throw new Error(
      `${new URL(metadata.issuer).host} does not offer sign-in with a code (the device grant), which the CLI needs; sign in from VS Code instead.`,
    );
  }
  const cancel = new AbortController();
  const onSigint = () => cancel.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await signInWithDeviceCode(http, server.baseUrl, metadata, {
      signal: cancel.signal,
      onCode: (a) => {
        err(`To sign in, open ${a.verificationUriComplete ?? a.verificationUri} in a browser and enter the code ${a.userCode}`);
        err(`Waiting for you to confirm (the code expires at ${new Date(a.expiresAt).toLocaleTimeString()}; Ctrl-C cancels) ...`);
      },
    });
    return { baseUrl: server.baseUrl, result };
  } finally {
    process.off('SIGINT', onSigint);
  }
}
