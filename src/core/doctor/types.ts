// The appservice doctor's result model, shared by the CLI (lines, --json)
// and the extension (output block, tree children, summary).

/** In the order they run. Stable: tests, --json consumers and the tree key on them. */
export const CHECK_IDS = [
  'registration',
  'as-token',
  'appservice-id',
  'homeserver-ping',
  'direct-ping',
  'transactions',
  'namespaces',
  'server-features',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface DoctorCheck {
  id: CheckId;
  status: CheckStatus;
  /** One sentence: what was found. Never contains a token. */
  message: string;
  /** What to do next; present for every warn and fail. */
  next?: string;
}

export interface DoctorReport {
  /** The registration's id (or what the file says, or the file name). */
  appservice: string;
  /** The homeserver's client-server base URL, once discovered; otherwise what was asked for. */
  homeserver: string;
  checks: DoctorCheck[];
}

export interface DoctorCounts {
  ok: number;
  warn: number;
  fail: number;
  skipped: number;
}

export function countChecks(report: Pick<DoctorReport, 'checks'>): DoctorCounts {
  const counts: DoctorCounts = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  for (const c of report.checks) counts[c.status]++;
  return counts;
}

export function hasFailure(report: Pick<DoctorReport, 'checks'>): boolean {
  return report.checks.some((c) => c.status === 'fail');
}
