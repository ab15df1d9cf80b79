// What the command palette needs from the accounts feature: the context keys
// that decide which account commands it lists, and how a command finds its
// account whether it came from the tree, a caller, or the palette.
import { CONTEXT_KEYS, type ContextKey } from '../contextKeys';
import { isManageable, isRotatable, isSignedIn } from './picker';
import type { AccountView } from './types';

export function accountContextKeys(accounts: readonly AccountView[]): Partial<Record<ContextKey, boolean>> {
  return {
    [CONTEXT_KEYS.hasAccounts]: accounts.length > 0,
    [CONTEXT_KEYS.hasSignedInAccount]: accounts.some(isSignedIn),
    [CONTEXT_KEYS.hasRotatableAccount]: accounts.some(isRotatable),
    [CONTEXT_KEYS.hasOAuthAccount]: accounts.some(isManageable),
  };
}

/**
 * The account a command was given: a tree item's, an id passed by a caller
 * (only if it still exists), or, with no argument (palette, keybinding), the
 * one `ask` settles on.
 */
export async function accountIdOf(
  arg: unknown,
  exists: (id: string) => boolean,
  ask: () => Promise<string | undefined>,
): Promise<string | undefined> {
  if (typeof arg === 'string') return exists(arg) ? arg : undefined;
  if (arg && typeof arg === 'object' && 'accountId' in arg && typeof arg.accountId === 'string') return arg.accountId;
  return ask();
}
