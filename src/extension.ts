// Matrix DevTools: activation wires two features and nothing else.
//
// Where things are (each folder's index or first file says more):
// - src/core: pure logic shared by the extension and the CLI, no `vscode`.
//   A token is rotated in core/rotation.ts (TokenRotator: /refresh for
//   password sessions, the token endpoint for OAuth, in core/oauth/token.ts);
//   sign-in and whoami in core/session.ts; discovery in core/homeserver.ts;
//   every HTTP call in core/http.ts. An appservice ping is prepared, sent and
//   explained in core/appserviceChecks.ts (the sentences in core/appservicePing.ts);
//   registration files are parsed and checked in core/registration/; the
//   doctor's checks are in core/doctor/; OAuth 2.0 in core/oauth/.
// - src/vscode: adapters. accounts/ (Accounts view, commands, token storage in
//   SecretStorage), appservices/ (Appservices view, ping/doctor commands; the
//   output channel's text comes from appservices/format.ts and core/doctor/format.ts),
//   auth/ (the `matrix` AuthenticationProvider), ports.ts (the host interfaces).
// - src/cli: `matrix-devtools`, the same core functions for scripts and CI.
// - src/node: Node-only pieces (loopback listener for browser sign-in).
import * as vscode from 'vscode';
import { setTranslator } from './core/l10n';
import { registerAccounts } from './vscode/accounts';
import { registerAppservices } from './vscode/appservices';
import { coherentSecretsOf } from './vscode/coherentSecrets';
import { PromptService } from './vscode/prompts';
import { registerWalkthrough } from './vscode/walkthrough';

/**
 * Internal API returned by activate(), for the extension's own host test suite
 * only: not a stable contract for other extensions (they use the `matrix`
 * AuthenticationProvider).
 */
export interface MatrixDevtoolsInternalApi {
  prompts: PromptService;
  accounts: Record<string, unknown>;
  appservices: Record<string, unknown>;
  /** How each bundle used the code cache in this window (set by src/boot/extension.ts). */
  codeCache?: () => Record<string, string>;
  /** Where they are cached (undefined: off). */
  codeCacheDir?: string;
}

export function activate(context: vscode.ExtensionContext): MatrixDevtoolsInternalApi {
  setTranslator((message, ...args) => vscode.l10n.t(message, ...args));
  const prompts = new PromptService();
  const secrets = coherentSecretsOf(context);
  const accounts = registerAccounts({ context, prompts, secrets });
  const appservices = registerAppservices({ context, prompts, secrets }, accounts);
  registerWalkthrough(context);
  return { prompts, accounts: accounts.testApi, appservices: appservices.testApi };
}

export function deactivate(): void {}
