// The checks that ask the homeserver: does it know the as_token (whoami), under
// which id (the ping's 403), does it reach the appservice (the ping), and what
// does it support (/versions, auth_metadata).
import { choosePingEndpoint, PingResult } from '../appservicePing';
import { describeError, MatrixApiError } from '../errors';
import type { ServerVersions } from '../homeserver';
import type { HttpRequester } from '../http';
import { t } from '../l10n';
import type { AppserviceRegistration } from '../registration/types';
import { whoami } from '../session';
import { shown } from '../shown';
import type { DoctorCheck } from './types';

export interface AsTokenOutcome {
  check: DoctorCheck;
  /** The homeserver's server name, from the sender id it answered. */
  serverName?: string;
  /** False when later homeserver checks cannot mean anything (unknown token). */
  tokenKnown: boolean;
}

export async function checkAsToken(
  http: HttpRequester,
  baseUrl: string,
  reg: AppserviceRegistration,
  signal?: AbortSignal,
): Promise<AsTokenOutcome> {
  const expected = `@${reg.senderLocalpart}`;
  try {
    const me = await whoami(http, baseUrl, reg.asToken, { signal });
    const colon = me.userId.indexOf(':');
    const serverName = colon > 0 ? me.userId.slice(colon + 1) : undefined;
    const localpart = colon > 0 ? me.userId.slice(0, colon) : me.userId;
    if (localpart !== expected) {
      return {
        tokenKnown: true,
        serverName,
        check: {
          id: 'as-token',
          status: 'fail',
          message: t(
            'The homeserver knows this as_token as {0}, not as the sender {1}:{2} this file names: it holds a different registration for this token.',
            shown(me.userId),
            expected,
            shown(serverName ?? '…'),
          ),
          next: t(
            'Make the homeserver load this file (Synapse: app_service_config_files) and restart it, or give this file the sender_localpart of the registration it loaded.',
          ),
        },
      };
    }
    return {
      tokenKnown: true,
      serverName,
      check: {
        id: 'as-token',
        status: 'ok',
        message: t('The homeserver knows this as_token: it answers as the sender {0}.', shown(me.userId)),
      },
    };
  } catch (e) {
    if (e instanceof MatrixApiError && (e.errcode === 'M_UNKNOWN_TOKEN' || e.errcode === 'M_MISSING_TOKEN')) {
      return {
        tokenKnown: false,
        check: {
          id: 'as-token',
          status: 'fail',
          message: t('The homeserver does not know this as_token ({0}): it has not loaded this registration.', e.errcode),
          next: t(
            "List this file in the homeserver's app_service_config_files and restart it; if it is listed, the homeserver reads another copy whose tokens differ (bridges regenerate their registration): use one file for both, then restart.",
          ),
        },
      };
    }
    return {
      tokenKnown: false,
      check: {
        id: 'as-token',
        status: 'fail',
        message: t('whoami with the as_token failed: {0}', describeError(e)),
        next: t('Check the homeserver URL and that the homeserver is running.'),
      },
    };
  }
}

/** What the ping says about the id: Synapse checks the token, then the id, then the url. */
export function appserviceIdCheck(ping: PingResult, reg: AppserviceRegistration, sameTokenElsewhere: readonly string[]): DoctorCheck {
  if (ping.errcode === 'M_FORBIDDEN' && /mismatch/i.test(ping.serverError ?? '')) {
    const guess = sameTokenElsewhere.length
      ? t(' (another workspace file with this as_token says "{0}")', sameTokenElsewhere.join('", "'))
      : '';
    return {
      id: 'appservice-id',
      status: 'fail',
      message: t(
        'The file says id "{0}", but the homeserver loaded this as_token under another id{1} (M_FORBIDDEN: Mismatching application service ID in path).',
        reg.id,
        guess,
      ),
      next: t(
        'Make the id in this file the id of the registration the homeserver loaded (or make it load this file) and restart the homeserver.',
      ),
    };
  }
  if (ping.status === undefined || ping.status === 401 || ping.status === 403 || ping.status === 404 || ping.status === 405) {
    return {
      id: 'appservice-id',
      status: 'skipped',
      message: t('Not checked: the homeserver did not get as far as comparing the id ({0}).', ping.summary),
    };
  }
  return {
    id: 'appservice-id',
    status: 'ok',
    message: t('The homeserver has this as_token under the same id as the file, "{0}".', reg.id),
  };
}

