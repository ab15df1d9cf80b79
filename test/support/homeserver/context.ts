// What every endpoint handler sees: the request, the server's live settings
// and stores, and Synapse's way of turning a request into a requester.
import type * as http from 'node:http';
import type { AppserviceRegistry, PendingPings } from './appservices';
import type { SessionStore } from './auth';
import type { DelegatedAuth, IntrospectedUser } from './delegated';
import type { SsoService } from './sso';
import { MatrixError, Reply } from './http';
import type { PingEndpointMode, RegistrationObject } from './types';

/** The options after defaults, mutable through the setters on TestHomeserver. */
export interface LiveConfig {
  serverName: string;
  accessTokenLifetimeMs: number | null;
  refreshTokenLifetimeMs: number | null;
  honourCustomRefreshLifetime: boolean;
  maxCustomRefreshLifetimeMs: number;
  versions: string[];
  unstableFeatures: Record<string, boolean>;
  pingEndpoint: PingEndpointMode;
  pingTimeoutMs: number;
  wellKnown: { kind: 'default' } | { kind: 'absent' } | { kind: 'value'; value: unknown };
  loginFlows: Array<{ type: string; [k: string]: unknown }>;
  publicBaseUrl?: string;
  authMetadata?: Record<string, unknown>;
}

export interface ServerState {
  config: LiveConfig;
  sessions: SessionStore;
  appservices: AppserviceRegistry;
  pendingPings: PendingPings;
  baseUrl: string;
  delegated?: DelegatedAuth;
  /** Legacy SSO (m.login.sso), when configured. */
  sso?: SsoService;
}

export interface RequestContext {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** Capture groups of the route's pattern, URL-decoded. */
  params: string[];
  /** With delegated auth: what introspection said about the bearer token (done before dispatch: it is async). */
  introspected?: IntrospectedUser | 'inactive' | 'no-api-scope' | 'unavailable';
}

export type Handler = (state: ServerState, ctx: RequestContext) => Reply | Promise<Reply>;

export type Requester =
  | { kind: 'user'; userId: string; deviceId: string; accessToken: string }
  | { kind: 'appservice'; reg: RegistrationObject; userId: string; accessToken: string };

/** Synapse's `get_access_token_from_request`. */
export function accessTokenFrom(ctx: RequestContext): string {
  const header = ctx.headers.authorization;
  const fromQuery = ctx.query.getAll('access_token');
  if (header !== undefined) {
    if (fromQuery.length > 0) throw missingToken('Mixing Authorization headers and access_token query parameters.');
    const parts = header.split(' ');
    if (parts[0] === 'Bearer' && parts.length === 2) return parts[1];
    throw missingToken('Invalid Authorization header.');
  }
  if (fromQuery.length === 0 || fromQuery[0] === '') throw missingToken('Missing access token');
  return fromQuery[0];
}

const missingToken = (msg: string) => new MatrixError(401, 'M_MISSING_TOKEN', msg);

/**
 * Synapse's `get_user_by_req`: an as_token first (optionally masquerading
 * through `?user_id=`), then a user's access token.
 */
export function requireRequester(state: ServerState, ctx: RequestContext, opts: { allowExpired?: boolean } = {}): Requester {
  const accessToken = accessTokenFrom(ctx);
  const reg = state.appservices.byToken(accessToken);
  if (reg) {
    const sender = state.appservices.senderOf(reg);
    const masquerade = ctx.query.get('user_id');
    if (masquerade !== null && masquerade !== sender) {
      if (!state.appservices.isInterestedInUser(reg, masquerade)) {
        throw new MatrixError(403, 'M_FORBIDDEN', `Application service cannot masquerade as this user (${masquerade}).`);
      }
      if (!state.sessions.userExists(masquerade)) {
        throw new MatrixError(403, 'M_FORBIDDEN', `Application service has not registered this user (${masquerade})`);
      }
    }
    return { kind: 'appservice', reg, userId: masquerade ?? sender, accessToken };
  }
  if (state.delegated) return delegatedRequester(state, ctx, accessToken);
  const row = state.sessions.authenticate(accessToken, opts.allowExpired);
  return { kind: 'user', userId: row.userId, deviceId: row.deviceId, accessToken };
}

/** Synapse's MSC3861DelegatedAuth.get_user_by_access_token, on the introspection answer. */
function delegatedRequester(state: ServerState, ctx: RequestContext, accessToken: string): Requester {
  const result = ctx.introspected;
  if (result === 'unavailable' || result === undefined) throw new MatrixError(503, 'M_UNKNOWN', 'Could not introspect the access token');
  if (result === 'inactive') throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Token is not active', { soft_logout: false });
  if (result === 'no-api-scope') {
    throw new MatrixError(401, 'M_UNKNOWN_TOKEN', "Token doesn't grant access to the Matrix C-S API", { soft_logout: false });
  }
  const userId = state.sessions.ensureUser(result.localpart);
  state.sessions.ensureDevice(userId, result.deviceId);
  return { kind: 'user', userId, deviceId: result.deviceId, accessToken };
}
