// How an account looks in the tree: label, description, icon, context value,
// tooltip and detail rows, as plain data. The tree provider turns this into
// vscode.TreeItems; the host test suite reads the same data. No token here.
import { t } from '../../core/l10n';
import { expiryText, formatDuration } from '../../core/expiry';
import { compareSpecVersions } from '../../core/homeserver';
import type { AccountState, AccountView } from './types';

export interface DetailRow {
  label: string;
  description: string;
  iconId: string;
}

export interface AccountItemModel {
  accountId: string;
  label: string;
  description: string;
  iconId: string;
  /** A ThemeColor id for the icon, if any. */
  iconColor?: string;
  /** Matched by the menus in package.json: `account.signedIn[.refreshable]`, `account.needsSignIn`, `account.signedOut`. */
  contextValue: string;
  tooltipMarkdown: string;
  details: DetailRow[];
}

const ICONS: Record<AccountState, { id: string; color?: string }> = {
  signedIn: { id: 'pass', color: 'testing.iconPassed' },
  expiringSoon: { id: 'watch', color: 'list.warningForeground' },
  needsSignIn: { id: 'warning', color: 'list.warningForeground' },
  signedOut: { id: 'circle-slash', color: 'disabledForeground' },
  unreachable: { id: 'debug-disconnect', color: 'list.errorForeground' },
};

export function stateLabel(state: AccountState): string {
  switch (state) {
    case 'signedIn':
      return t('Signed in');
    case 'expiringSoon':
      return t('Signed in, access token expiring soon');
    case 'needsSignIn':
      return t('Needs sign-in: the session has ended');
    case 'signedOut':
      return t('Signed out');
    case 'unreachable':
      return t('Homeserver unreachable');
  }
}

/** `account.<state>[.refreshable]`, then `.oauth` (no custom refresh-token lifetime) and `.manageable` (an account page). */
export function contextValueFor(a: AccountView): string {
  const base = (() => {
    switch (a.displayState) {
      case 'needsSignIn':
        return 'account.needsSignIn';
      case 'signedOut':
        return 'account.signedOut';
      default:
        return a.token?.refreshable ? 'account.signedIn.refreshable' : 'account.signedIn';
    }
  })();
  return `${base}${a.signInMethod === 'oauth' ? '.oauth' : ''}${a.accountManagement ? '.manageable' : ''}`;
}

/** How an account signed in, as the tree, its tooltip and the account picker say it. */
export function signInMethodLabel(method: AccountView['signInMethod']): string {
  switch (method) {
    case 'oauth':
      return t('OAuth 2.0');
    case 'sso':
      return t('Single sign-on');
    case 'password':
      return t('Password');
    case 'accessToken':
      return t('Pasted access token');
  }
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** "expires in 3 min", "expired 2 min ago", "does not expire". */
export function describeExpiry(a: AccountView, now: number): string {
  return a.token ? expiryText(a.token.expiresAt, now) : t('no token stored');
}

function describeWhen(at: number | undefined, now: number): string {
  if (at === undefined) return t('never');
  return at <= now ? t('{0} ago', formatDuration(now - at)) : t('in {0}', formatDuration(at - now));
}

export function summarizeVersions(versions: readonly string[]): string {
  if (versions.length === 0) return t('unknown');
  const sorted = [...versions].sort(compareSpecVersions);
  const newest = sorted[sorted.length - 1];
  return sorted.length === 1 ? newest : t('up to {0} ({1} versions)', newest, sorted.length);
}

export function detailsOf(a: AccountView, now: number): DetailRow[] {
  const rows: DetailRow[] = [
    { label: t('State'), description: stateLabel(a.displayState), iconId: ICONS[a.displayState].id },
    { label: t('User ID'), description: a.userId, iconId: 'person' },
    { label: t('Device ID'), description: a.deviceId || t('unknown'), iconId: 'device-desktop' },
    { label: t('Homeserver'), description: a.homeserverUrl, iconId: 'server' },
    { label: t('Sign-in'), description: signInMethodLabel(a.signInMethod), iconId: 'sign-in' },
    { label: t('Spec versions'), description: summarizeVersions(a.specVersions), iconId: 'versions' },
  ];
  if (a.displayState !== 'signedOut') {
    rows.push({ label: t('Access token'), description: describeExpiry(a, now), iconId: 'key' });
    rows.push({ label: t('Last rotation'), description: describeWhen(a.lastRotationAt, now), iconId: 'history' });
    if (a.nextRotationAt !== undefined) {
      rows.push({ label: t('Next automatic rotation'), description: describeWhen(a.nextRotationAt, now), iconId: 'sync' });
    }
  }
  if (a.refreshTokenLifetimeMs !== undefined) {
    rows.push({ label: t('Custom refresh-token lifetime'), description: formatDuration(a.refreshTokenLifetimeMs), iconId: 'watch' });
  }
  if (a.unreachableReason) rows.push({ label: t('Last error'), description: a.unreachableReason, iconId: 'error' });
  return rows;
}

export function accountItemModel(a: AccountView, now: number): AccountItemModel {
  const icon = ICONS[a.displayState];
  const details = detailsOf(a, now);
  const lines = [`**${escapeMarkdown(a.userId)}**`, ''];
  for (const row of details.slice(1)) lines.push(`${escapeMarkdown(row.label)}: ${escapeMarkdown(row.description)}  `);
  if (a.specVersions.length > 1) lines.push(`${escapeMarkdown(t('All spec versions'))}: ${escapeMarkdown(a.specVersions.join(', '))}  `);
  lines.push('', `_${escapeMarkdown(stateLabel(a.displayState))}_`);
  return {
    accountId: a.id,
    label: a.userId,
    description: hostOf(a.homeserverUrl),
    iconId: icon.id,
    iconColor: icon.color,
    contextValue: contextValueFor(a),
    tooltipMarkdown: lines.join('\n'),
    details,
  };
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** Tooltip Markdown as the reader sees it (escapes and emphasis removed). */
export function markdownToText(markdown: string): string {
  return markdown
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1')
    .replace(/\*\*|(^|\s)_|_(\s|$)/g, '$1$2')
    .replace(/ {2}$/gm, '');
}

/**
 * The refresh-token lifetime typed by the user: "600000" (ms), "90s", "10m",
 * "2h", "1d", "1h30m". Empty clears it (undefined). Returns an error sentence
 * for anything else.
 */
export function parseLifetime(input: string): { ms: number | undefined } | { error: string } {
  const text = input.trim().toLowerCase();
  if (text === '') return { ms: undefined };
  if (/^\d+$/.test(text)) return validLifetime(Number(text));
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)\s*/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]] ?? 0;
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (matched !== text.length || matched === 0) {
    return { error: t('Enter a duration such as 10m, 2h or 1d, or milliseconds such as 600000; leave empty to clear.') };
  }
  return validLifetime(Math.round(total));
}

function validLifetime(ms: number): { ms: number } | { error: string } {
  if (!Number.isSafeInteger(ms) || ms < 1000) return { error: t('The lifetime must be at least one second.') };
  return { ms };
}
