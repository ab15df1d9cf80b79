// The doctor's words as the CLI prints them and the output channel shows
// them: one line per check, and the summary ("acc-live: 7 ok, 1 warning").
import { t } from '../l10n';
import { countChecks, DoctorCheck, DoctorReport } from './types';

const LABEL: Record<DoctorCheck['status'], string> = { ok: 'ok', warn: 'warn', fail: 'fail', skipped: 'skip' };

/** `fail as-token The homeserver does not know … Next: …` */
export function formatCheckLine(check: DoctorCheck): string {
  const next = check.next ? ` ${t('Next: {0}', check.next)}` : '';
  return `${LABEL[check.status].padEnd(4)} ${check.id.padEnd(15)} ${check.message}${next}`;
}

/** "acc-live: 7 ok, 1 warning" (failures and skips only when there are any). */
export function formatDoctorSummary(report: DoctorReport): string {
  const n = countChecks(report);
  const parts = [t('{0} ok', n.ok)];
  if (n.warn) parts.push(n.warn === 1 ? t('1 warning') : t('{0} warnings', n.warn));
  if (n.fail) parts.push(n.fail === 1 ? t('1 failed') : t('{0} failed', n.fail));
  if (n.skipped) parts.push(t('{0} skipped', n.skipped));
  return t('{0}: {1}', report.appservice, parts.join(', '));
}

/** The output channel block: a heading, then one indented line per check and its next step. */
export function formatDoctorBlock(report: DoctorReport, at: Date): string[] {
  const lines = [
    t('Diagnose appservice "{0}" via {1} at {2}', report.appservice, report.homeserver || t('no homeserver'), at.toISOString()),
  ];
  for (const c of report.checks) {
    lines.push(`    ${LABEL[c.status].padEnd(4)} ${c.id.padEnd(15)} ${c.message}`);
    if (c.next) lines.push(`         ${' '.repeat(15)} ${t('next step: {0}', c.next)}`);
  }
  lines.push(`    ${formatDoctorSummary(report)}`);
  return lines;
}
