// The appservice doctor: why a bridge does not work, check by check. Pure
// core, used by the CLI (`doctor`, `match`) and the extension (Diagnose
// Appservice, Which Appservice Owns…).
//
// The checks (doctor/run.ts and what only they use, ~20 KB) are loaded on the
// first diagnosis, not when this module is imported: activating the extension
// and drawing the Appservices view need only the small helpers below.
// esbuild.js emits them as dist/doctor.js.
import type * as Checks from './doctor/run';

export type { DoctorInput } from './doctor/run';
export { CHECK_IDS, countChecks, hasFailure } from './doctor/types';
export type { CheckId, CheckStatus, DoctorCheck, DoctorCounts, DoctorReport } from './doctor/types';
export { formatCheckLine, formatDoctorBlock, formatDoctorSummary } from './doctor/format';
export { claimsOf, namespaceKindOf, namespaceMatches } from './doctor/matcher';
export type { ClaimableRegistration, NamespaceClaim } from './doctor/matcher';

let checks: typeof Checks | undefined;
function load(): typeof Checks {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (checks ??= require('./doctor/run') as typeof Checks);
}

/** Every check for one registration, in order; reads nothing from disk and never throws. */
export const runDoctor: typeof Checks.runDoctor = (http, input) => load().runDoctor(http, input);
