// The short texts about pings a user reads: the outcome, the Ping All
// notification and the tree's status. The output blocks are in pingBlocks.ts.
import { t } from '../../core/l10n';
import type { LastPing, PingAllSummary, PingReport } from './reports';

export function describeOutcome(report: PingReport): string {
  const r = report.result;
  switch (report.outcome) {
    case 'ok':
      return r.status !== undefined ? t('OK (HTTP {0})', r.status) : t('OK');
    case 'cancelled':
      return report.sent ? t('cancelled here while waiting (the homeserver may still finish the ping)') : t('cancelled, not sent');
    case 'skipped':
      return t('not sent');
    case 'failed':
      if (!report.sent) return t('not sent');
      if (r.status !== undefined) return r.errcode ? t('failed: HTTP {0} {1}', r.status, r.errcode) : t('failed: HTTP {0}', r.status);
      return t('failed: no answer from the homeserver');
  }
}

/** "5 ok, 2 failing — see output" */
export function formatPingAllSummary(s: PingAllSummary): string {
  const parts = [t('{0} ok', s.ok), t('{0} failing', s.failing)];
  if (s.skipped) parts.push(t('{0} without a homeserver', s.skipped));
  if (s.cancelled) parts.push(t('{0} cancelled', s.cancelled));
  return t('{0} — see output', parts.join(', '));
}

/** The short status after the homeserver in the tree: "ok 12 ms", "M_CONNECTION_FAILED", "never pinged". */
export function describeLastPing(last: LastPing | undefined): string {
  if (!last) return t('never pinged');
  if (last.ok) return last.durationMs !== undefined ? t('ok {0} ms', last.durationMs) : t('ok');
  return last.errcode ?? (last.status !== undefined ? `HTTP ${last.status}` : t('failing'));
}
