// "Does my homeserver reach my appservice, and if not, why?" One ping, one
// result value with an explanation for every outcome Synapse can give.
import { MatrixApiError, RequestFailedError, describeError } from './errors';
import { getVersions, ServerVersions, supportsSpecVersion } from './homeserver';
import type { HttpRequester } from './http';
import { t } from './l10n';

export type PingEndpoint = 'stable' | 'unstable';

export interface PingRequest {
  homeserverUrl: string;
  appserviceId: string;
  asToken: string;
  transactionId?: string;
  /** Synapse waits 60 s for the appservice, so ours must be longer. Default 75 s. */
  timeoutMs?: number;
  /** Already fetched `/versions`; fetched when absent. */
  versions?: ServerVersions;
  signal?: AbortSignal;
}

export interface PingResult {
  ok: boolean;
  appserviceId: string;
  homeserverUrl: string;
  endpoint?: PingEndpoint;
  transactionId: string;
  /** The homeserver's own measurement of the HS → AS round trip. */
  durationMs?: number;
  /** This client → homeserver → appservice → back, as seen here. */
  roundTripMs?: number;
  /** HTTP status of the homeserver's answer. */
  status?: number;
  errcode?: string;
  /** The server's `error` text, when there is one. */
  serverError?: string;
  /** For M_BAD_STATUS: what the appservice answered the homeserver. */
  appserviceStatus?: number;
  appserviceBody?: string;
  /** One sentence: what happened. */
  summary: string;
  /** What to check or do next (failures only). */
  nextStep?: string;
}

export const DEFAULT_PING_TIMEOUT_MS = 75_000;
const STABLE_FEATURE = 'fi.mau.msc2659.stable';
const UNSTABLE_FEATURE = 'fi.mau.msc2659';

/** Which ping path `/versions` promises; `undefined` = nothing advertised (try stable, expect 404 on old servers). */
export function choosePingEndpoint(versions: ServerVersions): PingEndpoint | undefined {
  if (supportsSpecVersion(versions, 'v1.7') || versions.unstableFeatures[STABLE_FEATURE]) return 'stable';
  if (versions.unstableFeatures[UNSTABLE_FEATURE]) return 'unstable';
  return undefined;
}

export function pingPath(endpoint: PingEndpoint, appserviceId: string): string {
  const id = encodeURIComponent(appserviceId);
  return endpoint === 'stable'
    ? `/_matrix/client/v1/appservice/${id}/ping`
    : `/_matrix/client/unstable/fi.mau.msc2659/appservice/${id}/ping`;
}

/**
 * Only has to differ from the other pings' ids (the homeserver echoes it to the
 * appservice), not to be secret: Math.random, so that one ping from the CLI
 * does not load node:crypto (≈ 4 ms of a ≈ 70 ms process).
 */
export function newTransactionId(): string {
  const random = Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  return `mdt-${Date.now().toString(36)}-${random}`;
}

/** Never retried, never throws: each try may take a minute and hits a live bridge. */
export async function pingAppservice(http: HttpRequester, req: PingRequest): Promise<PingResult> {
  const transactionId = req.transactionId ?? newTransactionId();
  const base = { ok: false, appserviceId: req.appserviceId, homeserverUrl: req.homeserverUrl, transactionId };
  let versions = req.versions;
  if (!versions) {
    try {
      versions = await getVersions(http, req.homeserverUrl, req.signal);
    } catch (e) {
      return {
        ...base,
        summary: t('Could not read /versions from the homeserver: {0}', describeError(e)),
        nextStep: t('Check the homeserver URL and that the homeserver is running.'),
      };
    }
  }
  const endpoint = choosePingEndpoint(versions) ?? 'stable';
  const started = Date.now();
  try {
    const res = await http.request(req.homeserverUrl, pingPath(endpoint, req.appserviceId), {
      method: 'POST',
      body: { transaction_id: transactionId },
      accessToken: req.asToken,
      timeoutMs: req.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      signal: req.signal,
      rateLimitRetries: 0,
    });
    const durationMs = typeof res.body.duration_ms === 'number' ? res.body.duration_ms : undefined;
    return {
      ...base,
      ok: true,
      endpoint,
      durationMs,
      roundTripMs: Date.now() - started,
      status: res.status,
      summary:
        durationMs === undefined
          ? t('The homeserver reached the appservice.')
          : t('The homeserver reached the appservice in {0} ms.', durationMs),
    };
  } catch (e) {
    const roundTripMs = Date.now() - started;
    if (e instanceof MatrixApiError) return { ...base, endpoint, roundTripMs, ...explainPingError(e, req.appserviceId) };
    return { ...base, endpoint, roundTripMs, ...explainRequestFailure(e, req) };
  }
}

type Explained = Pick<PingResult, 'status' | 'errcode' | 'serverError' | 'appserviceStatus' | 'appserviceBody' | 'summary' | 'nextStep'>;

