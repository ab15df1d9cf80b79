// How the OAuth code reports failures, in the shapes the rest of the core
// already handles:
// - an error answer (RFC 6749 §5.2 `{error, error_description}`) becomes a
//   MatrixApiError whose `errcode` is the OAuth `error` code (`invalid_grant`,
//   `invalid_client`, ...), so describeError, isTransientFailure and the
//   rotation's "session ended" path treat it like any server answer;
// - an answer that breaks the protocol becomes a RequestFailedError
//   ('invalid-response') whose sentence names the exact field.
import { MatrixApiError, RequestFailedError } from '../errors';
import { t } from '../l10n';

/** Re-labels an OAuth error answer; anything else is returned unchanged. */
export function asOAuthError(e: unknown): unknown {
  if (!(e instanceof MatrixApiError) || typeof e.body.errcode === 'string' || typeof e.body.error !== 'string') return e;
  const description = typeof e.body.error_description === 'string' ? e.body.error_description : '';
  return new MatrixApiError(e.status, e.body.error, description, e.url, e.retryAfterMs, false, e.body);
}

export function isOAuthError(e: unknown, ...codes: string[]): e is MatrixApiError {
  return e instanceof MatrixApiError && codes.includes(e.errcode);
}

/** `what` answered without a usable `field`. */
export function invalidField(url: string, what: string, field: string, expected: string, status?: number): RequestFailedError {
  return new RequestFailedError(
    'invalid-response',
    t('{0} answered the {1} without a valid "{2}" ({3}).', new URL(url).host, what, field, expected),
    url,
    status,
  );
}

export function requireString(body: Record<string, unknown>, field: string, url: string, what: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw invalidField(url, what, field, t('a non-empty string'));
  return v;
}

export function optionalString(body: Record<string, unknown>, field: string, url: string, what: string): string | undefined {
  if (body[field] === undefined) return undefined;
  return requireString(body, field, url, what);
}

export function requireHttpsUrl(
  body: Record<string, unknown>,
  field: string,
  url: string,
  what: string,
  allowLoopbackHttp: boolean,
): string {
  const v = requireString(body, field, url, what);
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw invalidField(url, what, field, t('an absolute URL'));
  }
  const loopback = /^(127(\.\d+){3}|\[::1\]|localhost)$/.test(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && (loopback || allowLoopbackHttp))) {
    throw invalidField(url, what, field, t('an https URL'));
  }
  return v;
}
