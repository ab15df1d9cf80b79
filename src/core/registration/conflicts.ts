// Problems between registration files, for the Problems panel and the
// doctor: the same id or as_token (Synapse refuses to start), the same
// hs_token, and exclusive namespaces that claim the same ids.
import { t } from '../l10n';
import { exclusiveOverlaps } from '../doctor/namespaceAnalysis';
import { problem } from './source';
import { NamespaceKind, ParsedRegistration, RegistrationProblem, SourceRange } from './types';

type Located = SourceRange & { value: string };

interface Locations {
  asToken?: Located;
  hsToken?: Located;
  /** `users.0` → where that entry's regex is written. */
  regexes: Map<string, SourceRange>;
}

// Where each parsed file's secrets and regexes are written; kept off the
// public result so that it does not invite copying tokens around.
const locations = new WeakMap<ParsedRegistration, Locations>();

export function rememberLocations(parsed: ParsedRegistration, where: Locations): void {
  locations.set(parsed, where);
}

export interface RegistrationFile {
  file: string;
  parsed: ParsedRegistration;
}

/** Problems per file for every clash with another file (see findDuplicateIds); files without one are absent. */
export function findConflicts(files: readonly RegistrationFile[]): Map<string, RegistrationProblem[]> {
  return findClashes(files, true);
}

/** Only the clashes Synapse refuses to start with: the same id or as_token. */
export function findDuplicateIds(files: readonly RegistrationFile[]): Map<string, RegistrationProblem[]> {
  return findClashes(files, false);
}

function findClashes(files: readonly RegistrationFile[], all: boolean): Map<string, RegistrationProblem[]> {
  const result = new Map<string, RegistrationProblem[]>();
  const add = (file: string, p: RegistrationProblem): void => {
    const list = result.get(file) ?? [];
    list.push(p);
    result.set(file, list);
  };
  const clashes = (
    pick: (parsed: ParsedRegistration) => Located | undefined,
    report: (at: SourceRange, others: string) => RegistrationProblem,
  ): void => {
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
      for (const { file, at } of group) {
        add(
          file,
          report(
            at,
            group
              .filter((g) => g.file !== file)
              .map((g) => g.file)
              .join(', '),
          ),
        );
      }
    }
  };
  clashes(
    (parsed) => parsed.id,
    (at, others) =>
      problem(
        'error',
        'duplicate-id',
        t('Another registration file ({0}) uses the same id: give each appservice its own id, or the homeserver refuses to start.', others),
        at,
        ['id'],
      ),
  );
  clashes(
    (parsed) => locations.get(parsed)?.asToken,
    (at, others) =>
      problem(
        'error',
        'duplicate-as-token',
        t(
          'Another registration file ({0}) uses the same as_token: give each appservice its own secret, or the homeserver refuses to start.',
          others,
        ),
        at,
        ['as_token'],
      ),
  );
  if (!all) return result;
  clashes(
    (parsed) => locations.get(parsed)?.hsToken,
    (at, others) =>
      problem(
        'error',
        'duplicate-hs-token',
        t(
          'Another registration file ({0}) uses the same hs_token: give each appservice its own secret, or each one accepts transactions meant for the other.',
          others,
        ),
        at,
        ['hs_token'],
      ),
  );
  overlaps(files, add);
  return result;
}

function overlaps(files: readonly RegistrationFile[], add: (file: string, p: RegistrationProblem) => void): void {
  const usable = files.filter((f) => f.parsed.registration);
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const [a, b] = [usable[i], usable[j]];
      if (a.file === b.file) continue;
      const regA = a.parsed.registration!;
      const regB = b.parsed.registration!;
      for (const o of exclusiveOverlaps(regA, regB)) {
        add(a.file, overlapProblem(a.parsed, o.a.kind, o.a.index, b.file, regB.id, o.example));
        add(b.file, overlapProblem(b.parsed, o.b.kind, o.b.index, a.file, regA.id, o.example));
      }
    }
  }
}

function overlapProblem(
  parsed: ParsedRegistration,
  kind: NamespaceKind,
  index: number,
  otherFile: string,
  otherId: string,
  example: string,
): RegistrationProblem {
  const at = locations.get(parsed)?.regexes.get(`${kind}.${index}`) ?? { line: 1, column: 1, endLine: 1, endColumn: 1 };
  return problem(
    'warning',
    'namespace-overlap',
    t(
      'This exclusive {0} namespace overlaps one of "{1}" ({2}): both claim ids such as {3}; make the regexes disjoint, or the homeserver lets only one of them use those ids.',
      kind,
      otherId,
      otherFile,
      example,
    ),
    at,
    ['namespaces', kind, index, 'regex'],
  );
}
