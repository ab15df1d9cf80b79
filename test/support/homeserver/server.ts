// TestHomeserver: a real loopback HTTP server that answers like Synapse for
// discovery, login, refresh-token rotation, logout, whoami and appservice ping,
// with knobs to break it the ways real deployments break.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppserviceRegistry, pushTransaction } from './appservices';
import { Device, SessionStore } from './auth';
import { DelegatedAuth } from './delegated';
import { SsoService } from './sso';
import type { LiveConfig, RequestContext, ServerState } from './context';
import { FaultPlan } from './faults';
import { CORS_HEADERS, NGINX_502, Reply, readBody, send } from './http';
import { dispatch } from './routes';
import { MatrixError } from './http';
import type { PingEndpointMode, RegistrationObject, RequestRecord, TestHomeserverOptions, TransactionRecord } from './types';

type RequestContextIntrospection = RequestContext['introspected'];

/** What Synapse 1.84 lists in /versions. */
export const SYNAPSE_1_84_VERSIONS = [
  'r0.0.1',
  'r0.1.0',
  'r0.2.0',
  'r0.3.0',
  'r0.4.0',
  'r0.5.0',
  'r0.6.0',
  'r0.6.1',
  'v1.1',
  'v1.2',
  'v1.3',
  'v1.4',
  'v1.5',
  'v1.6',
];

const DEFAULT_FLOWS = [{ type: 'm.login.password' }, { type: 'm.login.token' }, { type: 'm.login.application_service' }];

function defaultUnstableFeatures(mode: PingEndpointMode): Record<string, boolean> {
  if (mode === 'unstable') return { 'fi.mau.msc2659': true };
  if (mode === 'none') return {};
  return { 'fi.mau.msc2659.stable': true };
}

export class TestHomeserver {
  readonly requests: RequestRecord[] = [];
  /** Transactions pushed to appservices (sendTransaction), oldest first. */
  readonly transactions: TransactionRecord[] = [];
  readonly baseUrl: string;
  readonly port: number;
  readonly serverName: string;
  private readonly listenHost: string;

  private readonly state: ServerState;
  private readonly faults = new FaultPlan();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly pendingPings = new Set<http.ClientRequest>();
  private stopped = false;

  private constructor(
    private readonly server: http.Server,
    config: LiveConfig,
    sessions: SessionStore,
    appservices: AppserviceRegistry,
    delegated: TestHomeserverOptions['delegatedAuth'],
    sso: SsoService | undefined,
  ) {
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    this.listenHost = addr.address;
    const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    this.baseUrl = `http://${host}:${addr.port}`;
    this.serverName = config.serverName;
    this.state = {
      config,
      sessions,
      appservices,
      pendingPings: this.pendingPings,
      baseUrl: this.baseUrl,
      delegated: delegated && new DelegatedAuth(delegated),
      sso,
    };
  }

  static async start(opts: TestHomeserverOptions = {}): Promise<TestHomeserver> {
    const serverName = opts.serverName ?? 'localhost';
    const sso = opts.sso ? new SsoService(opts.sso, opts.now ?? Date.now) : undefined;
    const pingEndpoint = opts.pingEndpoint ?? 'stable';
    const config: LiveConfig = {
      serverName,
      accessTokenLifetimeMs: opts.accessTokenLifetimeMs === undefined ? 300_000 : opts.accessTokenLifetimeMs,
      refreshTokenLifetimeMs: opts.refreshTokenLifetimeMs ?? null,
      honourCustomRefreshLifetime: opts.honourCustomRefreshLifetime ?? false,
      maxCustomRefreshLifetimeMs: opts.maxCustomRefreshLifetimeMs ?? 7 * 24 * 3600_000,
      versions: [...(opts.versions ?? SYNAPSE_1_84_VERSIONS)],
      unstableFeatures: { ...(opts.unstableFeatures ?? defaultUnstableFeatures(pingEndpoint)) },
      pingEndpoint,
      pingTimeoutMs: opts.pingTimeoutMs ?? 60_000,
      wellKnown: !('wellKnown' in opts)
        ? { kind: 'default' }
        : opts.wellKnown == null
          ? { kind: 'absent' }
          : { kind: 'value', value: opts.wellKnown },
      loginFlows: opts.loginFlows ?? (sso ? sso.flows(opts.sso?.passwordLogin ?? true) : DEFAULT_FLOWS),
      publicBaseUrl: opts.publicBaseUrl,
      authMetadata: opts.authMetadata,
    };
    const sessions = new SessionStore(serverName, opts.now ?? Date.now);
    for (const u of opts.users ?? [{ localpart: 'alice', password: 'wonderland' }]) sessions.addUser(u.localpart, u.password);
    const appservices = new AppserviceRegistry(serverName);
    for (const a of opts.appservices ?? []) appservices.add(a);

    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const hs = new TestHomeserver(server, config, sessions, appservices, opts.delegatedAuth, sso);
    server.on('request', (req, res) => {
      hs.handle(req, res).catch((e: unknown) => {
        console.error('test homeserver: request failed', e);
        res.destroy();
      });
    });
    return hs;
  }

