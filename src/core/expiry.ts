// The one way a duration and a token's expiry are written, for the tree, the
// palette, notifications, the log and the CLI alike.
import { t } from './l10n';

/** "45 s", "3 min", "2 h", "4 d". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('{0} s', s);
  const min = Math.round(s / 60);
  if (min < 120) return t('{0} min', min);
  const h = Math.round(min / 60);
  if (h < 48) return t('{0} h', h);
  return t('{0} d', Math.round(h / 24));
}

/** "expires in 3 min", "expired 2 min ago", "does not expire". */
export function expiryText(expiresAt: number | undefined, now: number): string {
  if (expiresAt === undefined) return t('does not expire');
  return expiresAt > now ? t('expires in {0}', formatDuration(expiresAt - now)) : t('expired {0} ago', formatDuration(now - expiresAt));
}
