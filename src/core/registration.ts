// Appservice registration files (the YAML a homeserver loads for each bridge
// or bot): parse, validate with positions an editor can show, and describe.
// Never throws for any text; every failure is a problem. No message ever
// contains a token: messages are built from fixed text, key paths, type names
// and file names only.
//
// The parser (registration/parse.ts, with the checks and the `yaml` package
// behind it) is loaded on the first call, not when this module is imported:
// activating the extension and drawing the Appservices view need none of it.
// esbuild.js emits it as dist/registration.js.
import { t } from './l10n';
import type * as Parser from './registration/parse';
import type { AppserviceRegistration } from './registration/types';

export type {
  AppserviceRegistration,
  NamespaceEntry,
  NamespaceKind,
  ParsedRegistration,
  RegistrationProblem,
  RegistrationProblemCode,
  SourceRange,
} from './registration/types';
export type { RegistrationFile } from './registration/conflicts';

let parser: typeof Parser | undefined;
function load(): typeof Parser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (parser ??= require('./registration/parse') as typeof Parser);
}

/**
 * Parses and validates a registration. `registration` is present exactly when
 * no problem is an error. `fileName` is accepted for callers that have one;
 * messages do not repeat it because every caller shows it next to the position.
 */
export const parseRegistration: typeof Parser.parseRegistration = (text, fileName) => load().parseRegistration(text, fileName);
/** Problems per file for every clash with another file; files without one are absent. Fewer than two files cannot clash, so the parser is not loaded for them. */
export const findConflicts: typeof Parser.findConflicts = (files) => (files.length < 2 ? new Map() : load().findConflicts(files));
/** Only the clashes Synapse refuses to start with: the same id or as_token. */
export const findDuplicateIds: typeof Parser.findDuplicateIds = (files) => (files.length < 2 ? new Map() : load().findDuplicateIds(files));

/** Short lines for a tree view, e.g. "users (exclusive): @_bridge_.*:example.org". Empty when there are no namespaces. */
export function describeNamespaces(registration: Pick<AppserviceRegistration, 'namespaces'>): string[] {
  const { users, aliases, rooms } = registration.namespaces;
  return [
    ...users.map((e) => (e.exclusive ? t('users (exclusive): {0}', e.regex) : t('users (shared): {0}', e.regex))),
    ...aliases.map((e) => (e.exclusive ? t('aliases (exclusive): {0}', e.regex) : t('aliases (shared): {0}', e.regex))),
    ...rooms.map((e) => (e.exclusive ? t('rooms (exclusive): {0}', e.regex) : t('rooms (shared): {0}', e.regex))),
  ];
}
