// Ending sessions on the server, the way each kind of session ends: /logout
// for Matrix sessions (password, SSO, pasted tokens), revocation at the
// authorization server for OAuth 2.0 ones (RFC 7009; a delegated homeserver
// has no /logout, and revoking the refresh token revokes the whole session).
import { isMatrixError, isTransientFailure } from '../../core/errors';
import type { HttpRequester } from '../../core/http';
import { revokeSession, revokeToken } from '../../core/oauth';
import { NoSessionError, NotRotatableError, SessionEndedError } from '../../core/rotation';
import { logout, type SessionTokens } from '../../core/session';
import type { AccountManager } from './manager';
import type { AccountMetadata, AccountsLog } from './types';

export class SessionEnding {
  constructor(
    private readonly mgr: AccountManager,
    private readonly http: HttpRequester,
    private readonly log: AccountsLog,
  ) {}

  /** Ends the account's session on the server. Throws only when the server could not be asked (network, 5xx). */
  async endAccountSession(m: AccountMetadata, signal?: AbortSignal): Promise<void> {
    const stored = await this.mgr.readStored(m.id);
    if (!stored) return;
    const oauth = stored.tokens.oauth;
    if (stored.ended) {
      // The refresh token is dead, but the access token may live on until it expires.
      const { accessToken } = stored.tokens;
      await (oauth ? this.quietRevoke(oauth, accessToken, signal) : this.endOtherSession(m.homeserverUrl, { accessToken }, signal));
      return;
    }
    if (oauth) {
      const revoked = await revokeSession(this.http, { ...stored.tokens, oauth }, { signal });
      const host = new URL(oauth.issuer).host;
      if (revoked) this.log.info(`Revoked the OAuth 2.0 session of ${m.userId} at ${host}.`);
      else this.log.warn(`${host} has no revocation endpoint; the session of ${m.userId} stays valid there until it expires.`);
      return;
    }
    try {
      await this.mgr.withAccessToken(m.id, (token) => logout(this.http, m.homeserverUrl, token, { signal }), { signal });
    } catch (e) {
      if (e instanceof SessionEndedError || e instanceof NoSessionError || e instanceof NotRotatableError) return;
      if (isMatrixError(e) && (e.status === 401 || e.status === 403)) return; // already gone on the server
      if (isTransientFailure(e) || !isMatrixError(e)) throw e;
      this.log.warn(`The server refused to sign ${m.userId} out: ${e.message}`);
    }
  }

  /** Best effort, for a session that is not (or no longer) the account's. */
  async endOtherSession(
    baseUrl: string,
    tokens: Pick<SessionTokens, 'accessToken' | 'refreshToken' | 'oauth'>,
    signal?: AbortSignal,
  ): Promise<void> {
    const oauth = tokens.oauth;
    const ended = oauth
      ? revokeSession(this.http, { ...tokens, oauth }, { signal })
      : logout(this.http, baseUrl, tokens.accessToken, { signal });
    await ended.catch((e: unknown) => {
      this.log.info(`Best-effort logout of an old session on ${baseUrl}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private async quietRevoke(oauth: NonNullable<SessionTokens['oauth']>, accessToken: string, signal?: AbortSignal): Promise<void> {
    await revokeToken(this.http, oauth, accessToken, 'access_token', { signal }).catch((e: unknown) => {
      this.log.info(`Best-effort revocation of an ended session at ${oauth.issuer}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
}
