import type * as vscode from 'vscode';
import type { PromptService } from './prompts';

/** What every feature gets from activate(). */
export interface FeatureDeps {
  context: vscode.ExtensionContext;
  prompts: PromptService;
}
