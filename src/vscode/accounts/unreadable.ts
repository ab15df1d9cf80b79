// Stored data this version cannot read (damaged, or written by a newer
// Matrix DevTools): the sentences the user reads, and how they are shown.
// The data itself is kept as it is (secretTokenStore.ts, metadataStore.ts).
import { t } from '../../core/l10n';
import type { UnreadableDataEvent } from './types';
import type { DisposableLike, EventLike } from '../ports';

export function unreadableTokensMessage(userId: string): string {
  return t(
    'The stored tokens of {0} are unreadable (damaged, or written by a newer Matrix DevTools), so the account shows as signed out: sign in again to use it (the old entry is kept).',
    userId,
  );
}

export function unreadableMetadataMessage(count: number): string {
  if (count === 1) {
    return t(
      "A Matrix account entry in VS Code's storage is unreadable (damaged, or written by a newer Matrix DevTools); it is kept as it is and the other accounts work: update Matrix DevTools, or add that account again.",
    );
  }
  return t(
    "{0} Matrix account entries in VS Code's storage are unreadable (damaged, or written by a newer Matrix DevTools); they are kept as they are and the other accounts work: update Matrix DevTools, or add those accounts again.",
    count,
  );
}

/** One warning per event; for one account's tokens with a Sign In Again button. */
export function showUnreadableData(
  onUnreadableData: EventLike<UnreadableDataEvent>,
  warning: (message: string, ...actions: string[]) => Thenable<string | undefined>,
  signInAgain: (accountId: string) => Promise<unknown>,
): DisposableLike {
  const action = t('Sign In Again');
  return onUnreadableData(async (e) => {
    if (e.accountId === undefined) return void warning(e.message);
    if ((await warning(e.message, action)) === action) await signInAgain(e.accountId);
  });
}
