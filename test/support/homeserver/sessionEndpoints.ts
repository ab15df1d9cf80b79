// /login, /refresh, /logout, /logout/all and /account/whoami, with the checks
// in the order Synapse's LoginRestServlet, AuthHandler.validate_login and
// RefreshTokenServlet make them (so the first error a client sees matches).
import type { Lifetimes } from './auth';
import { Handler, RequestContext, ServerState, requireRequester } from './context';
import { MatrixError, Reply, parseJsonObject } from './http';

const CUSTOM_LIFETIME_FIELD = 'com.famedly.refresh_token_lifetime_ms';
const INVALID_CREDENTIALS = () => new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');

export const getLoginFlows: Handler = (state) => ({ status: 200, body: { flows: state.config.loginFlows } });

export const postLogin: Handler = (state, ctx) => {
  const body = parseJsonObject(ctx.rawBody);
  const wantsRefresh = body.refresh_token ?? false;
  if (typeof wantsRefresh !== 'boolean') throw new MatrixError(400, 'M_UNKNOWN', '`refresh_token` should be true or false.');
  if (!('type' in body)) throw new MatrixError(400, 'M_UNKNOWN', 'Missing JSON keys.');

  let userId: string;
  if (body.type === 'm.login.application_service') {
    userId = appserviceLogin(state, ctx, body);
  } else if (body.type === 'm.login.token') {
    if (!('token' in body)) throw new MatrixError(400, 'M_UNKNOWN', 'Missing JSON keys.');
    if (typeof body.token !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Bad parameter: token');
    // Without SSO this server never hands out login tokens, so none can be valid.
    if (!state.sso) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token');
    userId = state.sessions.ensureUser(state.sso.consumeLoginToken(body.token));
  } else {
    userId = passwordLogin(state, body);
  }

  const deviceId = typeof body.device_id === 'string' && body.device_id !== '' ? body.device_id : undefined;
  if (deviceId !== undefined && deviceId.length > 512) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'device_id cannot be longer than 512 characters.');
  }
  const displayName = typeof body.initial_device_display_name === 'string' ? body.initial_device_display_name : undefined;
  const issued = state.sessions.login(userId, deviceId, displayName, wantsRefresh, lifetimes(state, body));
  const result: Record<string, unknown> = {
    user_id: userId,
    access_token: issued.accessToken,
    home_server: state.config.serverName,
    device_id: issued.deviceId,
  };
  if (issued.expiresInMs !== undefined) result.expires_in_ms = issued.expiresInMs;
  if (issued.refreshToken !== undefined) result.refresh_token = issued.refreshToken;
  result.well_known = { 'm.homeserver': { base_url: state.config.publicBaseUrl ?? state.baseUrl } };
  return { status: 200, body: result };
};

