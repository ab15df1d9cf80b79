// What a ping or a direct check leaves behind, as the tree, the output and
// the commands see it: the core's results plus which tree item they are for.
import type { DirectRun, PingOutcome, PingRun } from '../../core/ping';

export type { PingOutcome };

export interface PingReport extends PingRun {
  appserviceKey: string;
}

/** What the tree remembers about the last ping (no tokens, no bodies). */
export interface LastPing {
  ok: boolean;
  at: number;
  durationMs?: number;
  roundTripMs?: number;
  errcode?: string;
  status?: number;
  summary: string;
}

export interface PingAllSummary {
  ok: number;
  failing: number;
  skipped: number;
  cancelled: number;
  reports: PingReport[];
}

export interface DirectReport extends Omit<DirectRun, 'ping'> {
  appserviceKey: string;
  appserviceId: string;
  ping?: PingReport;
  /** directRunNeedsAttention: written as a warning and notified as one. */
  needsAttention: boolean;
}
