// TestAuthServer: a real OAuth 2.0 authorization server (oidc-provider, the
// certified npm implementation) configured the way Matrix Authentication
// Service behaves for Matrix clients: dynamic registration of native clients,
// authorization code + PKCE with loopback redirects on any port, the device
// grant, rotating refresh tokens without `offline_access`, revocation and
// introspection (for the homeserver), Matrix's dynamic device scope.
// What differs from MAS is listed in the README (Tests).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryAdapterStore } from './memoryAdapter';
import { accountPage, deviceConfirmPage, deviceInputPage, deviceSuccessPage, signInPage } from './pages';
import { loadProvider, type OidcContext, type OidcProvider } from './provider';
import { RefreshReplay } from './refreshReplay';

/** The resource indicator of the homeserver's API (MAS has no resource indicators; the client never sends one). */
export const HOMESERVER_RESOURCE = 'urn:matrix:test-homeserver';
const API_SCOPES = ['urn:matrix:client:api:*', 'urn:matrix:org.matrix.msc2967.client:api:*'];
const DEVICE_SCOPE = /^urn:matrix:(?:org\.matrix\.msc2967\.)?client:device:([A-Za-z0-9-]+)$/;
/** MAS accepts `[A-Za-z0-9-]`, at least 10 characters, as a device id. */
const MAS_DEVICE_ID = /^[A-Za-z0-9-]{10,}$/;

export interface TestAuthServerOptions {
  port?: number;
  /** Default [{ username: 'alice', password: 'wonderland' }]. */
  users?: { username: string; password: string }[];
  /** Access-token lifetime. Default 300 s, as MAS. */
  accessTokenTtlSeconds?: number;
  /** Default true: offer `urn:ietf:params:oauth:grant-type:device_code`. */
  deviceFlow?: boolean;
  /** Lifetime of device codes. Default 600 s. */
  deviceCodeTtlSeconds?: number;
}

export interface AuthRequestRecord {
  method: string;
  path: string;
  status: number;
  /** `grant_type` of token-endpoint requests. */
  grantType?: string;
  dropped?: boolean;
}

export class TestAuthServer {
  readonly issuer: string;
  readonly requests: AuthRequestRecord[] = [];
  /** The homeserver's own credentials for introspection (a confidential client, no grants). */
  readonly introspectionClient = { clientId: 'homeserver', clientSecret: randomBytes(16).toString('hex') };
  /** When set, the sign-in page is skipped and this user approves every request at once. */
  autoApproveAs: string | undefined;

  private readonly adapter = new MemoryAdapterStore();
  private readonly replay = new RefreshReplay();
  private readonly users: Map<string, string>;
  private provider!: OidcProvider;
  private down = false;
  private dropTokenAnswers = 0;
  private slowDowns = 0;

  private constructor(
    private readonly server: http.Server,
    opts: TestAuthServerOptions,
  ) {
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.users = new Map((opts.users ?? [{ username: 'alice', password: 'wonderland' }]).map((u) => [u.username, u.password]));
  }

  static async start(opts: TestAuthServerOptions = {}): Promise<TestAuthServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const auth = new TestAuthServer(server, opts);
    auth.provider = auth.createProvider(opts);
    const callback = auth.provider.callback();
    server.on('request', (req, res) => {
      auth.handle(req, res, callback).catch((e: unknown) => {
        console.error('test auth server: request failed', e);
        res.destroy();
      });
    });
    return auth;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // --- knobs ---------------------------------------------------------------

  /** Down: every connection is reset without an answer (the server is unreachable). */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** The next `times` token-endpoint answers are computed (tokens issued) and then lost. */
  dropTokenResponseAfterCommit(times = 1): void {
    this.dropTokenAnswers += times;
  }

  /** The next `times` device-code polls answer `slow_down` (RFC 8628 §3.5; oidc-provider never sends it itself). */
  slowDownDevicePolls(times = 1): void {
    this.slowDowns += times;
  }

  /** Forgets every dynamically registered client, like a server whose database was reset. */
  forgetClients(): void {
    this.adapter.forgetClients();
  }

  /** Called by the test homeserver when an introspection found an access token active (it was used). */
  markUsed(token: string): void {
    this.replay.markUsed(token);
  }

