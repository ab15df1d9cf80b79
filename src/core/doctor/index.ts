// The appservice doctor: why a bridge does not work, check by check. Pure
// core, used by the CLI (`doctor`, `match`) and the extension (Diagnose
// Appservice, Which Appservice Owns…).
export { runDoctor } from './run';
export type { DoctorInput } from './run';
export { CHECK_IDS, countChecks, hasFailure } from './types';
export type { CheckId, CheckStatus, DoctorCheck, DoctorCounts, DoctorReport } from './types';
export { formatCheckLine, formatDoctorBlock, formatDoctorSummary } from './format';
export { claimsOf, namespaceKindOf, namespaceMatches } from './matcher';
export type { ClaimableRegistration, NamespaceClaim } from './matcher';
