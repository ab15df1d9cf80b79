// Which account a command acts on when it was not run from a tree item: the
// only candidate without a question, otherwise a quick pick that shows who,
// where and in what state; with no candidate, one sentence that says why and
// what to do (with an "Add Account" button). Plain Node, like the flows.
import { t } from '../../core/l10n';
import type { Prompts } from '../prompts';
import { describeExpiry, hostOf, signInMethodLabel, stateLabel } from './present';
import type { AccountView } from './types';

/** Which accounts a command can act on. */
export type AccountNeed = 'any' | 'signedIn' | 'rotatable' | 'manageable';

export function isSignedIn(a: AccountView): boolean {
  return a.displayState !== 'signedOut' && a.displayState !== 'needsSignIn';
}

export function isRotatable(a: AccountView): boolean {
  return isSignedIn(a) && a.token?.refreshable === true;
}

/** Its server has an account page: OAuth 2.0 accounts. */
export function isManageable(a: AccountView): boolean {
  return a.signInMethod === 'oauth' || a.accountManagement !== undefined;
}

export function fits(a: AccountView, need: AccountNeed): boolean {
  switch (need) {
    case 'any':
      return true;
    case 'signedIn':
      return isSignedIn(a);
    case 'rotatable':
      return isRotatable(a);
    case 'manageable':
      return isManageable(a);
  }
}

export interface AccountPickItem {
  label: string;
  description: string;
  detail: string;
  accountId: string;
}

/** What the quick pick shows for one account: user id, homeserver, state (and when the token expires). */
export function accountPickItem(a: AccountView, now: number): AccountPickItem {
  const state =
    isSignedIn(a) && a.displayState !== 'unreachable'
      ? `${stateLabel(a.displayState)} · ${t('access token {0}', describeExpiry(a, now))}`
      : stateLabel(a.displayState);
  return {
    label: a.userId,
    description: hostOf(a.homeserverUrl),
    detail: `${state} · ${signInMethodLabel(a.signInMethod)}`,
    accountId: a.id,
  };
}

export interface PickAccountRequest {
  need: AccountNeed;
  /** The quick pick's title, e.g. the command's name. */
  title: string;
}

export interface AccountPickerDeps {
  accounts(): AccountView[];
  prompts: Prompts;
  now(): number;
  /** Runs Add Account; resolves to the new account, or undefined when the user gave up. */
  addAccount(): Promise<AccountView | undefined>;
  /** Runs Sign In Again for an account; resolves to it signed in, or undefined. */
  signInAgain(accountId: string): Promise<AccountView | undefined>;
}

/**
 * The account to act on, or undefined when there is none or the user cancelled
 * (the user has then been told why, when that is not obvious).
 */
export async function pickAccount(deps: AccountPickerDeps, request: PickAccountRequest): Promise<string | undefined> {
  const all = deps.accounts();
  const candidates = all.filter((a) => fits(a, request.need));
  if (candidates.length === 1) return candidates[0].id;
  if (candidates.length === 0) return whenNone(deps, request, all);
  const now = deps.now();
  const picked = await deps.prompts.quickPick(
    candidates.map((a) => accountPickItem(a, now)),
    { title: request.title, placeHolder: t('Which Matrix account?'), matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.accountId;
}

async function whenNone(deps: AccountPickerDeps, request: PickAccountRequest, all: AccountView[]): Promise<string | undefined> {
  const add = t('Add Account');
  const signInAgain = t('Sign In Again');
  if (all.length === 0) {
    const answer = await deps.prompts.info(t('There is no Matrix account yet. Add one, then run {0} again.', request.title), add);
    if (answer !== add) return undefined;
    const added = await deps.addAccount();
    // A new account is signed in; carry on with what the user asked for.
    return added && fits(added, request.need) ? added.id : undefined;
  }
  if (request.need === 'manageable') {
    await deps.prompts.info(t('None of your Matrix accounts signs in with OAuth 2.0, so there is no account page to open.'));
    return undefined;
  }
  if (request.need === 'rotatable' && all.some(isSignedIn)) {
    await deps.prompts.info(
      t('No signed-in Matrix account has a refresh token, so there is nothing to rotate. Sign in with a password to get one.'),
    );
    return undefined;
  }
  const one = all.length === 1 ? all[0] : undefined;
  const message = one
    ? t('{0} is not signed in ({1}). Sign in again, then run {2} again.', one.userId, stateLabel(one.displayState), request.title)
    : t('None of your {0} Matrix accounts is signed in. Sign one in again, then run {1} again.', all.length, request.title);
  const answer = await deps.prompts.info(message, signInAgain);
  if (answer !== signInAgain) return undefined;
  const id = one?.id ?? (await pickAccount(deps, { need: 'any', title: signInAgain }));
  const back = id ? await deps.signInAgain(id) : undefined;
  return back && fits(back, request.need) ? back.id : undefined;
}