export function explainPingError(e: MatrixApiError, appserviceId: string): Explained {
  const common = { status: e.status, errcode: e.errcode, serverError: e.error || undefined };
  switch (e.errcode) {
    case 'M_CONNECTION_FAILED':
      return {
        ...common,
        summary: t('The homeserver could not connect to the appservice (M_CONNECTION_FAILED).'),
        nextStep: t(
          "Check the registration's url: is the appservice running, on that host and port, and reachable from the homeserver (inside Docker, localhost means the homeserver's own container)?",
        ),
      };
    case 'M_BAD_STATUS': {
      const status = typeof e.body.status === 'number' ? e.body.status : undefined;
      const body = typeof e.body.body === 'string' ? e.body.body.slice(0, 500) : undefined;
      const rejectedToken = status === 401 || status === 403;
      return {
        ...common,
        appserviceStatus: status,
        appserviceBody: body,
        summary: t('The appservice answered the homeserver with HTTP {0} (M_BAD_STATUS).', status ?? '?'),
        nextStep: rejectedToken
          ? t(
              "The appservice rejected the homeserver's hs_token: make the hs_token in the appservice's config match the registration file the homeserver loaded, then restart both.",
            )
          : status === 404 || status === 405 || status === 400
            ? t(
                'The appservice does not implement POST /_matrix/app/v1/ping (many frameworks answer only pings they started); update it, or rely on its own health check.',
              )
            : t("Look at the appservice's logs for the error behind that answer."),
      };
    }
    case 'M_CONNECTION_TIMEOUT':
      return {
        ...common,
        summary: t('The appservice accepted the connection but did not answer in time (M_CONNECTION_TIMEOUT).'),
        nextStep: t(
          'The appservice is running but stuck or overloaded: check its logs and whether it blocks on a database or another service.',
        ),
      };
    case 'M_URL_NOT_SET':
      return {
        ...common,
        summary: t('The registration has url: null, so the homeserver never contacts this appservice (M_URL_NOT_SET).'),
        nextStep: t('That is right for a receive-only appservice; otherwise set url in the registration and restart the homeserver.'),
      };
    case 'M_FORBIDDEN':
      return /mismatch/i.test(e.error)
        ? {
            ...common,
            summary: t('The as_token belongs to a different appservice than "{0}" (M_FORBIDDEN).', appserviceId),
            nextStep: t('Use the id from the same registration file as the as_token.'),
          }
        : {
            ...common,
            summary: t(
              'The homeserver does not treat this token as an appservice token (M_FORBIDDEN): {0}',
              e.error || t('no reason given'),
            ),
            nextStep: t("Use the registration's as_token, not a user's access token."),
          };
    case 'M_UNKNOWN_TOKEN':
    case 'M_MISSING_TOKEN':
      return {
        ...common,
        summary: t('The homeserver does not know this as_token ({0}).', e.errcode),
        nextStep: t(
          "Make sure the homeserver loads this registration file (Synapse: app_service_config_files) and was restarted after it changed, and that the as_token matches the file's.",
        ),
      };
    case 'M_UNRECOGNIZED':
      return {
        ...common,
        summary: t('The homeserver does not support appservice ping (HTTP {0} M_UNRECOGNIZED).', e.status),
        nextStep: t('Appservice ping needs Matrix v1.7 (Synapse 1.84 or later); upgrade the homeserver, or use Check Appservice Directly.'),
      };
    case 'M_LIMIT_EXCEEDED':
      return {
        ...common,
        summary: t('The homeserver is rate-limiting this appservice (M_LIMIT_EXCEEDED).'),
        nextStep: t(
          'Wait {0} s and ping again, or set rate_limited: false in the registration.',
          Math.ceil((e.retryAfterMs ?? 1000) / 1000),
        ),
      };
    default:
      if (e.status === 405) {
        return {
          ...common,
          summary: t('The homeserver does not support appservice ping (HTTP 405).'),
          nextStep: t('Appservice ping needs Matrix v1.7 (Synapse 1.84 or later); upgrade the homeserver.'),
        };
      }
      return {
        ...common,
        summary: t('The homeserver answered HTTP {0} {1}: {2}', e.status, e.errcode, e.error || t('no explanation given')),
        nextStep: t("Check the homeserver's logs for this request."),
      };
  }
}

function explainRequestFailure(e: unknown, req: PingRequest): Explained {
  if (e instanceof RequestFailedError && e.kind === 'cancelled') {
    // Not a fault of the homeserver: "check the homeserver URL" would send the user looking for one.
    return { summary: t('The ping was cancelled here before the homeserver answered; the homeserver may still finish it.') };
  }
  if (e instanceof RequestFailedError && e.kind === 'timeout') {
    return {
      summary: t('The homeserver did not answer the ping within {0} s.', Math.round((req.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS) / 1000)),
      nextStep: t('The homeserver itself may be overloaded, or a proxy in front of it cut the request; check its logs.'),
    };
  }
  return {
    status: e instanceof RequestFailedError ? e.status : undefined,
    summary: describeError(e),
    nextStep: t('Check the homeserver URL and that the homeserver is running.'),
  };
}
