// Discovery of the homeserver's authorization server.
// Matrix spec v1.15 §"OAuth 2.0 API": GET /_matrix/client/v1/auth_metadata,
// an RFC 8414 authorization server metadata document; servers from before
// v1.15 serve the same at MSC2965's unstable path.
import { MatrixApiError } from '../errors';
import type { HttpRequester } from '../http';
import { invalidField, optionalString, requireHttpsUrl } from './errors';
import type { AuthMetadata } from './types';

export const AUTH_METADATA_PATH = '/_matrix/client/v1/auth_metadata';
export const UNSTABLE_AUTH_METADATA_PATH = '/_matrix/client/unstable/org.matrix.msc2965/auth_metadata';

/**
 * The server's OAuth metadata, or undefined when it does not use OAuth 2.0
 * (both paths answer 404 / M_UNRECOGNIZED). Other failures are thrown.
 */
export async function discoverAuthMetadata(
  http: HttpRequester,
  baseUrl: string,
  opts: { signal?: AbortSignal } = {},
): Promise<AuthMetadata | undefined> {
  for (const [path, source] of [
    [AUTH_METADATA_PATH, 'stable'],
    [UNSTABLE_AUTH_METADATA_PATH, 'unstable'],
  ] as const) {
    try {
      const res = await http.request(baseUrl, path, { signal: opts.signal });
      return processAuthMetadataResponse(res.body, res.url, source, http.allowsInsecureHttp);
    } catch (e) {
      if (!isAbsent(e)) throw e;
    }
  }
  return undefined;
}

/** Synapse answers 404 M_UNRECOGNIZED for unknown paths; some proxies 405 or 400. */
function isAbsent(e: unknown): boolean {
  return e instanceof MatrixApiError && (e.status === 404 || e.status === 405 || (e.status === 400 && e.errcode === 'M_UNRECOGNIZED'));
}

/**
 * Validates the metadata (RFC 8414 §2 and the fields Matrix requires: spec
 * v1.15 "Server metadata discovery"). Every error names the field.
 */
export function processAuthMetadataResponse(
  body: Record<string, unknown>,
  url: string,
  source: 'stable' | 'unstable',
  allowInsecureHttp = false,
): AuthMetadata {
  const what = 'auth_metadata request';
  const endpoint = (field: string) => requireHttpsUrl(body, field, url, what, allowInsecureHttp);
  const optionalEndpoint = (field: string) => (body[field] === undefined ? undefined : endpoint(field));
  const list = (field: string, required: boolean): string[] | undefined => {
    const v = body[field];
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidField(url, what, field, 'a list of strings');
    return v as string[];
  };
  const issuer = endpoint('issuer');
  const responseTypes = list('response_types_supported', true)!;
  if (!responseTypes.includes('code')) throw invalidField(url, what, 'response_types_supported', '"code" listed');
  const challengeMethods = list('code_challenge_methods_supported', true)!;
  if (!challengeMethods.includes('S256')) throw invalidField(url, what, 'code_challenge_methods_supported', '"S256" listed');
  const grantTypes = list('grant_types_supported', true)!;
  if (!grantTypes.includes('authorization_code') || !grantTypes.includes('refresh_token')) {
    throw invalidField(url, what, 'grant_types_supported', '"authorization_code" and "refresh_token" listed');
  }
  // Matrix clients register dynamically (RFC 7591): without it there is no client id to use.
  const registrationEndpoint = endpoint('registration_endpoint');
  return {
    issuer,
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    registrationEndpoint,
    revocationEndpoint: optionalEndpoint('revocation_endpoint'),
    deviceAuthorizationEndpoint: optionalEndpoint('device_authorization_endpoint'),
    accountManagementUri: optionalString(body, 'account_management_uri', url, what),
    accountManagementActionsSupported: list('account_management_actions_supported', false),
    grantTypesSupported: grantTypes,
    scopesSupported: list('scopes_supported', false),
    source,
  };
}
