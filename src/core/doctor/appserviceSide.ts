// The checks that call the appservice from this machine, as the homeserver
// would: the direct ping (compared with the homeserver's) and an empty
// transaction, the request every event the bridge ever gets arrives in.
import { checkDirectlyAndCompare, PingRun } from '../appserviceChecks';
import { newTransactionId } from '../appservicePing';
import { describeError, MatrixApiError, RequestFailedError } from '../errors';
import type { HttpRequester } from '../http';
import { t } from '../l10n';
import type { AppserviceRegistration } from '../registration/types';
import type { DoctorCheck } from './types';

const APPSERVICE_TIMEOUT_MS = 15_000;

/**
 * The Check Appservice Directly pipeline, compared with the homeserver's ping
 * once it has answered (the doctor sends both at once). A ping the homeserver
 * refused under this id (M_FORBIDDEN) says nothing about the appservice.
 */
export async function directPingCheck(
  http: HttpRequester,
  reg: AppserviceRegistration & { url: string },
  homeserverPing: Promise<PingRun | undefined>,
  signal?: AbortSignal,
): Promise<DoctorCheck> {
  let ping: PingRun | undefined;
  const run = await checkDirectlyAndCompare(http, {
    registration: { registration: reg },
    ping: async () => {
      const answered = await homeserverPing;
      ping = answered?.result.errcode === 'M_FORBIDDEN' ? undefined : answered;
      return ping;
    },
    signal,
  });
  const direct = run.direct;
  if (!direct) return { id: 'direct-ping', status: 'skipped', message: run.notChecked ?? t('Not checked.') };
  const verdict = run.verdict;
  const note = direct.urlNote ? ` ${direct.urlNote}` : '';
  const homeserverCannotReach =
    direct.acceptsHsToken === true && (ping?.result.errcode === 'M_CONNECTION_FAILED' || ping?.result.errcode === 'M_CONNECTION_TIMEOUT');
  if (homeserverCannotReach) {
    return {
      id: 'direct-ping',
      status: 'fail',
      message: verdict ?? direct.summary,
      next:
        t(
          "Put an address in url that the homeserver can reach: inside Docker, localhost is the homeserver's own container (use the service name or host.docker.internal); check firewalls between them.",
        ) + note,
    };
  }
  if (direct.acceptsHsToken === true && direct.acceptsWrongToken) {
    return { id: 'direct-ping', status: 'warn', message: direct.summary, next: direct.nextStep ?? '' };
  }
  if (direct.acceptsHsToken === true) return { id: 'direct-ping', status: 'ok', message: verdict ?? direct.summary };
  const noPingHere = direct.reachable && (direct.status === 404 || direct.status === 405 || direct.status === 400);
  return {
    id: 'direct-ping',
    status: noPingHere ? 'warn' : 'fail',
    message: verdict ?? direct.summary,
    next: (direct.nextStep ?? t("Look at the appservice's logs.")) + note,
  };
}

const BACKOFF = (): string =>
  t('Synapse retries failed transactions with growing delays, up to minutes; since Synapse 1.132 a successful ping resets that back-off.');

/**
 * `PUT {url}/_matrix/app/v1/transactions/<fresh id>` with `{"events": []}` and
 * the hs_token: side-effect free (no events; a fresh id is never a replay).
 */
export async function transactionsCheck(
  http: HttpRequester,
  reg: AppserviceRegistration & { url: string },
  signal?: AbortSignal,
): Promise<DoctorCheck> {
  const txnId = newTransactionId();
  try {
    const res = await http.request(reg.url, `/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}`, {
      method: 'PUT',
      body: { events: [] },
      accessToken: reg.hsToken,
      timeoutMs: APPSERVICE_TIMEOUT_MS,
      signal,
      rateLimitRetries: 0,
      allowInsecureHttp: true,
      server: 'appservice',
    });
    return {
      id: 'transactions',
      status: 'ok',
      message: t("The appservice accepted an empty transaction with HTTP {0}, as it must accept the homeserver's.", res.status),
    };
  } catch (e) {
    if (e instanceof MatrixApiError && (e.status === 401 || e.status === 403)) {
      return {
        id: 'transactions',
        status: 'fail',
        message: t(
          "The appservice rejected an empty transaction sent with this file's hs_token (HTTP {0} {1}): it will reject the homeserver's transactions the same way.",
          e.status,
          e.errcode,
        ),
        next: t(
          "Make the hs_token in the appservice's own config match this registration file, restart the appservice, then ping it. {0}",
          BACKOFF(),
        ),
      };
    }
    if (e instanceof MatrixApiError || (e instanceof RequestFailedError && e.kind === 'invalid-response')) {
      const status = e instanceof MatrixApiError ? `HTTP ${e.status} ${e.errcode}` : describeError(e);
      return {
        id: 'transactions',
        status: 'fail',
        message: t(
          "The appservice answered an empty transaction with {0}: the homeserver's transactions fail the same way, so the bridge receives no events.",
          status,
        ),
        next: t("Look at the appservice's logs for the error behind that answer. {0}", BACKOFF()),
      };
    }
    if (e instanceof RequestFailedError && e.kind === 'cancelled') {
      return { id: 'transactions', status: 'skipped', message: t('Cancelled before the appservice answered.') };
    }
    return {
      id: 'transactions',
      status: 'fail',
      message: t('The empty transaction could not be delivered from this machine: {0}', describeError(e)),
      next: t('Start the appservice, or check the host and port in the registration url.'),
    };
  }
}
