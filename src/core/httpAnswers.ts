// How an HTTP answer or failure becomes what http.ts returns: parsed JSON, a
// MatrixApiError with its errcode, or a RequestFailedError whose message is
// one sentence a user can act on (never OpenSSL's or Node's own text).
import { MatrixApiError, RequestFailedError } from './errors';
import { t } from './l10n';

export function stripQuery(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

export function cancelled(url: string): RequestFailedError {
  return new RequestFailedError('cancelled', t('The request to {0} was cancelled.', new URL(url).host), url);
}

/** Who answers a request: the advice for a broken answer names the URL the user should check. */
export type Answerer = 'homeserver' | 'appservice';

export function parseBody(text: string, contentType: string | null, url: string, status: number, server: Answerer = 'homeserver'): unknown {
  const where = stripQuery(url);
  const appservice = server === 'appservice';
  if (text.trim() === '') {
    if (status >= 400 || status === 204) return {};
    throw new RequestFailedError(
      'invalid-response',
      appservice
        ? t("{0} answered HTTP {1} with an empty body instead of JSON; is this the appservice's URL?", where, status)
        : t('{0} answered HTTP {1} with an empty body instead of JSON; is this a Matrix homeserver URL?', where, status),
      url,
      status,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const looksHtml = /html/i.test(contentType ?? '') || /^\s*</.test(text);
    const message = appservice
      ? looksHtml
        ? t(
            "{0} answered HTTP {1} with an HTML page instead of JSON: the registration's url probably points at a website or a proxy, not the appservice.",
            where,
            status,
          )
        : t("{0} answered HTTP {1} with something that is not JSON; check that the registration's url is the appservice.", where, status)
      : looksHtml
        ? t(
            '{0} answered HTTP {1} with an HTML page instead of JSON: the URL probably points at a website or a proxy error page, not a Matrix homeserver API.',
            where,
            status,
          )
        : t('{0} answered HTTP {1} with something that is not JSON; check that the URL is a Matrix homeserver.', where, status);
    throw new RequestFailedError('invalid-response', message, url, status, looksHtml ? 'html' : undefined);
  }
}

export function toMatrixError(parsed: unknown, status: number, url: string, retryAfterHeader: string | null): MatrixApiError {
  const body = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const errcode = typeof body.errcode === 'string' ? body.errcode : status === 429 ? 'M_LIMIT_EXCEEDED' : 'M_UNKNOWN';
  const error = typeof body.error === 'string' ? body.error : '';
  let retryAfterMs = typeof body.retry_after_ms === 'number' && body.retry_after_ms >= 0 ? body.retry_after_ms : undefined;
  if (retryAfterMs === undefined && retryAfterHeader) retryAfterMs = parseRetryAfter(retryAfterHeader);
  return new MatrixApiError(status, errcode, error, url, retryAfterMs, body.soft_logout === true, body);
}

function parseRetryAfter(value: string): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function translateRequestFailure(
  e: unknown,
  url: string,
  timedOut: boolean,
  timeoutMs: number,
  callerSignal?: AbortSignal,
): RequestFailedError {
  if (e instanceof RequestFailedError) return e;
  const host = new URL(url).host;
  if (timedOut) {
    return new RequestFailedError(
      'timeout',
      t('{0} did not answer within {1} s; check the network or try again later.', host, Math.round(timeoutMs / 100) / 10),
      url,
    );
  }
  if (callerSignal?.aborted) return cancelled(url);
  const err = e as { code?: string; errno?: string; message?: string };
  const code = err.code ?? err.errno;
  let message: string;
  switch (code) {
    case 'ECONNREFUSED':
      message = t('Nothing is listening at {0} (connection refused): check the URL and that the server is running.', host);
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      message = t('The host {0} could not be found (DNS lookup failed): check the server name.', new URL(url).hostname);
      break;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      message = t('The connection to {0} was lost before the answer arrived ({1}); try again.', host, code);
      break;
    case 'EPROTO':
      // OpenSSL's own text ("ssl3_get_record:wrong version number") means nothing to a user.
      message = /wrong version number|packet length too long|http request/i.test(err.message ?? '')
        ? t('{0} answered https:// with plain HTTP (no TLS on that port): use http:// for it, or the port that serves https.', host)
        : t('The TLS handshake with {0} failed (EPROTO): check that this port serves https.', host);
      break;
    default:
      message = code?.startsWith('Z_')
        ? t('{0} sent a compressed answer that could not be unpacked ({1}); check for a proxy in between, or try again.', host, code)
        : code && /CERT|TLS|SSL|SELF_SIGNED/i.test(code)
          ? t('The TLS connection to {0} failed ({1}): the certificate is not trusted by this machine.', host, code)
          : t('Could not reach {0}: {1}', host, err.message ?? String(e));
  }
  return new RequestFailedError('network', message, url, undefined, code);
}
