// Check Appservice Directly: send the homeserver's own request
// (`POST {url}/_matrix/app/v1/ping` with the hs_token) from this machine, then
// compare with what the homeserver saw, to tell "appservice down" apart from
// "appservice up but unreachable from the homeserver" and "tokens differ".
import { MatrixApiError, RequestFailedError, describeError } from './errors';
import { type HttpRequester, isLoopbackHost } from './http';
import { t } from './l10n';
import type { PingResult } from './appservicePing';
import { newTransactionId } from './appservicePing';

export interface DirectCheckRequest {
  url: string;
  hsToken: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DirectCheckResult {
  /** Something answered HTTP at the url. */
  reachable: boolean;
  /** The appservice answered 2xx to our ping with the registration's hs_token. */
  acceptsHsToken?: boolean;
  /** It also answered 2xx to a wrong token: it checks nothing. */
  acceptsWrongToken?: boolean;
  status?: number;
  roundTripMs?: number;
  summary: string;
  nextStep?: string;
  /** Something about the url itself worth knowing (loopback-only, container name). */
  urlNote?: string;
}

export function describeAppserviceUrl(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return t('The url "{0}" is not a valid URL.', url);
  }
  if (isLoopbackHost(host)) {
    return t('{0} is a loopback address: only a homeserver on the same machine (and not inside a container) can reach it.', host);
  }
  if (host === 'host.docker.internal') {
    return t('host.docker.internal reaches the Docker host only from inside a container; this machine may resolve it differently.');
  }
  if (!host.includes('.') && !host.includes(':')) {
    return t('"{0}" looks like a container or Compose service name: it resolves only inside that container network.', host);
  }
  return undefined;
}

export async function checkAppserviceDirectly(http: HttpRequester, req: DirectCheckRequest): Promise<DirectCheckResult> {
  const urlNote = describeAppserviceUrl(req.url);
  const send = (token: string) =>
    http.request(req.url, '/_matrix/app/v1/ping', {
      method: 'POST',
      body: { transaction_id: newTransactionId() },
      accessToken: token,
      timeoutMs: req.timeoutMs ?? 15_000,
      signal: req.signal,
      rateLimitRetries: 0,
      // Appservices usually listen on plain HTTP inside a private network.
      allowInsecureHttp: true,
      server: 'appservice',
    });
  const started = Date.now();
  try {
    const res = await send(req.hsToken);
    const roundTripMs = Date.now() - started;
    let acceptsWrongToken = false;
    try {
      await send(`mdt_wrong_${newTransactionId()}`);
      acceptsWrongToken = true;
    } catch {
      // Rejecting a wrong token is what we hope for.
    }
    return {
      reachable: true,
      acceptsHsToken: true,
      acceptsWrongToken,
      status: res.status,
      roundTripMs,
      urlNote,
      summary: t('The appservice answers here and accepts the hs_token ({0} ms).', roundTripMs),
      nextStep: acceptsWrongToken
        ? t('It also accepted a wrong hs_token: the appservice does not check who calls it, which lets anyone push events to it.')
        : undefined,
    };
  } catch (e) {
    const roundTripMs = Date.now() - started;
    if (e instanceof MatrixApiError) {
      if (e.status === 401 || e.status === 403) {
        return {
          reachable: true,
          acceptsHsToken: false,
          status: e.status,
          roundTripMs,
          urlNote,
          summary: t("The appservice answers here but rejects the registration's hs_token (HTTP {0} {1}).", e.status, e.errcode),
          nextStep: t(
            "The appservice's own config has a different hs_token than this registration file: make them match and restart the appservice.",
          ),
        };
      }
      const noPing = e.status === 404 || e.status === 405 || e.status === 400;
      return {
        reachable: true,
        status: e.status,
        roundTripMs,
        urlNote,
        summary: t('The appservice answers here with HTTP {0} {1}.', e.status, e.errcode),
        nextStep: noPing
          ? t('It does not implement POST /_matrix/app/v1/ping, so the token could not be checked this way.')
          : t("Look at the appservice's logs for the error behind that answer."),
      };
    }
    if (e instanceof RequestFailedError && e.kind === 'invalid-response' && e.status !== undefined) {
      return {
        reachable: true,
        status: e.status,
        roundTripMs,
        urlNote,
        summary: e.message,
        nextStep: t('Something other than an appservice answers at that url: check the host and port.'),
      };
    }
    return {
      reachable: false,
      roundTripMs,
      urlNote,
      summary: t('The appservice cannot be reached from this machine: {0}', describeError(e)),
      nextStep: t('Start the appservice, or check the host and port in the registration url.'),
    };
  }
}

/** One sentence that puts the direct check and the homeserver's ping side by side. */
export function compareDirectAndPing(direct: DirectCheckResult, ping: PingResult | undefined): string | undefined {
  if (!ping) return undefined;
  const hsCannotConnect = ping.errcode === 'M_CONNECTION_FAILED' || ping.errcode === 'M_CONNECTION_TIMEOUT';
  const hsTokenRejected = ping.errcode === 'M_BAD_STATUS' && (ping.appserviceStatus === 401 || ping.appserviceStatus === 403);
  if (direct.acceptsHsToken && hsCannotConnect) {
    return t(
      "The appservice answers here but the homeserver cannot reach it: the registration's url is not reachable from the homeserver (container network, firewall or wrong host).",
    );
  }
  if (direct.acceptsHsToken && hsTokenRejected) {
    return t(
      'The appservice accepts the hs_token in this file but rejected the one the homeserver sent: the homeserver has loaded a different registration; restart it after editing the file.',
    );
  }
  if (!direct.reachable && ping.ok) {
    return t(
      'The homeserver reaches the appservice but this machine cannot: normal when the appservice lives in a network only the homeserver sees.',
    );
  }
  if (!direct.reachable && hsCannotConnect) {
    return t('Neither this machine nor the homeserver can reach the appservice: it is probably not running, or the url is wrong.');
  }
  if (direct.acceptsHsToken === false) {
    return t("The appservice rejects the registration's hs_token from here too: its config and the registration file disagree.");
  }
  if (direct.acceptsHsToken && ping.ok) return t('Both this machine and the homeserver reach the appservice.');
  return undefined;
}
