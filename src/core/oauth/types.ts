// The OAuth facts a session keeps (stored with its tokens, never a secret by
// itself) so that rotation and sign-out need no discovery: Element Web #31229
// lost a session because its refresher could only be built after discovery,
// while the authorization server was unreachable at start-up.
export interface OAuthGrant {
  issuer: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  clientId: string;
  /** The scopes granted, space-separated (includes the device scope). */
  scope: string;
}

/** RFC 8414 / Matrix `auth_metadata`, after validation: the fields the client uses. */
export interface AuthMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  accountManagementUri?: string;
  /** `account_management_actions_supported`: which `action=` values the account page understands. */
  accountManagementActionsSupported?: string[];
  grantTypesSupported: string[];
  scopesSupported?: string[];
  /** Where it was found: the stable path, or MSC2965's unstable one. */
  source: 'stable' | 'unstable';
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
