// The part of oidc-provider's API (npm `oidc-provider` 9.x, ESM without type
// declarations) that the test authorization server uses, typed by hand.
import type * as http from 'node:http';

export interface InteractionDetails {
  uid: string;
  prompt: {
    name: 'login' | 'consent' | string;
    details: { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  };
  params: Record<string, unknown> & { client_id: string; scope?: string };
  session?: { accountId: string };
  grantId?: string;
}

export interface GrantLike {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

export interface OidcProvider {
  proxy: boolean;
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: Record<string, unknown>,
    opts?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): GrantLike; find(id: string): Promise<GrantLike | undefined> };
  on(event: string, listener: (...args: unknown[]) => void): void;
}

/** Just enough of oidc-provider's KoaContextWithOIDC for the configuration callbacks. */
export interface OidcContext {
  oidc: {
    params?: Record<string, unknown>;
    entities: Record<string, { scope?: string } | undefined>;
  };
}

type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

/** Node 20.19+ loads the ES module synchronously (require(esm)). */
export function loadProvider(): ProviderConstructor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package is ESM-only; require(esm) keeps this module CommonJS like the rest of the tests
  return (require('oidc-provider') as { default: ProviderConstructor }).default;
}
