// Appservice registration files (the YAML a homeserver loads for each bridge
// or bot): parse, validate with positions an editor can show, and describe.
// Never throws for any text; every failure is a problem. No message ever
// contains a token: messages are built from fixed text, key paths, type names
// and file names only.
import { t } from './l10n';
import { checkFields } from './registration/fields';
import { isPlainMapping, describeType } from './registration/checker';
import { problem, RegistrationSource } from './registration/source';
import { AppserviceRegistration, ParsedRegistration, RegistrationProblem, SourceRange } from './registration/types';

export type {
  AppserviceRegistration,
  NamespaceEntry,
  NamespaceKind,
  ParsedRegistration,
  RegistrationProblem,
  RegistrationProblemCode,
  SourceRange,
} from './registration/types';

// Where each parsed file's as_token is written, for findDuplicateIds; kept
// off the public result so that it does not invite copying tokens around.
const asTokenLocations = new WeakMap<ParsedRegistration, SourceRange & { value: string }>();

/**
 * Parses and validates a registration. `registration` is present exactly when
 * no problem is an error. `fileName` is accepted for callers that have one;
 * messages do not repeat it because every caller shows it next to the position.
 */
export function parseRegistration(text: string, _fileName?: string): ParsedRegistration {
  try {
    const parsed = parse(text);
    // In reading order, as an editor's problem list and the CLI show them (sort is stable).
    parsed.problems.sort((a, b) => a.line - b.line || a.column - b.column);
    return parsed;
  } catch {
    // A bug here must not take down the tree view or the CLI: report it as a problem.
    return { problems: [{ severity: 'error', code: 'internal-error', message: t('The registration could not be checked because of an internal error: please report it.'), line: 1, column: 1, endLine: 1, endColumn: 1 }] };
  }
}

function parse(text: string): ParsedRegistration {
  const source = new RegistrationSource(text);
  const syntax = source.syntaxProblems();
  if (syntax.some((p) => p.severity === 'error')) return { problems: syntax };
  const problems = source.warningProblems();
  const converted = source.toData();
  if ('problem' in converted) return { problems: [...problems, converted.problem] };
  if (!isPlainMapping(converted.data)) {
    // `id:telegram` (no space after the colon) is a plain string to YAML: say so.
    const message =
      typeof converted.data === 'string' && /(^|\s)[A-Za-z_][\w.]*:\S/.test(converted.data)
        ? t('The file is a single string, not a mapping of registration keys: put a space after each colon (id: my-bridge).')
        : t('The file is {0}, not a mapping of registration keys: write key: value lines for id, url, as_token, hs_token, sender_localpart and namespaces.', describeType(converted.data));
    problems.push(problem('error', 'not-a-mapping', message, source.locate([])));
    return { problems };
  }
  const checked = checkFields(source, converted.data);
  problems.push(...checked.problems);
  const parsed: ParsedRegistration = { problems };
  if (checked.registration && !problems.some((p) => p.severity === 'error')) parsed.registration = checked.registration;
  if (checked.id) parsed.id = checked.id;
  if (checked.asToken) asTokenLocations.set(parsed, checked.asToken);
  return parsed;
}

/**
 * Problems for files that share an `id` or an `as_token` with another file:
 * Synapse refuses to start with either. Keyed by file; files without such a
 * clash are absent.
 */
export function findDuplicateIds(files: Array<{ file: string; parsed: ParsedRegistration }>): Map<string, RegistrationProblem[]> {
  const result = new Map<string, RegistrationProblem[]>();
  const add = (file: string, p: RegistrationProblem): void => {
    const list = result.get(file) ?? [];
    list.push(p);
    result.set(file, list);
  };
  const clashes = (pick: (parsed: ParsedRegistration) => (SourceRange & { value: string }) | undefined, report: (at: SourceRange, others: string) => RegistrationProblem): void => {
    const byValue = new Map<string, Array<{ file: string; at: SourceRange }>>();
    for (const { file, parsed } of files) {
      const located = pick(parsed);
      if (!located) continue;
      const { value, ...at } = located;
      const group = byValue.get(value) ?? [];
      if (!group.some((g) => g.file === file)) group.push({ file, at });
      byValue.set(value, group);
    }
    for (const group of byValue.values()) {
      if (group.length < 2) continue;
      for (const { file, at } of group) add(file, report(at, group.filter((g) => g.file !== file).map((g) => g.file).join(', ')));
    }
  };
  clashes(
    (parsed) => parsed.id,
    (at, others) => problem('error', 'duplicate-id', t('Another registration file ({0}) uses the same id: give each appservice its own id, or the homeserver refuses to start.', others), at, ['id']),
  );
  clashes(
    (parsed) => asTokenLocations.get(parsed),
    (at, others) => problem('error', 'duplicate-as-token', t('Another registration file ({0}) uses the same as_token: give each appservice its own secret, or the homeserver refuses to start.', others), at, ['as_token']),
  );
  return result;
}

/** Short lines for a tree view, e.g. "users (exclusive): @_bridge_.*:example.org". Empty when there are no namespaces. */
export function describeNamespaces(registration: Pick<AppserviceRegistration, 'namespaces'>): string[] {
  const { users, aliases, rooms } = registration.namespaces;
  return [
    ...users.map((e) => (e.exclusive ? t('users (exclusive): {0}', e.regex) : t('users (shared): {0}', e.regex))),
    ...aliases.map((e) => (e.exclusive ? t('aliases (exclusive): {0}', e.regex) : t('aliases (shared): {0}', e.regex))),
    ...rooms.map((e) => (e.exclusive ? t('rooms (exclusive): {0}', e.regex) : t('rooms (shared): {0}', e.regex))),
  ];
}