  /** Closes the listener, every keep-alive socket, pending delays and pending pings. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    for (const req of this.pendingPings) req.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // --- observation -------------------------------------------------------

  /** Requests answered (or dropped) so far whose method matches ('*' = any) and whose path starts with / matches the pattern. */
  count(method: string, pathPrefixOrRegex: string | RegExp): number {
    return this.requests.filter((r) => {
      if (method !== '*' && r.method !== method.toUpperCase()) return false;
      if (typeof pathPrefixOrRegex === 'string') return r.path.startsWith(pathPrefixOrRegex);
      pathPrefixOrRegex.lastIndex = 0;
      return pathPrefixOrRegex.test(r.path);
    }).length;
  }

  devices(userId: string): Device[] {
    return this.state.sessions.devicesOf(userId);
  }

  /** ms since epoch, null = never expires, undefined = no such (live) refresh token. */
  refreshTokenExpiresAt(refreshToken: string): number | null | undefined {
    return this.state.sessions.refreshTokenExpiresAt(refreshToken);
  }

  /** Login tokens the SSO flow handed out so far. */
  issuedLoginTokens(): string[] {
    return [...(this.state.sso?.issuedLoginTokens ?? [])];
  }

  /** /refresh calls that reused a refresh token already refreshed once: a lost answer retried, or a double rotation. */
  repeatedRefreshes(): number {
    return this.state.sessions.repeatedRefreshes;
  }

  /** Every access and refresh token this server issued (password sessions), revoked ones too. */
  issuedTokens(): string[] {
    return [...this.state.sessions.issued];
  }

  isAccessTokenKnown(accessToken: string): boolean {
    return this.state.sessions.hasAccessToken(accessToken);
  }

  // --- fault knobs ---------------------------------------------------------

  /** Do the work (new tokens committed) and then destroy the socket without answering. */
  dropResponseAfterCommit(path: 'refresh' | 'login', times = 1): void {
    this.faults.addDrop(path, times);
  }

  delay(pathRegex: RegExp, ms: number, times = 1): void {
    this.faults.add(pathRegex, { kind: 'delay', ms }, times);
  }

  /** Answer like a reverse proxy whose upstream is down (HTML page, default 502). */
  answerHtml(pathRegex: RegExp, times = 1, status = 502): void {
    this.faults.add(pathRegex, { kind: 'html', status }, times);
  }

  /** 429 M_LIMIT_EXCEEDED with retry_after_ms and a Retry-After header (seconds, rounded up). */
  rateLimit(pathRegex: RegExp, retryAfterMs: number, times = 1): void {
    this.faults.add(pathRegex, { kind: 'rateLimit', retryAfterMs }, times);
  }

  /** Answer with exactly this instead of handling the request (nothing is committed). */
  answerRaw(
    pathRegex: RegExp,
    reply: { status: number; contentType?: string; text: string; headers?: Record<string, string> },
    times = 1,
  ): void {
    this.faults.add(pathRegex, { kind: 'raw', contentType: 'application/json', ...reply }, times);
  }

  /** Reset the connection before handling the request (nothing is committed). */
  resetBeforeCommit(pathRegex: RegExp, times = 1): void {
    this.faults.add(pathRegex, { kind: 'reset' }, times);
  }

