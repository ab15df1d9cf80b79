// Delegated authentication, as Synapse does it with Matrix Authentication
// Service (MSC3861): the homeserver serves the authorization server's metadata
// at auth_metadata (stable and/or MSC2965's unstable path), and checks every
// access token by introspection (RFC 7662) at the authorization server, as a
// confidential client. The user comes from the `username` claim, the device
// from the device scope, created on first use. /login, /refresh and /logout
// do not exist (404) unless password login is left on (MAS's compatibility layer).

/** What the homeserver needs from its authorization server. */
export interface DelegatedAuthServer {
  issuer: string;
  introspectionClient: { clientId: string; clientSecret: string };
  /** Tells the server an access token was used (MAS's rule for re-issuing a lost refresh answer). */
  markUsed(token: string): void;
}

export interface DelegatedAuthOptions {
  authServer: DelegatedAuthServer;
  /** Which auth_metadata path(s) exist. Default 'stable'. */
  metadataPaths?: 'stable' | 'unstable' | 'both';
  /** Keep /login (password) working too: a server that offers both. Default false. */
  passwordLogin?: boolean;
}

export interface IntrospectedUser {
  localpart: string;
  deviceId: string;
}

const API_SCOPES = ['urn:matrix:client:api:*', 'urn:matrix:org.matrix.msc2967.client:api:*'];
const DEVICE_SCOPE = /^urn:matrix:(?:org\.matrix\.msc2967\.)?client:device:(.+)$/;

export class DelegatedAuth {
  private metadataCache?: Record<string, unknown>;

  constructor(readonly options: DelegatedAuthOptions) {}

  /** Synapse fetches the issuer's metadata and adds the account page. Throws when the auth server is unreachable. */
  async metadata(): Promise<Record<string, unknown>> {
    const issuer = this.options.authServer.issuer;
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`auth server metadata: HTTP ${res.status}`);
    const body = (await res.json()) as Record<string, unknown>;
    this.metadataCache = body;
    // oidc-provider lists only what it implements; MAS adds the account page.
    return {
      ...body,
      account_management_uri: `${issuer}/account`,
      account_management_actions_supported: ['org.matrix.profile', 'org.matrix.sessions_list', 'org.matrix.session_end'],
    };
  }

  /** RFC 7662 introspection; 'inactive' for unknown, expired, revoked tokens and for refresh tokens. */
  async introspect(token: string): Promise<IntrospectedUser | 'inactive' | 'no-api-scope'> {
    const meta = this.metadataCache ?? (await this.metadata());
    const { clientId, clientSecret } = this.options.authServer.introspectionClient;
    const res = await fetch(String(meta.introspection_endpoint), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
    if (!res.ok) throw new Error(`introspection: HTTP ${res.status}`);
    const body = (await res.json()) as { active?: boolean; token_type?: string; scope?: string; username?: string };
    // oidc-provider answers active for refresh tokens too: only access tokens are bearer tokens.
    if (body.active !== true || body.token_type?.toLowerCase() !== 'bearer' || typeof body.username !== 'string') return 'inactive';
    const scopes = (body.scope ?? '').split(' ');
    if (!scopes.some((s) => API_SCOPES.includes(s))) return 'no-api-scope';
    const devices = scopes.map((s) => DEVICE_SCOPE.exec(s)?.[1]).filter((d): d is string => d !== undefined);
    if (devices.length !== 1) return 'no-api-scope';
    this.options.authServer.markUsed(token);
    return { localpart: body.username, deviceId: devices[0] };
  }
}
