// "Prepare and ping an appservice" and "check it directly", the way both the
// CLI and the extension do it: discover the homeserver → read /versions →
// choose the ping endpoint → ping → explain. Every way it can stop before a
// request is sent has its sentence here; what the homeserver's answer means
// is explained in appservicePing.ts. A change to ping behaviour is made here.
import { checkAppserviceDirectly, compareDirectAndPing, DirectCheckResult } from './appserviceDirect';
import { choosePingEndpoint, pingAppservice, PingResult } from './appservicePing';
import { describeError } from './errors';
import { discoverHomeserver, DiscoveredHomeserver, newestSpecVersion, type Discover } from './homeserver';
import type { HttpRequester } from './http';
import { t } from './l10n';
import type { AppserviceRegistration } from './registration';

// For the front (core/ping.ts), which reaches this file's bundle only.
export { pingPath } from './appservicePing';

export type PingOutcome = 'ok' | 'failed' | 'cancelled' | 'skipped';

/** Why something cannot go ahead: one sentence, and what to do about it. */
export interface NotUsable {
  problem: string;
  nextStep?: string;
}

export interface AsToken {
  asToken: string;
  /** The id the token belongs to, when known (a registration file's `id`). */
  registrationId?: string;
}

export interface PingRun {
  appserviceId: string;
  /** When the ping started (ms since epoch). */
  at: number;
  /** What the user gave: a server name or URL. */
  homeserverInput?: string;
  outcome: PingOutcome;
  /** False when it stopped before the ping request (no token, no ping support, homeserver unreachable…). */
  sent: boolean;
  result: PingResult;
  /**
   * Set when a ping went out early to this base URL (what discovery found
   * last time) and was dropped because the homeserver is found elsewhere or
   * advertises another endpoint now: the homeserver may still have passed it on.
   */
  droppedEarlyPing?: string;
}

export interface PreparePingRequest {
  /** The id shown to the user. */
  appserviceId: string;
  /** The registration's id when already known; used in results that were not sent. */
  registrationId?: string;
  /** Undefined = none chosen: reported, not sent. */
  homeserver: string | undefined;
  /** Read at the moment it is needed. */
  asToken: () => Promise<AsToken | NotUsable>;
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  /** How to find the homeserver: one discovery shared by a batch (discoveryPerBatch). Default: discover now. */
  discover?: Discover;
  /**
   * What discovery found for this homeserver last time (DiscoveryMemory). The
   * ping is sent there at once, while `discover` runs, and its answer is used
   * only when discovery finds the same base URL and ping endpoint again;
   * otherwise it is dropped and the ping is sent where discovery says.
   */
  recalled?: DiscoveredHomeserver;
}

