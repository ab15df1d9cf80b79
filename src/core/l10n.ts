// src/core/l10n.ts
export type Translator = (message: string, ...args: Array<string | number | boolean>) => string;
const format: Translator = (message, ...args) => message.replace(/\{(\d+)\}/g, (m, i) => (i < args.length ? String(args[Number(i)]) : m));
let current: Translator = format;
/** The extension installs vscode.l10n.t here; plain Node (CLI, tests) keeps the built-in formatter. */
export function setTranslator(translator: Translator): void { current = translator; }
export function t(message: string, ...args: Array<string | number | boolean>): string { return current(message, ...args); }
