import type * as vscode from 'vscode';
import type { CoherentSecretStorage } from './coherentSecrets';
import type { PromptService } from './prompts';

/** What every feature gets from activate(). */
export interface FeatureDeps {
  context: vscode.ExtensionContext;
  prompts: PromptService;
  /** context.secrets behind the cross-window write check: every feature stores through it. */
  secrets: CoherentSecretStorage;
}
