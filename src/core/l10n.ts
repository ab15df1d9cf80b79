// src/core/l10n.ts
export type Translator = (message: string, ...args: Array<string | number | boolean>) => string;
const format: Translator = (message, ...args) => message.replace(/\{(\d+)\}/g, (m, i) => (i < args.length ? String(args[Number(i)]) : m));
// On globalThis, not in a module variable: the lazily loaded bundles (dist/registration.js,
// see esbuild.js) carry their own copy of this module and must use the same translator.
const slot = Symbol.for('matrixDevtools.l10n.translator');
const holder = globalThis as { [slot]?: Translator };
/** The extension installs vscode.l10n.t here; plain Node (CLI, tests) keeps the built-in formatter. */
export function setTranslator(translator: Translator): void {
  holder[slot] = translator;
}
export function t(message: string, ...args: Array<string | number | boolean>): string {
  return (holder[slot] ?? format)(message, ...args);
}