  /** Every access and refresh token the token endpoint handed out (for leak checks). */
  readonly issuedTokens = new Set<string>();

  private noteIssued(body: string): void {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      for (const key of ['access_token', 'refresh_token']) if (typeof parsed[key] === 'string') this.issuedTokens.add(parsed[key]);
    } catch {
      // not JSON: nothing issued
    }
  }

  count(path: string, grantType?: string): number {
    return this.requests.filter((r) => r.path === path && (grantType === undefined || r.grantType === grantType)).length;
  }

  // --- request handling ----------------------------------------------------

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    callback: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const record: AuthRequestRecord = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    this.requests.push(record);
    if (this.down) {
      record.dropped = true;
      req.socket.destroy();
      return;
    }
    res.on('finish', () => (record.status = res.statusCode));
    if (url.pathname.startsWith('/interaction/')) return this.interaction(req, res, url);
    if (url.pathname === '/account') return sendHtml(res, 200, accountPage(this.issuer));
    if (req.method === 'POST' && url.pathname === '/token') return this.token(req, res, record, callback);
    callback(req, res);
  }

  /** The token endpoint, with MAS's refresh-token rules and the lost-answer knob. */
  private async token(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: AuthRequestRecord,
    callback: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ): Promise<void> {
    const raw = await readRaw(req);
    const form = new URLSearchParams(raw.toString('utf8'));
    record.grantType = form.get('grant_type') ?? undefined;
    if (record.grantType === 'urn:ietf:params:oauth:grant-type:device_code' && this.slowDowns > 0) {
      this.slowDowns--;
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8' });
      return void res.end(JSON.stringify({ error: 'slow_down', error_description: 'poll less often' }));
    }
    const refreshToken = record.grantType === 'refresh_token' ? form.get('refresh_token') : null;
    const replayed = refreshToken ? this.replay.intercept(refreshToken) : undefined;
    const drop = this.dropTokenAnswers > 0;
    if (drop) this.dropTokenAnswers--;
    if (replayed) {
      if (drop) return void ((record.dropped = true), req.socket.destroy());
      res.writeHead(replayed.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end(replayed.body);
    }
    const originalEnd = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
    res.end = ((chunk?: unknown) => {
      const body = chunk === undefined ? '' : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (refreshToken && res.statusCode === 200) this.replay.record(refreshToken, body);
      if (res.statusCode === 200) this.noteIssued(body);
      if (drop) {
        record.dropped = true;
        req.socket.destroy();
        return res;
      }
      return originalEnd(chunk);
    }) as typeof res.end;
    // oidc-provider takes an already-read body from `req.body` (it warns once that it did).
    Object.assign(req, { body: raw });
    callback(req, res);
  }

  private async interaction(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    const clientName = await this.clientName(details.params.client_id);
    if (details.prompt.name === 'consent') {
      // Consent is part of "Sign in and allow" on the sign-in page.
      const grant = details.grantId
        ? ((await this.provider.Grant.find(details.grantId)) ?? this.newGrant(details))
        : this.newGrant(details);
      for (const [resource, scopes] of Object.entries(details.prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(' '));
      }
      if (details.prompt.details.missingOIDCScope?.length) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
      const grantId = await grant.save();
      return this.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (req.method === 'GET' && this.autoApproveAs) {
      return this.provider.interactionFinished(req, res, { login: { accountId: this.autoApproveAs } }, { mergeWithLastSubmission: false });
    }
    if (req.method === 'GET') return sendHtml(res, 200, signInPage(details.uid, clientName));
    if (req.method !== 'POST' || !url.pathname.endsWith('/login')) return sendHtml(res, 405, 'Method not allowed');
    const form = new URLSearchParams((await readRaw(req)).toString('utf8'));
    if (form.get('action') === 'deny') {
      return this.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied the request.' },
        { mergeWithLastSubmission: false },
      );
    }
    const username = form.get('username') ?? '';
    if (!this.users.has(username) || this.users.get(username) !== form.get('password')) {
      return sendHtml(res, 200, signInPage(details.uid, clientName, 'Wrong username or password.'));
    }
    return this.provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }

  private newGrant(details: { session?: { accountId: string }; params: { client_id: string } }) {
    return new this.provider.Grant({ accountId: details.session?.accountId ?? '', clientId: details.params.client_id });
  }

  private async clientName(clientId: string): Promise<string> {
    const row = this.adapter.model('Client').get(clientId);
    return typeof row?.payload.client_name === 'string' ? row.payload.client_name : clientId;
  }

  private createProvider(opts: TestAuthServerOptions): OidcProvider {
    const Provider = loadProvider();
    const accessTokenTTL = opts.accessTokenTtlSeconds ?? 300;
    const provider = new Provider(this.issuer, {
      adapter: this.adapter.adapterClass(),
      clients: [
        {
          client_id: this.introspectionClient.clientId,
          client_secret: this.introspectionClient.clientSecret,
          grant_types: [],
          response_types: [],
          redirect_uris: [],
        },
      ],
      cookies: { keys: [randomBytes(16).toString('hex')] },
      // Only ID tokens are signed (nothing here asks for one); a fresh key per server keeps oidc-provider from using its development keys.
      jwks: { keys: [signingKey()] },
      findAccount: async (_ctx: unknown, sub: string) =>
        this.users.has(sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined,
      extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) =>
        token.accountId ? { username: token.accountId } : undefined,
      // MAS issues refresh tokens without `offline_access`, and they outlive the browser session.
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
        client.grantTypeAllowed('refresh_token'),
      expiresWithSession: async () => false,
      ttl: {
        AccessToken: accessTokenTTL,
        RefreshToken: 30 * 24 * 3600,
        DeviceCode: opts.deviceCodeTtlSeconds ?? 600,
        Interaction: 600,
        Session: 3600,
        Grant: 30 * 24 * 3600,
        AuthorizationCode: 120,
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        // A client revokes only its own tokens; only the homeserver introspects (as MAS).
        revocation: {
          enabled: true,
          allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
            token.clientId === client.clientId,
        },
        introspection: {
          enabled: true,
          allowedPolicy: async (_ctx: unknown, client: { clientId: string }) => client.clientId === this.introspectionClient.clientId,
        },
        deviceFlow: {
          enabled: opts.deviceFlow ?? true,
          userCodeInputSource: async (ctx: { body: string }, form: string, _out: unknown, err?: Error) => {
            ctx.body = deviceInputPage(form, err ? 'That code is not valid. Check it and try again.' : undefined);
          },
          userCodeConfirmSource: async (
            ctx: { body: string; oidc: { client: { clientName?: string; clientId: string } } },
            form: string,
            _client: unknown,
            _info: unknown,
            userCode: string,
          ) => {
            ctx.body = deviceConfirmPage(form, ctx.oidc.client.clientName ?? ctx.oidc.client.clientId, userCode);
          },
          successSource: async (ctx: { body: string }) => {
            ctx.body = deviceSuccessPage();
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => HOMESERVER_RESOURCE,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (ctx: OidcContext, resource: string) => {
            if (resource !== HOMESERVER_RESOURCE) throw new Error(`unknown resource ${resource}`);
            return { scope: [...API_SCOPES, ...deviceScopesOf(ctx)].join(' '), accessTokenFormat: 'opaque', accessTokenTTL };
          },
        },
      },
    });
    provider.proxy = false;
    return provider;
  }
}

let cachedKey: Record<string, unknown> | undefined;
/** One RSA key per process: generating one takes a few hundred ms on a small machine. */
function signingKey(): Record<string, unknown> {
  cachedKey ??= { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' };
  return cachedKey;
}

/** Matrix's device scope is dynamic: whatever valid device scope the request (or the grant it continues) carries. */
function deviceScopesOf(ctx: OidcContext): string[] {
  const found = new Set<string>();
  const sources = [ctx.oidc.params?.scope, ...Object.values(ctx.oidc.entities).map((e) => e?.scope)];
  for (const source of sources) {
    if (typeof source !== 'string') continue;
    for (const scope of source.split(' ')) {
      const m = DEVICE_SCOPE.exec(scope);
      if (m && MAS_DEVICE_ID.test(m[1])) found.add(scope);
    }
  }
  return [...found];
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
