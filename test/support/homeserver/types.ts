// Public shapes of the test homeserver: options, registrations, the request log.

/** One namespace entry of an appservice registration (`namespaces.users[]` etc.). */
export interface NamespaceEntry {
  exclusive?: boolean;
  regex: string;
}

/** An appservice registration as Synapse reads it from its YAML file. */
export interface RegistrationObject {
  id: string;
  /** null (or empty) = receive-only appservice: ping answers M_URL_NOT_SET. */
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  namespaces?: { users?: NamespaceEntry[]; aliases?: NamespaceEntry[]; rooms?: NamespaceEntry[] };
  rate_limited?: boolean;
  [extra: string]: unknown;
}

import type { DelegatedAuthOptions } from './delegated';
import type { SsoOptions } from './sso';

export type PingEndpointMode = 'stable' | 'unstable' | 'both' | 'none';

export interface TestHomeserverOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Default 'localhost'. */
  serverName?: string;
  /** Default [{ localpart: 'alice', password: 'wonderland' }]. */
  users?: { localpart: string; password: string }[];
  /**
   * Lifetime of refreshable access tokens. Default 300_000 (Synapse's
   * `refreshable_access_token_lifetime`). null = the server has no refresh
   * support: tokens never expire, no refresh token is issued even when asked,
   * and /refresh does not exist (404), as in Synapse.
   */
  accessTokenLifetimeMs?: number | null;
  /** Default null: refresh tokens never expire. */
  refreshTokenLifetimeMs?: number | null;
  /** famedly fork: honour `com.famedly.refresh_token_lifetime_ms` on /login and /refresh. Default false. */
  honourCustomRefreshLifetime?: boolean;
  /** Cap for the custom refresh-token lifetime. Default 7 days. */
  maxCustomRefreshLifetimeMs?: number;
  /** Default: the list Synapse 1.84 advertises (r0.0.1 … r0.6.1, v1.1 … v1.6). */
  versions?: string[];
  /**
   * Default depends on `pingEndpoint`: stable/both → {'fi.mau.msc2659.stable': true},
   * unstable → {'fi.mau.msc2659': true}, none → {}.
   */
  unstableFeatures?: Record<string, boolean>;
  /** Which ping path(s) exist. Default 'stable' (v1 path, plus Synapse's un-namespaced `unstable` alias). */
  pingEndpoint?: PingEndpointMode;
  /** How long the homeserver waits for the appservice's answer. Default 60_000 (Synapse). */
  pingTimeoutMs?: number;
  /** YAML registration file paths, or registration objects. */
  appservices?: Array<string | RegistrationObject>;
  /**
   * Body of GET /.well-known/matrix/client. Option absent → {"m.homeserver":{"base_url": publicBaseUrl ?? baseUrl}};
   * null or undefined given explicitly → 404; 'html' → an HTML page; 'invalid-json' → broken JSON;
   * anything else → served as JSON.
   */
  wellKnown?: unknown;
  /** Default [m.login.password, m.login.token, m.login.application_service]. */
  loginFlows?: Array<{ type: string; [k: string]: unknown }>;
  /** Base URL advertised in the login response's `well_known` (and the default .well-known). Default: baseUrl. */
  publicBaseUrl?: string;
  /** Clock for token expiry. Default Date.now. */
  now?: () => number;
  /** OAuth 2.0 (next-generation auth): tokens come from this authorization server and are checked by introspection. */
  delegatedAuth?: DelegatedAuthOptions;
  /**
   * Body of GET /_matrix/client/v1/auth_metadata (and MSC2965's unstable path):
   * the server uses next-generation auth. Default: absent (404 M_UNRECOGNIZED, as Synapse without MAS).
   */
  authMetadata?: Record<string, unknown>;
  /**
   * Legacy single sign-on through a built-in identity provider (as Synapse with
   * an OIDC/SAML provider): adds m.login.sso to the default login flows.
   */
  sso?: SsoOptions;
}

/** A transaction the homeserver pushed to an appservice, and how it went. */
export interface TransactionRecord {
  appserviceId: string;
  txnId: string;
  events: unknown[];
  ok: boolean;
  /** For a failure: M_CONNECTION_FAILED, M_BAD_STATUS (with the appservice's status), M_CONNECTION_TIMEOUT. */
  errcode?: string;
  appserviceStatus?: number;
  at: number;
}

export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Status sent (or, for a dropped response, the status that would have been sent). */
  status: number;
  errcode?: string;
  /** Wall-clock time (Date.now()) when the answer was sent or dropped. */
  at: number;
  /** True when a fault knob destroyed the socket instead of answering. */
  dropped?: boolean;
}
