import * as vscode from 'vscode';

/**
 * Every question and notification goes through here, so the host test suite
 * can answer prompts and read notifications while driving real commands.
 */
export interface Prompts {
  inputBox(options: vscode.InputBoxOptions, token?: vscode.CancellationToken): Thenable<string | undefined>;
  quickPick<T extends vscode.QuickPickItem>(
    items: readonly T[] | Thenable<readonly T[]>,
    options: vscode.QuickPickOptions,
    token?: vscode.CancellationToken,
  ): Thenable<T | undefined>;
  /** Modal confirmation; resolves to the chosen action or undefined (cancelled). */
  confirm(message: string, detail: string, ...actions: string[]): Thenable<string | undefined>;
  /** Modal information (nothing is at risk, the user only has to act); resolves to the chosen action or undefined (cancelled). */
  dialog(message: string, detail: string, ...actions: string[]): Thenable<string | undefined>;
  info(message: string, ...actions: string[]): Thenable<string | undefined>;
  warning(message: string, ...actions: string[]): Thenable<string | undefined>;
  error(message: string, ...actions: string[]): Thenable<string | undefined>;
  /** Opens a URL in the user's browser (sign-in pages, account pages); false when it could not. */
  openExternal(url: string): Thenable<boolean>;
}

export const windowPrompts: Prompts = {
  inputBox: (options, token) => vscode.window.showInputBox(options, token),
  quickPick: (items, options, token) => vscode.window.showQuickPick(items, options, token),
  confirm: (message, detail, ...actions) => vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions),
  dialog: (message, detail, ...actions) => vscode.window.showInformationMessage(message, { modal: true, detail }, ...actions),
  info: (message, ...actions) => vscode.window.showInformationMessage(message, ...actions),
  warning: (message, ...actions) => vscode.window.showWarningMessage(message, ...actions),
  error: (message, ...actions) => vscode.window.showErrorMessage(message, ...actions),
  // vscode.Uri re-encodes the query it opens, and a '+' (a space, in a query
  // built by URLSearchParams) would reach the server as a literal '+', which
  // breaks the OAuth `scope`; %20 survives the round trip.
  openExternal: (url) => vscode.env.openExternal(vscode.Uri.parse(url.replace(/\+/g, '%20'), true)),
};

/** Holds the current implementation; tests swap it through the internal API. */
export class PromptService implements Prompts {
  current: Prompts = windowPrompts;
  inputBox: Prompts['inputBox'] = (o, t) => this.current.inputBox(o, t);
  quickPick: Prompts['quickPick'] = (i, o, t) => this.current.quickPick(i, o, t);
  confirm: Prompts['confirm'] = (m, d, ...a) => this.current.confirm(m, d, ...a);
  dialog: Prompts['dialog'] = (m, d, ...a) => this.current.dialog(m, d, ...a);
  info: Prompts['info'] = (m, ...a) => this.current.info(m, ...a);
  warning: Prompts['warning'] = (m, ...a) => this.current.warning(m, ...a);
  error: Prompts['error'] = (m, ...a) => this.current.error(m, ...a);
  openExternal: Prompts['openExternal'] = (u) => this.current.openExternal(u);
}
