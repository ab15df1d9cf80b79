// The route table (paths and prefixes as Synapse registers them) plus the
// discovery and appservice-ping endpoints.
import { pingAppservice } from './appservices';
import { Handler, RequestContext, ServerState, requireRequester } from './context';
import { MatrixError, NGINX_502, Reply, errorReply, parseJsonObject, unrecognized } from './http';
import { SSO_IDP_PATTERN } from './sso';
import { getLoginFlows, getWhoami, postLogin, postLogout, postLogoutAll, postRefresh } from './sessionEndpoints';

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** A route that is switched off does not exist at all (404, not 405). */
  enabled?: (state: ServerState) => boolean;
}

const getWellKnown: Handler = (state): Reply => {
  const wk = state.config.wellKnown;
  if (wk.kind === 'absent') return errorReply(new MatrixError(404, 'M_NOT_FOUND', '.well-known not available'));
  if (wk.kind === 'default') return { status: 200, body: { 'm.homeserver': { base_url: state.config.publicBaseUrl ?? state.baseUrl } } };
  if (wk.value === 'html') {
    return { status: 200, raw: { contentType: 'text/html', text: NGINX_502.replace(/502 Bad Gateway/g, 'Welcome to nginx!') } };
  }
  if (wk.value === 'invalid-json') return { status: 200, raw: { contentType: 'application/json', text: '{"m.homeserver": {"base_url": ' } };
  return { status: 200, body: wk.value };
};

const getVersions: Handler = (state) => ({
  status: 200,
  body: { versions: state.config.versions, unstable_features: state.config.unstableFeatures },
});

/** Synapse's AppservicePingRestServlet: auth, then id, then url, then the body, then the real call. */
const postPing: Handler = async (state, ctx) => {
  const requester = requireRequester(state, ctx);
  if (requester.kind !== 'appservice') {
    throw new MatrixError(403, 'M_FORBIDDEN', 'Only application services can use the /appservice/ping endpoint');
  }
  if (requester.reg.id !== ctx.params[0]) throw new MatrixError(403, 'M_FORBIDDEN', 'Mismatching application service ID in path');
  if (!requester.reg.url) throw new MatrixError(400, 'M_URL_NOT_SET', 'The application service does not have a URL set');
  const body = parseJsonObject(ctx.rawBody);
  const durationMs = await pingAppservice(requester.reg, body.transaction_id, state.config.pingTimeoutMs, state.pendingPings);
  return { status: 200, body: { duration_ms: durationMs } };
};

/** A fixed body (`authMetadata` option), or the delegated authorization server's metadata. */
const getAuthMetadata: Handler = async (state) => {
  if (!state.delegated) {
    if (!state.config.authMetadata) throw unrecognized(404);
    return { status: 200, body: state.config.authMetadata };
  }
  try {
    return { status: 200, body: await state.delegated!.metadata() };
  } catch {
    // Synapse cannot build the answer without its authorization server.
    return { status: 503, body: { errcode: 'M_UNKNOWN', error: 'The authorization server is unreachable' } };
  }
};

const metadataAt = (which: 'stable' | 'unstable') => (s: ServerState) => {
  if (!s.delegated) return true;
  const paths = s.delegated.options.metadataPaths ?? 'stable';
  return paths === which || paths === 'both';
};
/** Synapse with delegated auth has no /login, /refresh or /logout (MAS's compatibility layer serves them when passwords are allowed). */
const legacyAuth = (s: ServerState) => s.delegated === undefined || s.delegated.options.passwordLogin === true;

const pingMode =
  (...modes: string[]) =>
  (s: ServerState) =>
    modes.includes(s.config.pingEndpoint);

const ROUTES: Route[] = [
  { pattern: /^\/\.well-known\/matrix\/client$/, methods: { GET: getWellKnown } },
  { pattern: /^\/_matrix\/client\/versions$/, methods: { GET: getVersions } },
  { pattern: /^\/_matrix\/client\/v1\/auth_metadata$/, methods: { GET: getAuthMetadata }, enabled: metadataAt('stable') },
  {
    pattern: /^\/_matrix\/client\/unstable\/org\.matrix\.msc2965\/auth_metadata$/,
    methods: { GET: getAuthMetadata },
    enabled: metadataAt('unstable'),
  },
  {
    pattern: /^\/_matrix\/client\/(?:api\/v1|r0|v3|unstable)\/login$/,
    methods: { GET: getLoginFlows, POST: postLogin },
    enabled: legacyAuth,
  },
  {
    pattern: /^\/_matrix\/client\/(?:r0|v3)\/login\/sso\/redirect(?:\/([^/]+))?$/,
    methods: { GET: (s, ctx) => s.sso!.redirect(s, ctx) },
    enabled: (s) => s.sso !== undefined && legacyAuth(s),
  },
  {
    pattern: SSO_IDP_PATTERN,
    methods: { GET: (s, ctx) => s.sso!.idp(s, ctx), POST: (s, ctx) => s.sso!.idp(s, ctx) },
    enabled: (s) => s.sso !== undefined,
  },
  {
    pattern: /^\/_matrix\/client\/(?:r0|v3|unstable)\/refresh$/,
    methods: { POST: postRefresh },
    // Synapse registers /refresh only when refreshable access tokens are configured.
    enabled: (s) => s.config.accessTokenLifetimeMs != null && legacyAuth(s),
  },
  { pattern: /^\/_matrix\/client\/(?:r0|v3|unstable)\/account\/whoami$/, methods: { GET: getWhoami } },
  { pattern: /^\/_matrix\/client\/(?:api\/v1|r0|v3|unstable)\/logout$/, methods: { POST: postLogout }, enabled: legacyAuth },
  { pattern: /^\/_matrix\/client\/(?:api\/v1|r0|v3|unstable)\/logout\/all$/, methods: { POST: postLogoutAll }, enabled: legacyAuth },
  {
    // `client_patterns(..., releases=("v1",))` also registers the bare `unstable` prefix.
    pattern: /^\/_matrix\/client\/(?:v1|unstable)\/appservice\/([^/]*)\/ping$/,
    methods: { POST: postPing },
    enabled: pingMode('stable', 'both'),
  },
  {
    pattern: /^\/_matrix\/client\/unstable\/fi\.mau\.msc2659\/appservice\/([^/]*)\/ping$/,
    methods: { POST: postPing },
    enabled: pingMode('unstable', 'both'),
  },
];

/** Find the handler for a request: 404 for an unknown path, 405 for a known path with another method. */
export function route(state: ServerState, method: string, path: string): { handler: Handler; params: string[] } {
  let pathKnown = false;
  for (const r of ROUTES) {
    if (r.enabled && !r.enabled(state)) continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathKnown = true;
    const handler = r.methods[method];
    if (handler) return { handler, params: m.slice(1).map(decodeParam) };
  }
  throw unrecognized(pathKnown ? 405 : 404);
}

/** An optional group that did not match stays undefined (not the text "undefined"). */
function decodeParam(p: string): string {
  if (p === undefined) return p;
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

export async function dispatch(state: ServerState, ctx: Omit<RequestContext, 'params'>): Promise<Reply> {
  try {
    const { handler, params } = route(state, ctx.method, ctx.path);
    return await handler(state, { ...ctx, params });
  } catch (e) {
    if (e instanceof MatrixError) return errorReply(e);
    console.error('test homeserver: handler failed', e);
    return { status: 500, body: { errcode: 'M_UNKNOWN', error: 'Internal server error' } };
  }
}
