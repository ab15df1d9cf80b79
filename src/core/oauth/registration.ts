// Dynamic client registration (RFC 7591) as a native application
// (RFC 8252 §8.4), with what MAS requires of client metadata
// (shared/MATRIX-NOTES.md): an https client_uri off localhost, loopback
// redirect URIs on 127.0.0.1 without a port, no client secret.
import type { HttpRequester } from '../http';
import { asOAuthError, invalidField, requireString } from './errors';
import { type AuthMetadata, DEVICE_CODE_GRANT } from './types';

export const CLIENT_NAME = 'Matrix DevTools';
/** The extension's Marketplace page: https, a real host (MAS refuses localhost). */
export const CLIENT_URI = 'https://marketplace.visualstudio.com/items?itemName=matrix-devtools.matrix-devtools';
/** RFC 8252 §7.3, registered without a port: the server must accept any port at authorize time. */
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/callback';

export interface RegisteredClient {
  clientId: string;
  grantTypes: string[];
}

export function clientMetadataFor(metadata: AuthMetadata): Record<string, unknown> {
  const grantTypes = ['authorization_code', 'refresh_token'];
  if (metadata.deviceAuthorizationEndpoint && metadata.grantTypesSupported.includes(DEVICE_CODE_GRANT)) grantTypes.push(DEVICE_CODE_GRANT);
  return {
    application_type: 'native',
    client_name: CLIENT_NAME,
    client_uri: CLIENT_URI,
    token_endpoint_auth_method: 'none',
    grant_types: grantTypes,
    response_types: ['code'],
    redirect_uris: [LOOPBACK_REDIRECT_URI],
  };
}

/** RFC 7591 §3.1: POST the client metadata as JSON. */
export async function registerClient(
  http: HttpRequester,
  metadata: AuthMetadata,
  opts: { signal?: AbortSignal } = {},
): Promise<RegisteredClient> {
  const body = clientMetadataFor(metadata);
  try {
    const res = await http.request(metadata.registrationEndpoint, '', { method: 'POST', body, signal: opts.signal });
    return processRegistrationResponse(res.body, res.url, res.status);
  } catch (e) {
    throw asOAuthError(e);
  }
}

/** RFC 7591 §3.2.1: 201 with `client_id`; the granted grant types may be fewer than asked. */
export function processRegistrationResponse(body: Record<string, unknown>, url: string, status: number): RegisteredClient {
  const what = 'client registration';
  const clientId = requireString(body, 'client_id', url, what);
  if (body.client_secret !== undefined && body.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== 'none') {
    throw invalidField(url, what, 'token_endpoint_auth_method', '"none" for a native app', status);
  }
  const grantTypes = Array.isArray(body.grant_types)
    ? body.grant_types.filter((g): g is string => typeof g === 'string')
    : ['authorization_code'];
  return { clientId, grantTypes };
}
