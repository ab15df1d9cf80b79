// Which way to sign in, from what the server offers (core/signInMethods.ts):
// an OAuth 2.0 server is used without a question (in the browser, or with a
// code in a remote or web window whose extension host the browser cannot
// reach), and so is a server whose only way is single sign-on with one
// identity provider; when there is a real choice — OAuth and a password, or
// several identity providers — the quick pick says what the server offers,
// with the recommended way first. Plain Node, like flows.ts.
import { t } from '../../core/l10n';
import { offersDeviceCode } from '../../core/oauth';
import type { SignInMethods, SsoProvider } from '../../core/signInMethods';
import type { Prompts } from '../prompts';
import { hostOf } from './present';
import type { AccountMetadata } from './types';

export type SignInChoice =
  | { kind: 'oauthBrowser' }
  | { kind: 'oauthCode' }
  | { kind: 'sso'; provider?: SsoProvider }
  | { kind: 'password' }
  | { kind: 'accessToken' };

interface ChoiceItem {
  label: string;
  description: string;
  choice: SignInChoice;
}

export interface ChooseOptions {
  /** A remote or web window: the browser cannot reach a loopback listener here, so a code comes first. */
  remoteWindow: boolean;
  /** Sign In Again: the account's way comes first. */
  preferred?: AccountMetadata['signInMethod'];
}

/** The ways this server offers, recommended first. */
export function signInChoices(baseUrl: string, methods: SignInMethods, opts: ChooseOptions): ChoiceItem[] {
  const items: ChoiceItem[] = [];
  if (methods.oauth) {
    const browser: ChoiceItem = {
      label: t('Sign in with the browser'),
      description: t('OAuth 2.0 at {0}; your password stays with the server', hostOf(methods.oauth.issuer)),
      choice: { kind: 'oauthBrowser' },
    };
    const code: ChoiceItem = {
      label: t('Sign in with a code'),
      description: t('OAuth 2.0: enter a code in a browser on any device (for remote and web windows)'),
      choice: { kind: 'oauthCode' },
    };
    if (!offersDeviceCode(methods.oauth)) items.push(browser);
    else items.push(...(opts.remoteWindow ? [code, browser] : [browser, code]));
  }
  const providers = methods.sso?.providers ?? [];
  if (methods.sso && providers.length === 0) {
    items.push({
      label: t('Sign in with single sign-on'),
      description: t('in the browser, through {0}', hostOf(baseUrl)),
      choice: { kind: 'sso' },
    });
  }
  for (const provider of providers) {
    items.push({
      label: t('Sign in with {0}', provider.name),
      description: t('single sign-on in the browser, through {0}', hostOf(baseUrl)),
      choice: { kind: 'sso', provider },
    });
  }
  if (methods.password) {
    items.push({
      label: t('Sign in with a password'),
      description: t('gets a refresh token when the server supports it'),
      choice: { kind: 'password' },
    });
  }
  items.push({
    label: t('Use an existing access token'),
    description: t('checked with whoami; a refresh token is optional'),
    choice: { kind: 'accessToken' },
  });
  const preferred = opts.preferred;
  if (preferred) {
    const rank = (c: SignInChoice) => (c.kind === preferred || (preferred === 'oauth' && c.kind.startsWith('oauth')) ? 0 : 1);
    items.sort((a, b) => rank(a.choice) - rank(b.choice));
  }
  return items;
}

/** The way to sign in: without a question when the server leaves no real choice. Undefined = the user gave up. */
export async function chooseSignIn(
  prompts: Prompts,
  baseUrl: string,
  methods: SignInMethods,
  opts: ChooseOptions,
): Promise<SignInChoice | undefined> {
  const items = signInChoices(baseUrl, methods, opts);
  const browserOnly = !methods.password && (methods.oauth ? !methods.sso : (methods.sso?.providers.length ?? 0) <= 1);
  if (browserOnly && (methods.oauth || methods.sso) && opts.preferred !== 'accessToken') return items[0].choice;
  const picked = await prompts.quickPick(items, {
    title: t('Sign in to {0}', baseUrl),
    placeHolder: placeHolderFor(baseUrl, methods),
    ignoreFocusOut: true,
  });
  return picked?.choice;
}

function placeHolderFor(baseUrl: string, methods: SignInMethods): string {
  const host = hostOf(baseUrl);
  if (methods.oauth && methods.password) return t('{0} offers OAuth 2.0 and password sign-in; OAuth 2.0 is recommended.', host);
  if (methods.sso && methods.password) return t('{0} offers single sign-on and password sign-in.', host);
  if (methods.oauth || methods.sso) return t('Choose how to sign in to {0}.', host);
  if (methods.password) return t('How do you want to sign in?');
  return t('{0} offers no password login, OAuth 2.0 or single sign-on; paste an access token instead.', baseUrl);
}