/** One ping through the homeserver, from "which homeserver" to the explained answer. Never throws. */
export async function prepareAndPing(http: HttpRequester, req: PreparePingRequest): Promise<PingRun> {
  const now = req.now ?? Date.now;
  // The registration's id once known (from the token), for runs that stop before the ping.
  let registrationId = req.registrationId;
  const notSent = (outcome: PingOutcome, summary: string, nextStep?: string, homeserverUrl?: string): PingRun =>
    notSentRun(
      { appserviceId: req.appserviceId, registrationId, homeserver: req.homeserver, at: now() },
      outcome,
      summary,
      nextStep,
      homeserverUrl,
    );
  const homeserver = req.homeserver;
  if (!homeserver) {
    return notSent(
      'skipped',
      t('No homeserver is chosen for this appservice.'),
      t('Run "Choose Homeserver for Appservice", or set homeserver in the matrixDevtools.appservices setting.'),
    );
  }
  const { signal } = req;
  let early: EarlyPing | undefined;
  let earlyUsed = false;
  // Discovery goes out first and runs while the token is read (a registration
  // file read and parsed): the two together take as long as the longer. A
  // discovery of our own is stopped when the token cannot be used; one shared
  // by a batch (req.discover) goes on for the others.
  const ownDiscovery = req.discover ? undefined : new AbortController();
  const stopDiscovery = () => ownDiscovery?.abort();
  if (ownDiscovery) signal?.addEventListener('abort', stopDiscovery, { once: true });
  const discover = req.discover ?? ((input: string, s?: AbortSignal) => discoverHomeserver(http, input, s));
  const discovering = discover(homeserver, ownDiscovery?.signal ?? signal).then(
    (server) => ({ server }),
    (error: unknown) => ({ error }),
  );
  const run = await (async (): Promise<PingRun> => {
    try {
      const token = await req.asToken();
      if ('problem' in token) return notSent('failed', token.problem, token.nextStep);
      registrationId = token.registrationId ?? registrationId;
      const ping = (to: DiscoveredHomeserver, pingSignal: AbortSignal | undefined) =>
        pingAppservice(http, {
          homeserverUrl: to.baseUrl,
          appserviceId: token.registrationId ?? req.appserviceId,
          asToken: token.asToken,
          versions: to.versions,
          timeoutMs: req.timeoutMs,
          signal: pingSignal,
        });
      const sentRun = (at: number, result: PingResult): PingRun => {
        const outcome: PingOutcome = result.ok ? 'ok' : signal?.aborted ? 'cancelled' : 'failed';
        return { appserviceId: req.appserviceId, at, homeserverInput: homeserver, outcome, sent: true, result };
      };
      const useEarly = async (sent: EarlyPing) => {
        earlyUsed = true;
        return sentRun(sent.at, await sent.result);
      };
      const recalled = req.recalled;
      if (recalled && choosePingEndpoint(recalled.versions) && !signal?.aborted) {
        early = pingEarly(recalled, now(), (s) => ping(recalled, s), signal);
      }
      const discovered = await discovering;
      if ('error' in discovered) {
        const e = discovered.error;
        if (signal?.aborted) {
          // The early ping was aborted by the same signal: reported as the cancelled ping it is.
          return early ? useEarly(early) : notSent('cancelled', t('Cancelled before the ping was sent.'));
        }
        return notSent(
          'failed',
          t('Could not reach the homeserver {0}: {1}', homeserver, describeError(e)),
          t('Check the homeserver name or URL and that the homeserver is running.'),
        );
      }
      const { server } = discovered;
      // The same URL and the same endpoint: the early request is the one this ping would send now. The
      // same URL and no endpoint advertised now: it was sent all the same, and the homeserver's answer says more.
      const endpointNow = choosePingEndpoint(server.versions);
      if (early && early.to.baseUrl === server.baseUrl && (!endpointNow || endpointNow === choosePingEndpoint(early.to.versions))) {
        return useEarly(early);
      }
      early?.drop(); // now, not when the ping below has answered
      if (!endpointNow) {
        return notSent(
          'failed',
          t(
            '{0} does not support appservice ping: its /versions lists spec versions up to {1} and advertises neither fi.mau.msc2659.stable nor fi.mau.msc2659, so no ping was sent.',
            server.baseUrl,
            newestSpecVersion(server.versions.versions) ?? '?',
          ),
          t(
            'Appservice ping needs Matrix v1.7 (Synapse 1.84 or later); upgrade the homeserver, or use "Check Appservice Directly" to test the appservice from this machine.',
          ),
          server.baseUrl,
        );
      }
      const at = now();
      return sentRun(at, await ping(server, signal));
    } catch (e) {
      // pingAppservice never throws; this is for the unexpected (a file system error, a bug).
      return notSent('failed', t('The ping could not be prepared: {0}', describeError(e)));
    } finally {
      stopDiscovery(); // done by now, or no longer needed
      signal?.removeEventListener('abort', stopDiscovery);
    }
  })();
  if (!early || earlyUsed) return run;
  // An early ping went out and its answer was not used: the report says so.
  early.drop();
  return { ...run, droppedEarlyPing: early.to.baseUrl };
}

