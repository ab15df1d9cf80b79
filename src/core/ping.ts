// Ping an appservice through its homeserver, or check it directly: the front
// the CLI and the extension call. The code (core/appserviceChecks.ts and the
// request and explanation code behind it, ~11 KB) is loaded on the first ping,
// not when this module is imported: activating the extension and a CLI whoami
// need none of it. esbuild.js emits it as dist/ping.js.
import type * as Checks from './appserviceChecks';

export type { AsToken, DirectCheckPlan, DirectRun, NotUsable, PingOutcome, PingRun, PreparePingRequest } from './appserviceChecks';

let checks: typeof Checks | undefined;
function load(): typeof Checks {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (checks ??= require('./appserviceChecks') as typeof Checks);
}

/** Discover the homeserver, choose the endpoint, ping, explain; never throws for a failed ping. */
export const prepareAndPing: typeof Checks.prepareAndPing = (http, req) => load().prepareAndPing(http, req);
/** Asks the appservice itself, then (optionally) compares with a ping through the homeserver. */
export const checkDirectlyAndCompare: typeof Checks.checkDirectlyAndCompare = (http, plan) => load().checkDirectlyAndCompare(http, plan);
/** A ping that was not sent, in the same shape as one that was. */
export const notSentRun: typeof Checks.notSentRun = (...a) => load().notSentRun(...a);
/** Whether a direct check found something broken (the CLI's exit code). */
export const directRunFailed: typeof Checks.directRunFailed = (run) => load().directRunFailed(run);
/** Whether the user should look at a direct check (the log level and the notification). */
export const directRunNeedsAttention: typeof Checks.directRunNeedsAttention = (run) => load().directRunNeedsAttention(run);
/** The request path of a ping, e.g. for a report; only called once a ping has run. */
export const pingPath: typeof Checks.pingPath = (endpoint, appserviceId) => load().pingPath(endpoint, appserviceId);
