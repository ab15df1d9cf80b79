// The OAuth test setup: a real authorization server (oidc-provider) and the
// test homeserver delegating its authentication to it, as Synapse with MAS.
import { TestHomeserver, type TestHomeserverOptions } from '../homeserver';
import type { DelegatedAuthOptions } from '../homeserver/delegated';
import { TestAuthServer, type TestAuthServerOptions } from './authServer';

export { TestAuthServer } from './authServer';
export { TestBrowser } from './browser';

export interface OAuthSetup {
  auth: TestAuthServer;
  hs: TestHomeserver;
  stop(): Promise<void>;
}

export async function startOAuthHomeserver(
  opts: { auth?: TestAuthServerOptions; homeserver?: TestHomeserverOptions; delegated?: Omit<DelegatedAuthOptions, 'authServer'> } = {},
): Promise<OAuthSetup> {
  const auth = await TestAuthServer.start(opts.auth);
  const hs = await TestHomeserver.start({ ...opts.homeserver, delegatedAuth: { authServer: auth, ...opts.delegated } });
  return {
    auth,
    hs,
    stop: async () => {
      await hs.stop();
      await auth.stop();
    },
  };
}
