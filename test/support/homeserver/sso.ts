// Legacy single sign-on as Synapse does it (synapse/handlers/sso.py,
// rest/client/login.py): GET /login/sso/redirect[/{idpId}]?redirectUrl=…
// sends the browser to the identity provider (here a small built-in one with
// a username/password form); after it, Synapse shows its "Continue to your
// account" page (sso_redirect_confirm.html, shown for every redirectUrl not on
// `sso.client_whitelist`, which is empty by default), whose link is the
// redirectUrl with `loginToken` added (the query of redirectUrl kept). The
// login token is single use and lives 2 minutes (Synapse's default);
// m.login.token exchanges it for a session.
import { randomBytes } from 'node:crypto';
import type { Handler } from './context';
import { MatrixError, type Reply } from './http';

export interface SsoProviderOption {
  id: string;
  name: string;
  brand?: string;
}

export interface SsoOptions {
  /** Listed as `identity_providers` of the m.login.sso flow. Default [{ id: 'oidc-test', name: 'Test IdP' }]. */
  providers?: SsoProviderOption[];
  /** Accounts at the identity provider; each maps to the same localpart here. Default alice/wonderland. */
  users?: Array<{ username: string; password: string }>;
  /** Keep m.login.password in the login flows too. Default true. */
  passwordLogin?: boolean;
}

const LOGIN_TOKEN_TTL_MS = 2 * 60_000;
const IDP_PATH = '/_synapse/client/test_idp';

interface PendingSso {
  idpId: string;
  redirectUrl: string;
}

export class SsoService {
  readonly providers: SsoProviderOption[];
  private readonly users: Map<string, string>;
  private readonly pending = new Map<string, PendingSso>();
  private readonly loginTokens = new Map<string, { localpart: string; expiresAt: number }>();
  /** Every login token handed out (tests check none leaks). */
  readonly issuedLoginTokens: string[] = [];

  constructor(
    opts: SsoOptions,
    private readonly now: () => number,
  ) {
    this.providers = opts.providers ?? [{ id: 'oidc-test', name: 'Test IdP' }];
    this.users = new Map((opts.users ?? [{ username: 'alice', password: 'wonderland' }]).map((u) => [u.username, u.password]));
  }

  flows(passwordLogin: boolean): Array<{ type: string; [k: string]: unknown }> {
    return [
      ...(passwordLogin ? [{ type: 'm.login.password' }] : []),
      { type: 'm.login.sso', identity_providers: this.providers },
      { type: 'm.login.token' },
      { type: 'm.login.application_service' },
    ];
  }

  /** m.login.token: the localpart of a valid token, once. */
  consumeLoginToken(token: string): string {
    const row = this.loginTokens.get(token);
    this.loginTokens.delete(token);
    if (!row || row.expiresAt < this.now()) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token');
    return row.localpart;
  }

  /** GET /login/sso/redirect[/{idpId}]. */
  readonly redirect: Handler = (_state, ctx) => {
    const redirectUrl = ctx.query.get('redirectUrl');
    if (!redirectUrl) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing string query parameter redirectUrl');
    const idpId = ctx.params[0];
    if (idpId === undefined && this.providers.length > 1) return html(200, this.pickerPage(redirectUrl));
    const provider = idpId === undefined ? this.providers[0] : this.providers.find((p) => p.id === idpId);
    if (!provider) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown identity provider');
    const session = randomBytes(12).toString('hex');
    this.pending.set(session, { idpId: provider.id, redirectUrl });
    return { status: 302, raw: { contentType: 'text/plain', text: '' }, headers: { Location: `${IDP_PATH}/${session}` } };
  };

  /** The identity provider's sign-in form (GET) and its answer (POST). */
  readonly idp: Handler = (_state, ctx) => {
    const session = ctx.params[0];
    const pending = this.pending.get(session);
    if (!pending) return html(400, page('Sign-in expired', '<p id="expired">This sign-in session is unknown or expired.</p>'));
    const provider = this.providers.find((p) => p.id === pending.idpId)!;
    if (ctx.method === 'GET') return html(200, this.signInPage(session, provider.name));
    const form = new URLSearchParams(ctx.rawBody);
    const username = form.get('username') ?? '';
    if (this.users.get(username) !== form.get('password')) {
      return html(200, this.signInPage(session, provider.name, 'Wrong username or password.'));
    }
    this.pending.delete(session);
    const loginToken = `syl_${randomBytes(18).toString('base64url')}`;
    this.loginTokens.set(loginToken, { localpart: username, expiresAt: this.now() + LOGIN_TOKEN_TTL_MS });
    this.issuedLoginTokens.push(loginToken);
    const target = new URL(pending.redirectUrl);
    target.searchParams.set('loginToken', loginToken);
    return html(200, confirmPage(target.toString(), new URL(pending.redirectUrl).host));
  };

  private pickerPage(redirectUrl: string): string {
    const links = this.providers
      .map(
        (p) =>
          `<li><a class="idp" href="${esc(`./redirect/${encodeURIComponent(p.id)}?redirectUrl=${encodeURIComponent(redirectUrl)}`)}">${esc(p.name)}</a></li>`,
      )
      .join('');
    return page('Choose an identity provider', `<ul id="idp-picker">${links}</ul>`);
  }

  private signInPage(session: string, providerName: string, error?: string): string {
    return page(
      `Sign in with ${providerName}`,
      (error ? `<p class="error" id="error">${esc(error)}</p>` : '') +
        `<form id="sign-in" method="post" action="${IDP_PATH}/${esc(session)}">` +
        '<label for="username">Username</label><input type="text" id="username" name="username">' +
        '<label for="password">Password</label><input type="password" id="password" name="password">' +
        '<button type="submit" id="allow">Sign in</button></form>',
    );
  }
}

export const SSO_IDP_PATTERN = /^\/_synapse\/client\/test_idp\/([A-Za-z0-9]+)$/;

function confirmPage(href: string, clientHost: string): string {
  return page(
    'Continue to your account',
    `<p>You are about to give a client at <strong>${esc(clientHost)}</strong> access to your account.</p>` +
      `<p><a id="continue" href="${esc(href)}">Continue</a></p>`,
  );
}

function html(status: number, text: string): Reply {
  return { status, raw: { contentType: 'text/html; charset=utf-8', text } };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:340px;margin:48px auto}label{display:block;margin:10px 0 4px}input{width:100%;padding:8px}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}
