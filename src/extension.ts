import * as vscode from 'vscode';
import { setTranslator } from './core/l10n';
import { registerAccounts } from './vscode/accounts';
import { registerAppservices } from './vscode/appservices';
import { coherentSecretsOf } from './vscode/coherentSecrets';
import { PromptService } from './vscode/prompts';

/**
 * Internal API returned by activate(), for the extension's own host test suite
 * only: not a stable contract for other extensions (they use the `matrix`
 * AuthenticationProvider).
 */
export interface MatrixDevtoolsInternalApi {
  prompts: PromptService;
  accounts: Record<string, unknown>;
  appservices: Record<string, unknown>;
}

export function activate(context: vscode.ExtensionContext): MatrixDevtoolsInternalApi {
  setTranslator((message, ...args) => vscode.l10n.t(message, ...args));
  const prompts = new PromptService();
  const secrets = coherentSecretsOf(context);
  const accounts = registerAccounts({ context, prompts, secrets });
  const appservices = registerAppservices({ context, prompts, secrets }, accounts);
  return { prompts, accounts: accounts.testApi, appservices: appservices.testApi };
}

export function deactivate(): void {}
