// What the Appservices tree shows, as plain data: the TreeDataProvider only
// turns these into TreeItems. Labels never carry tokens.
import { formatDoctorSummary, type CheckStatus, type DoctorReport } from '../../core/doctor';
import { t } from '../../core/l10n';
import { describeNamespaces } from '../../core/registration';
import type { AppserviceItem } from './catalog';
import { describeLastPing } from './format';
import { describeHomeserver, EffectiveHomeserver } from './homeservers';
import type { LastPing } from './reports';

export interface NodeIcon {
  /** A codicon id. */
  id: string;
  /** A theme color id. */
  color?: string;
}

export interface AppserviceNodeData {
  label: string;
  description: string;
  tooltip: string;
  icon: NodeIcon;
  /** `appservice.file…` for file-backed items (Open Registration File), `appservice.settings…` otherwise. */
  contextValue: string;
}

export interface DetailNodeData {
  label: string;
  description?: string;
  tooltip?: string;
  icon?: NodeIcon;
  /** Default `appserviceDetail`. */
  contextValue?: string;
  /** Click target: a position in the registration file (1-based). */
  open?: { file: string; line: number; column: number };
  children?: DetailNodeData[];
}

export function appserviceNode(
  item: AppserviceItem,
  homeserver: EffectiveHomeserver | undefined,
  last: LastPing | undefined,
): AppserviceNodeData {
  const server = homeserver ? describeHomeserver(homeserver.input) : t('no homeserver chosen');
  const status = describeLastPing(last);
  const errors = item.problems.filter((p) => p.severity === 'error').length;
  const tooltip = [
    item.file ? t('Registration: {0}', item.file) : t('From the matrixDevtools.appservices setting (as_token in the secret store)'),
    homeserver
      ? t(
          'Homeserver: {0} ({1})',
          homeserver.input,
          homeserver.origin === 'settings' ? t('from settings') : t('chosen for this appservice'),
        )
      : t('Homeserver: none chosen yet'),
    last ? t('Last ping {0}: {1}', new Date(last.at).toLocaleString(), last.summary) : t('Never pinged'),
    errors ? t('{0} problem(s) in the registration', errors) : '',
  ]
    .filter(Boolean)
    .join('\n');
  return {
    label: item.id,
    description: `${server} · ${status}`,
    tooltip,
    icon: !last
      ? { id: 'circle-large-outline' }
      : last.ok
        ? { id: 'pass', color: 'testing.iconPassed' }
        : { id: 'error', color: 'testing.iconFailed' },
    contextValue: `appservice.${item.file ? 'file' : 'settings'}${errors ? '.broken' : ''}`,
  };
}

export function detailNodes(item: AppserviceItem, opts: { hasAsToken?: boolean } = {}): DetailNodeData[] {
  const nodes: DetailNodeData[] = [];
  const reg = item.registration;
  if (reg) {
    nodes.push(
      reg.url === null
        ? { label: 'url', description: t('null (receive-only: the homeserver never calls it)'), icon: { id: 'globe' } }
        : { label: 'url', description: reg.url, icon: { id: 'globe' } },
      { label: 'sender_localpart', description: reg.senderLocalpart, icon: { id: 'person' } },
    );
    const namespaces = describeNamespaces(reg);
    nodes.push({
      label: t('namespaces'),
      description: namespaces.length ? undefined : t('none'),
      icon: { id: 'symbol-namespace' },
      children: namespaces.map((line) => ({ label: line })),
    });
  } else if (item.source === 'settings') {
    nodes.push({
      label: 'as_token',
      description: opts.hasAsToken ? t('set (in the secret store)') : t('not set: run Set Appservice Token'),
      icon: { id: 'key' },
    });
  }
  for (const p of item.problems) {
    nodes.push({
      label: p.message,
      description: item.file && p.code !== 'file-not-found' ? t('line {0}', p.line) : undefined,
      tooltip: `${p.message} [${p.code}]`,
      icon:
        p.severity === 'error'
          ? { id: 'error', color: 'problemsErrorIcon.foreground' }
          : { id: 'warning', color: 'problemsWarningIcon.foreground' },
      open: item.file && p.code !== 'file-not-found' ? { file: item.file, line: p.line, column: p.column } : undefined,
    });
  }
  return nodes;
}

const CHECK_ICONS: Record<CheckStatus, NodeIcon> = {
  ok: { id: 'pass', color: 'testing.iconPassed' },
  warn: { id: 'warning', color: 'problemsWarningIcon.foreground' },
  fail: { id: 'error', color: 'testing.iconFailed' },
  skipped: { id: 'circle-slash', color: 'disabledForeground' },
};

/** One child per check of the last diagnosis: the id, its sentence, and the next step in the tooltip. */
export function checkNodes(report: DoctorReport): DetailNodeData[] {
  return report.checks.map((c) => ({
    label: c.id,
    description: c.message,
    tooltip: c.next ? `${c.message}\n\n${t('Next: {0}', c.next)}` : c.message,
    icon: CHECK_ICONS[c.status],
    contextValue: `appserviceCheck.${c.status}`,
  }));
}

/** A diagnosis of an older version of the registration: kept, folded under one node that says so. */
export function staleDiagnosisNode(report: DoctorReport, at: number): DetailNodeData {
  return {
    label: t('Last diagnosis (out of date)'),
    description: formatDoctorSummary(report),
    tooltip: t('Diagnosed {0}, before the registration file last changed: run Diagnose Appservice again.', new Date(at).toLocaleString()),
    icon: { id: 'history' },
    contextValue: 'appserviceStaleDiagnosis',
    children: checkNodes(report),
  };
}
