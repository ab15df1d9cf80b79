import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Wiring lands with the accounts and appservices features.
}

export function deactivate(): void {}
