// Appservice registration files (the YAML a homeserver loads for each bridge
// or bot): parse and validate with positions an editor can show. Loaded
// lazily through ../registration.ts (esbuild.js emits it as dist/registration.js).
// Never throws for any text; every failure is a problem. No message ever
// contains a token: messages are built from fixed text, key paths, type names
// and file names only.
import { t } from '../l10n';
import { checkFields } from './fields';
import { isPlainMapping, describeType } from './checker';
import { rememberLocations } from './conflicts';
import { problem, RegistrationSource } from './source';
import { NAMESPACE_KINDS, ParsedRegistration, SourceRange } from './types';

export { findConflicts, findDuplicateIds } from './conflicts';

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
    return {
      problems: [
        {
          severity: 'error',
          code: 'internal-error',
          message: t('The registration could not be checked because of an internal error: please report it.'),
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 1,
        },
      ],
    };
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
        : t(
            'The file is {0}, not a mapping of registration keys: write key: value lines for id, url, as_token, hs_token, sender_localpart and namespaces.',
            describeType(converted.data),
          );
    problems.push(problem('error', 'not-a-mapping', message, source.locate([])));
    return { problems };
  }
  const checked = checkFields(source, converted.data);
  problems.push(...checked.problems);
  const parsed: ParsedRegistration = { problems };
  if (checked.registration && !problems.some((p) => p.severity === 'error')) parsed.registration = checked.registration;
  if (checked.id) parsed.id = checked.id;
  const regexes = new Map<string, SourceRange>();
  if (checked.registration) {
    for (const kind of NAMESPACE_KINDS) {
      checked.registration.namespaces[kind].forEach((_, i) => regexes.set(`${kind}.${i}`, source.locate(['namespaces', kind, i, 'regex'])));
    }
  }
  rememberLocations(parsed, { asToken: checked.asToken, hsToken: checked.hsToken, regexes });
  return parsed;
}