function passwordLogin(state: ServerState, body: Record<string, unknown>): string {
  const type = body.type;
  if (typeof type !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Bad parameter: type');
  if (type === 'm.login.password') {
    if (!state.config.loginFlows.some((f) => f.type === 'm.login.password')) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Password login has been disabled.');
    }
    if (typeof body.password !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Bad parameter: password');
  }
  const identifier = identifierFrom(body);
  if (identifier.type === 'm.id.phone') {
    if (!('country' in identifier) || !('phone' in identifier || 'number' in identifier)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid phone-type identifier');
    }
    throw INVALID_CREDENTIALS(); // no third-party ids are bound on this server
  }
  if (identifier.type === 'm.id.thirdparty') {
    if (identifier.medium == null || identifier.address == null) throw new MatrixError(400, 'M_UNKNOWN', 'Invalid thirdparty identifier');
    throw INVALID_CREDENTIALS();
  }
  if (identifier.type !== 'm.id.user') throw new MatrixError(400, 'M_UNKNOWN', 'Unknown login identifier type');
  const username = identifier.user;
  if (!username) throw new MatrixError(400, 'M_UNKNOWN', "User identifier is missing 'user' key");
  if (typeof username !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user in identifier');
  if (type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', `Unknown login type ${type}`);
  const qualified = username.startsWith('@') ? username : `@${username}:${state.config.serverName}`;
  const userId = state.sessions.findUser(qualified);
  if (!userId || !state.sessions.checkPassword(userId, body.password as string)) throw INVALID_CREDENTIALS();
  return userId;
}

/** Synapse's `convert_client_dict_legacy_fields_to_identifier`. */
function identifierFrom(body: Record<string, unknown>): Record<string, unknown> {
  let identifier: unknown = body.identifier ?? {};
  if (body.user) identifier = { type: 'm.id.user', user: body.user };
  if (body.medium && body.address) identifier = { type: 'm.id.thirdparty', medium: body.medium, address: body.address };
  const isObject = typeof identifier === 'object' && identifier !== null && !Array.isArray(identifier);
  if (!identifier || (isObject && Object.keys(identifier as object).length === 0)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid login submission');
  }
  if (!isObject || !('type' in (identifier as object))) {
    throw new MatrixError(400, 'M_MISSING_PARAM', "'identifier' dict has no key 'type'");
  }
  return identifier as Record<string, unknown>;
}

function appserviceLogin(state: ServerState, ctx: RequestContext, body: Record<string, unknown>): string {
  const requester = requireRequester(state, ctx);
  if (requester.kind !== 'appservice') {
    throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'This login method is only valid for application services', { soft_logout: false });
  }
  const identifier = body.identifier;
  if (typeof identifier !== 'object' || identifier === null || Array.isArray(identifier)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid identifier in login submission');
  }
  const id = identifier as Record<string, unknown>;
  if (id.type !== 'm.id.user') throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown login identifier type');
  if (typeof id.user !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user in identifier');
  const userId = id.user.startsWith('@') ? id.user : `@${id.user}:${state.config.serverName}`;
  if (!state.appservices.isInterestedInUser(requester.reg, userId)) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid access_token');
  return userId;
}

/** Refresh-token lifetime for this request: the server's, or the famedly field when honoured (capped). */
function lifetimes(state: ServerState, body: Record<string, unknown>): Lifetimes {
  const c = state.config;
  let refreshMs = c.refreshTokenLifetimeMs;
  const custom = body[CUSTOM_LIFETIME_FIELD];
  if (c.honourCustomRefreshLifetime && custom !== undefined) {
    if (typeof custom !== 'number' || !Number.isInteger(custom) || custom <= 0) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `${CUSTOM_LIFETIME_FIELD} must be a positive integer`);
    }
    refreshMs = Math.min(custom, c.maxCustomRefreshLifetimeMs);
  }
  return { accessMs: c.accessTokenLifetimeMs, refreshMs };
}

export const postRefresh: Handler = (state, ctx) => {
  const body = parseJsonObject(ctx.rawBody);
  if (!('refresh_token' in body)) throw new MatrixError(400, 'M_MISSING_PARAM', "Missing params: ['refresh_token']");
  if (typeof body.refresh_token !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid param: refresh_token');
  const t = state.sessions.refresh(body.refresh_token, lifetimes(state, body));
  return { status: 200, body: { access_token: t.accessToken, refresh_token: t.refreshToken, expires_in_ms: t.expiresInMs } };
};

export const getWhoami: Handler = (state, ctx) => {
  const r = requireRequester(state, ctx);
  const body: Record<string, unknown> = { user_id: r.userId, is_guest: false };
  if (r.kind === 'user') body.device_id = r.deviceId;
  return { status: 200, body };
};

/** Logout works with an expired token (Synapse: allow_expired=True) and deletes the whole device. */
export const postLogout: Handler = (state, ctx): Reply => {
  const r = requireRequester(state, ctx, { allowExpired: true });
  if (r.kind === 'appservice') {
    // No device: Synapse tries to delete the token row, which an as_token does not have.
    throw new MatrixError(401, 'M_UNKNOWN', 'Unrecognised access token');
  }
  state.sessions.deleteDevice(r.userId, r.deviceId);
  return { status: 200, body: {} };
};

export const postLogoutAll: Handler = (state, ctx) => {
  const r = requireRequester(state, ctx, { allowExpired: true });
  state.sessions.deleteAllDevices(r.userId);
  return { status: 200, body: {} };
};
