import { t } from './l10n';

// The lazily loaded bundles (dist/doctor.js, dist/oauth.js, see esbuild.js) carry
// their own copy of this module, and errors cross between them and the main
// bundle (a request made by the caller's HttpClient fails inside the doctor).
// So `instanceof` asks for a process-wide mark, not for this copy's class.
// Neither class is subclassed: the static check would accept any marked error.
const MATRIX_API_ERROR = Symbol.for('matrixDevtools.MatrixApiError');
const REQUEST_FAILED_ERROR = Symbol.for('matrixDevtools.RequestFailedError');
const marked = (value: unknown, mark: symbol): boolean =>
  typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
const mark = (error: Error, symbol: symbol) => Object.defineProperty(error, symbol, { value: true });

/**
 * `instanceof` for another error class whose instances cross between bundles
 * (thrown in the main bundle, recognised in a lazy one): give the class
 * `static [Symbol.hasInstance](v) { return mark.is(v) }` and call
 * `mark.set(this)` in its constructor.
 */
export function crossBundleMark(name: string): { set(error: Error): void; is(value: unknown): boolean } {
  const symbol = Symbol.for(`matrixDevtools.${name}`);
  return { set: (error) => void mark(error, symbol), is: (value) => marked(value, symbol) };
}

/**
 * The homeserver answered with an error status. Carries what callers decide on
 * (errcode, soft logout, how long to back off) and, for the appservice ping,
 * the parsed body with Synapse's extra fields (`status`, `body`).
 */
export class MatrixApiError extends Error {
  static [Symbol.hasInstance](value: unknown): value is MatrixApiError {
    return marked(value, MATRIX_API_ERROR);
  }
  readonly name = 'MatrixApiError';
  constructor(
    readonly status: number,
    readonly errcode: string,
    /** The server's own `error` text (never contains our tokens: we never send them in bodies it echoes). */
    readonly error: string,
    readonly url: string,
    readonly retryAfterMs: number | undefined,
    readonly softLogout: boolean,
    readonly body: Record<string, unknown>,
  ) {
    super(t('{0} answered {1} {2}: {3}', new URL(url).host, status, errcode, error || t('no explanation given')));
    mark(this, MATRIX_API_ERROR);
  }
}

export type RequestFailureKind =
  /** No answer within the timeout. */
  | 'timeout'
  /** The caller cancelled. */
  | 'cancelled'
  /** DNS failure, refused or reset connection, TLS failure, lost answer. */
  | 'network'
  /** An answer that is not the JSON a Matrix server sends (HTML error page, garbage). */
  | 'invalid-response'
  /** Plain http:// to a host that is not loopback, without explicit permission. */
  | 'insecure-url'
  /** Not a usable URL at all. */
  | 'invalid-url'
  | 'too-many-redirects';

/** The request did not produce a Matrix answer at all. */
export class RequestFailedError extends Error {
  static [Symbol.hasInstance](value: unknown): value is RequestFailedError {
    return marked(value, REQUEST_FAILED_ERROR);
  }
  readonly name = 'RequestFailedError';
  constructor(
    readonly kind: RequestFailureKind,
    message: string,
    readonly url: string,
    readonly status?: number,
    /** Low-level code such as ECONNREFUSED, when there is one; 'html' for a web page instead of JSON. */
    readonly code?: string,
  ) {
    super(message);
    mark(this, REQUEST_FAILED_ERROR);
  }
}

export function isMatrixError(e: unknown, errcode?: string): e is MatrixApiError {
  return e instanceof MatrixApiError && (errcode === undefined || e.errcode === errcode);
}

/** Network-level failures that say nothing about whether the server acted: safe to retry idempotent work. */
export function isTransientFailure(e: unknown): boolean {
  if (e instanceof RequestFailedError) return e.kind === 'timeout' || e.kind === 'network';
  if (e instanceof MatrixApiError) return e.errcode === 'M_LIMIT_EXCEEDED' || e.status >= 500;
  return false;
}

/** One sentence for a person: what happened and what to do next. */
export function describeError(e: unknown): string {
  if (e instanceof MatrixApiError) {
    const host = new URL(e.url).host;
    switch (e.errcode) {
      case 'M_UNKNOWN_TOKEN':
        return e.softLogout
          ? t('The session on {0} has expired (M_UNKNOWN_TOKEN, soft logout): rotate the token or sign in again.', host)
          : t(
              '{0} no longer knows this session (M_UNKNOWN_TOKEN): it was signed out elsewhere or the account was deactivated; sign in again.',
              host,
            );
      case 'M_MISSING_TOKEN':
        return t('{0} received no access token (M_MISSING_TOKEN); this is a bug in Matrix DevTools, please report it.', host);
      case 'M_FORBIDDEN':
        return t('{0} refused the request (M_FORBIDDEN): {1}', host, e.error || t('no reason given'));
      case 'M_LIMIT_EXCEEDED':
        return t('{0} is rate-limiting requests (M_LIMIT_EXCEEDED); try again in {1} s.', host, Math.ceil((e.retryAfterMs ?? 1000) / 1000));
      // OAuth 2.0 error codes (RFC 6749 §5.2, RFC 8628 §3.5), as src/core/oauth reports them.
      case 'access_denied':
        return t('The sign-in was declined on {0} (access_denied); nothing was changed.', host);
      case 'expired_token':
        return t('The sign-in code expired before it was confirmed on {0} (expired_token); start the sign-in again.', host);
      case 'invalid_grant':
        return t('{0} no longer accepts this session (invalid_grant: {1}); sign in again.', host, e.error || t('no reason given'));
      case 'invalid_client':
        return t("{0} no longer knows this app's registration (invalid_client); sign in again to register it anew.", host);
      case 'M_UNRECOGNIZED':
        return t('{0} does not support this request (M_UNRECOGNIZED, HTTP {1}); the homeserver may be too old.', host, e.status);
      default:
        return t('{0} answered HTTP {1} {2}: {3}', host, e.status, e.errcode, e.error || t('no explanation given'));
    }
  }
  if (e instanceof RequestFailedError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
