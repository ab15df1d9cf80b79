// Which ways of signing in a homeserver offers, from the two places it says so:
// `auth_metadata` (OAuth 2.0, spec v1.15, with MSC2965's unstable fallback) and
// the legacy `GET /login` flows (password, m.login.sso with its identity
// providers, m.login.token). A server that delegates to an OAuth server lists
// m.login.sso only as its compatibility layer (MSC3824): an OAuth-aware client
// uses OAuth then, not the SSO flow.
import { MatrixApiError } from './errors';
import { getLoginFlows, type LoginFlow } from './homeserver';
import type { HttpRequester } from './http';
import { discoverAuthMetadata } from './oauth';
import type { AuthMetadata } from './oauth/types';

/** An identity provider of `m.login.sso` (spec: `identity_providers[]`). */
export interface SsoProvider {
  id: string;
  name: string;
  brand?: string;
}

export interface SignInMethods {
  /** Present when the server uses OAuth 2.0 (next-generation auth). */
  oauth?: AuthMetadata;
  /** Why OAuth could not be used although the server seems to offer it (one sentence), e.g. broken metadata. */
  oauthProblem?: string;
  password: boolean;
  /** Legacy single sign-on, unless it is only the OAuth server's compatibility flow. */
  sso?: { providers: SsoProvider[] };
  /** `m.login.token`: the second half of SSO. */
  loginToken: boolean;
}

/** Asks both places; a server without /login (delegated auth) simply has no legacy flows. */
export async function detectSignInMethods(http: HttpRequester, baseUrl: string, signal?: AbortSignal): Promise<SignInMethods> {
  const [oauth, flows] = await Promise.all([
    discoverAuthMetadata(http, baseUrl, { signal }).then(
      (metadata) => ({ metadata, problem: undefined }),
      (e: unknown) => {
        if (signal?.aborted) throw e;
        return { metadata: undefined, problem: e instanceof Error ? e.message : String(e) };
      },
    ),
    getLoginFlows(http, baseUrl, signal).catch((e: unknown) => {
      if (e instanceof MatrixApiError && (e.status === 404 || e.status === 405)) return [] as LoginFlow[];
      throw e;
    }),
  ]);
  return methodsFrom(oauth.metadata, flows, oauth.problem);
}

/** The pure part: what the two answers mean together. */
export function methodsFrom(oauth: AuthMetadata | undefined, flows: LoginFlow[], oauthProblem?: string): SignInMethods {
  const has = (type: string) => flows.some((f) => f.type === type);
  const loginToken = has('m.login.token');
  const methods: SignInMethods = { password: has('m.login.password'), loginToken };
  if (oauth) methods.oauth = oauth;
  else if (oauthProblem) methods.oauthProblem = oauthProblem;
  const sso = flows.find((f) => f.type === 'm.login.sso');
  // Without m.login.token the loginToken that SSO hands back cannot be used.
  if (sso && loginToken && !(oauth && isOAuthCompatibilityFlow(sso))) methods.sso = { providers: providersOf(sso) };
  return methods;
}

/** MSC3824: the flow exists for clients that do not speak OAuth. */
function isOAuthCompatibilityFlow(flow: LoginFlow): boolean {
  return flow.oauth_aware_preferred === true || flow['org.matrix.msc3824.delegated_oidc_compatibility'] === true;
}

function providersOf(flow: LoginFlow): SsoProvider[] {
  const list = Array.isArray(flow.identity_providers) ? (flow.identity_providers as unknown[]) : [];
  const providers: SsoProvider[] = [];
  for (const p of list) {
    if (!p || typeof p !== 'object') continue;
    const { id, name, brand } = p as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') continue;
    providers.push({ id, name: typeof name === 'string' && name ? name : id, ...(typeof brand === 'string' ? { brand } : {}) });
  }
  return providers;
}