export function homeserverPingCheck(ping: PingResult): DoctorCheck {
  if (ping.ok) return { id: 'homeserver-ping', status: 'ok', message: ping.summary };
  if (ping.errcode === 'M_URL_NOT_SET') return { id: 'homeserver-ping', status: 'skipped', message: ping.summary };
  return {
    id: 'homeserver-ping',
    status: 'fail',
    message: ping.summary,
    next: ping.nextStep ?? t("Check the homeserver's logs for this request."),
  };
}

export interface AuthMetadata {
  issuer: string;
}

/** `auth_metadata` (spec v1.15), or MSC2965's unstable path; undefined when the server has no next-generation auth. */
export async function getAuthMetadata(http: HttpRequester, baseUrl: string, signal?: AbortSignal): Promise<AuthMetadata | undefined> {
  for (const path of ['/_matrix/client/v1/auth_metadata', '/_matrix/client/unstable/org.matrix.msc2965/auth_metadata']) {
    try {
      const { body } = await http.request(baseUrl, path, { signal, timeoutMs: 10_000 });
      if (typeof body.issuer === 'string') return { issuer: body.issuer };
    } catch (e) {
      if (e instanceof MatrixApiError && (e.status === 404 || e.status === 405 || e.errcode === 'M_UNRECOGNIZED')) continue;
      throw e;
    }
  }
  return undefined;
}

export async function serverFeaturesCheck(
  http: HttpRequester,
  baseUrl: string,
  versions: ServerVersions,
  reg: AppserviceRegistration,
  signal?: AbortSignal,
): Promise<DoctorCheck> {
  const endpoint = choosePingEndpoint(versions);
  let auth: AuthMetadata | undefined;
  try {
    auth = await getAuthMetadata(http, baseUrl, signal);
  } catch (e) {
    return {
      id: 'server-features',
      status: 'warn',
      message: t('Could not read auth_metadata from the homeserver: {0}', describeError(e)),
      next: t("Check the homeserver's logs; a proxy may block /_matrix/client/v1/auth_metadata."),
    };
  }
  if (auth && reg.raw['io.element.msc4190'] !== true) {
    return {
      id: 'server-features',
      status: 'warn',
      message: t(
        'The homeserver uses next-generation auth (OAuth 2.0, issuer {0}) and this registration lacks io.element.msc4190: true, so an encrypted bridge cannot create its devices (M_APPSERVICE_LOGIN_UNSUPPORTED).',
        auth.issuer,
      ),
      next: t('Add io.element.msc4190: true to the registration (and turn on MSC4190 in the bridge), then restart the homeserver.'),
    };
  }
  if (!endpoint) {
    return {
      id: 'server-features',
      status: 'warn',
      message: t('The homeserver advertises no appservice ping (neither Matrix v1.7 nor fi.mau.msc2659).'),
      next: t('Appservice ping needs Matrix v1.7 (Synapse 1.84 or later); until then, rely on the direct and transaction checks.'),
    };
  }
  const ping = endpoint === 'stable' ? t('appservice ping (Matrix v1.7)') : t('appservice ping (MSC2659, unstable)');
  return {
    id: 'server-features',
    status: 'ok',
    message: auth
      ? t('The homeserver supports {0} and next-generation auth, and the registration has io.element.msc4190: true.', ping)
      : t('The homeserver supports {0} and uses its own logins (no auth_metadata).', ping),
  };
}