  /**
   * A restart: stop listening and cut every connection (new connections are
   * refused) until comeBack(); sessions and accounts survive, like a database.
   */
  async goDown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  async comeBack(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.listenHost, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  // --- session manipulation ---------------------------------------------

  /** Next use → 401 M_UNKNOWN_TOKEN soft_logout:true. Throws if the token is unknown. */
  expireAccessToken(accessToken: string): void {
    this.state.sessions.expireAccessToken(accessToken);
  }

  expireAllAccessTokens(): void {
    this.state.sessions.expireAllAccessTokens();
  }

  /** Every device and token of the user is gone → 401 M_UNKNOWN_TOKEN soft_logout:false. */
  logoutAllDevices(userId: string): void {
    this.state.sessions.deleteAllDevices(userId);
  }

  addUser(localpart: string, password: string): string {
    return this.state.sessions.addUser(localpart, password);
  }

  registerAppservice(reg: RegistrationObject | string): RegistrationObject {
    return this.state.appservices.add(reg);
  }

  unregisterAppservice(id: string): boolean {
    return this.state.appservices.remove(id);
  }

  /**
   * Push a transaction to a loaded appservice as Synapse does when events
   * arrive, and record how it went (never throws for the appservice's failures).
   */
  async sendTransaction(appserviceId: string, events: unknown[] = []): Promise<TransactionRecord> {
    const reg = this.state.appservices.get(appserviceId);
    if (!reg) throw new Error(`no appservice '${appserviceId}' is loaded`);
    const txnId = String(++this.txnCounter);
    const record: TransactionRecord = { appserviceId, txnId, events, ok: false, at: Date.now() };
    try {
      if (!reg.url) throw new MatrixError(400, 'M_URL_NOT_SET', 'The application service does not have a URL set');
      await pushTransaction(reg, txnId, events, this.state.config.pingTimeoutMs, this.pendingPings);
      record.ok = true;
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      record.errcode = e.errcode;
      const status = (e.extra as { status?: unknown } | undefined)?.status;
      if (typeof status === 'number') record.appserviceStatus = status;
    }
    this.transactions.push(record);
    return record;
  }

  private txnCounter = 0;

  // --- live settings -------------------------------------------------------

  /** Serve auth_metadata (next-generation auth) with this body; undefined = none (404). */
  setAuthMetadata(body: Record<string, unknown> | undefined): void {
    this.state.config.authMetadata = body;
  }

  setPingEndpoint(mode: PingEndpointMode, unstableFeatures: Record<string, boolean> = defaultUnstableFeatures(mode)): void {
    this.state.config.pingEndpoint = mode;
    this.state.config.unstableFeatures = { ...unstableFeatures };
  }

  setPingTimeoutMs(ms: number): void {
    this.state.config.pingTimeoutMs = ms;
  }

  setVersions(versions: string[], unstableFeatures?: Record<string, boolean>): void {
    this.state.config.versions = [...versions];
    if (unstableFeatures) this.state.config.unstableFeatures = { ...unstableFeatures };
  }

  /** Same values as the `wellKnown` option; null/undefined → 404. */
  setWellKnown(value: unknown): void {
    this.state.config.wellKnown = value == null ? { kind: 'absent' } : { kind: 'value', value };
  }

  setLoginFlows(flows: Array<{ type: string; [k: string]: unknown }>): void {
    this.state.config.loginFlows = flows;
  }

  setTokenLifetimes(lifetimes: { accessTokenLifetimeMs?: number | null; refreshTokenLifetimeMs?: number | null }): void {
    if (lifetimes.accessTokenLifetimeMs !== undefined) this.state.config.accessTokenLifetimeMs = lifetimes.accessTokenLifetimeMs;
    if (lifetimes.refreshTokenLifetimeMs !== undefined) this.state.config.refreshTokenLifetimeMs = lifetimes.refreshTokenLifetimeMs;
  }

  // --- request handling ----------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // the client went away before sending its body
    }
    const plan = this.faults.take(method, path);
    if (plan.delayMs > 0) await this.sleep(plan.delayMs);
    if (this.stopped) return;

    let reply: Reply;
    if (method === 'OPTIONS') {
      reply = { status: 204, raw: { contentType: 'text/plain', text: '' }, headers: CORS_HEADERS };
    } else if (plan.early?.kind === 'rateLimit') {
      const ms = plan.early.retryAfterMs;
      reply = {
        status: 429,
        body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests', retry_after_ms: ms },
        headers: { 'Retry-After': String(Math.ceil(ms / 1000)) },
      };
    } else if (plan.early?.kind === 'reset') {
      this.requests.push({ method, path, status: 0, at: Date.now(), dropped: true });
      req.socket.destroy();
      return;
    } else if (plan.early?.kind === 'raw') {
      const { status, contentType, text, headers } = plan.early;
      reply = { status, raw: { contentType, text }, headers };
    } else if (plan.early?.kind === 'html') {
      reply = {
        status: plan.early.status,
        raw: {
          contentType: 'text/html',
          text: NGINX_502.replace(/502 Bad Gateway/g, `${plan.early.status} ${http.STATUS_CODES[plan.early.status] ?? 'Error'}`),
        },
      };
    } else {
      const introspected = await this.introspect(req.headers.authorization);
      reply = await dispatch(this.state, { method, path, query, headers: req.headers, rawBody, introspected });
    }
    if (this.stopped) return;

    const body = reply.body as { errcode?: unknown } | undefined;
    const record: RequestRecord = { method, path, status: reply.status, at: Date.now() };
    if (!reply.raw && typeof body?.errcode === 'string') record.errcode = body.errcode;
    if (plan.drop) {
      record.dropped = true;
      this.requests.push(record);
      req.socket.destroy();
      return;
    }
    this.requests.push(record);
    send(res, reply);
  }

  /** Delegated auth: introspection is async, so it runs before the (synchronous) requester lookup. */
  private async introspect(authorization: string | undefined): Promise<RequestContextIntrospection> {
    const delegated = this.state.delegated;
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    if (!delegated || !token || this.state.appservices.byToken(token)) return undefined;
    try {
      return await delegated.introspect(token);
    } catch {
      return 'unavailable';
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
      };
      this.timers.add(entry);
    });
  }
}