/** A ping sent to what discovery found last time, before discovery has answered again. */
interface EarlyPing {
  to: DiscoveredHomeserver;
  at: number;
  /** pingAppservice never throws, so a dropped early ping leaves no rejection behind. */
  result: Promise<PingResult>;
  /** Aborts it on this side; the homeserver may already have passed it on to the appservice. */
  drop: () => void;
}

function pingEarly(
  to: DiscoveredHomeserver,
  at: number,
  send: (signal: AbortSignal) => Promise<PingResult>,
  outer: AbortSignal | undefined,
): EarlyPing {
  const controller = new AbortController();
  const drop = () => controller.abort();
  outer?.addEventListener('abort', drop, { once: true });
  const result = send(controller.signal).finally(() => outer?.removeEventListener('abort', drop));
  return { to, at, result, drop };
}

/** A ping that was not sent, in the same shape as one that was. */
export function notSentRun(
  target: { appserviceId: string; registrationId?: string; homeserver: string | undefined; at: number },
  outcome: PingOutcome,
  summary: string,
  nextStep?: string,
  homeserverUrl?: string,
): PingRun {
  return {
    appserviceId: target.appserviceId,
    at: target.at,
    homeserverInput: target.homeserver,
    outcome,
    sent: false,
    result: {
      ok: false,
      appserviceId: target.registrationId ?? target.appserviceId,
      homeserverUrl: homeserverUrl ?? target.homeserver ?? '',
      transactionId: '',
      summary,
      nextStep,
    },
  };
}

export interface DirectRun {
  at: number;
  url?: string | null;
  /** Set when the check could not start (no file, url: null, no hs_token). */
  notChecked?: string;
  direct?: DirectCheckResult;
  ping?: PingRun;
  verdict?: string;
}

export interface DirectCheckPlan {
  registration: { registration: AppserviceRegistration } | NotUsable;
  /** Pings through the homeserver after the direct check (or waits for one already sent); absent or undefined = none to compare with. */
  ping?: () => Promise<PingRun | undefined>;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Sends the homeserver's request (`POST {url}/_matrix/app/v1/ping` with the
 * hs_token) from here and, when a homeserver is known, pings through it too,
 * then says what the two together mean. Never throws for a registration that
 * cannot be checked: `notChecked` says why.
 */
export async function checkDirectlyAndCompare(http: HttpRequester, plan: DirectCheckPlan): Promise<DirectRun> {
  const at = (plan.now ?? Date.now)();
  const loaded = plan.registration;
  if ('problem' in loaded) return { at, notChecked: loaded.problem };
  const { url, hsToken } = loaded.registration;
  if (url === null) {
    return {
      at,
      url: null,
      notChecked: t(
        'The registration has url: null: the homeserver never contacts this appservice (receive-only), so there is nothing to check.',
      ),
    };
  }
  if (!url) return { at, notChecked: t('The registration has no url.') };
  if (!hsToken) return { at, url, notChecked: t("The registration has no hs_token, so the homeserver's request cannot be reproduced.") };
  const direct = await checkAppserviceDirectly(http, { url, hsToken, signal: plan.signal });
  const ping = plan.ping && !plan.signal?.aborted ? await plan.ping() : undefined;
  const verdict = ping?.sent ? compareDirectAndPing(direct, ping.result) : undefined;
  return { at, url, direct, ping, verdict };
}

/** Whether a direct check found something broken (the CLI's exit code). */
export function directRunFailed(run: DirectRun): boolean {
  return !!run.notChecked || !run.direct?.reachable || run.direct.acceptsHsToken !== true || run.ping?.outcome === 'failed';
}

/**
 * Whether the user should look at a direct check: something broken, an
 * appservice that accepts any hs_token (a hole, if not a failure), or a ping
 * through the homeserver that did not succeed. The one rule for the log level
 * and the notification.
 */
export function directRunNeedsAttention(run: DirectRun): boolean {
  return directRunFailed(run) || run.direct?.acceptsWrongToken === true || (run.ping !== undefined && run.ping.outcome !== 'ok');
}
