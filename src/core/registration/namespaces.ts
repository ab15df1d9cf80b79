// namespaces: lists of {exclusive, regex} entries whose regexes the
// homeserver compiles with Python `re`; we check them with a JavaScript RegExp.
import { t } from '../l10n';
import { describeType, FieldChecker, has, isPlainMapping, Record_ } from './checker';
import { keyOf as keyName, Path } from './source';
import { AppserviceRegistration, NAMESPACE_KINDS, NamespaceEntry, NamespaceKind } from './types';

/** Python `re` syntax that JavaScript spells differently, so that a regex Synapse accepts is not reported. */
function pythonToJavaScript(source: string): string {
  return source
    .replace(/^\(\?[aiLmsux]+\)/, '')
    .replace(/(?<!\\)((?:\\\\)*)\(\?P</g, '$1(?<')
    .replace(/(?<!\\)((?:\\\\)*)\(\?P=(\w+)\)/g, '$1\\k<$2>');
}

/** Why `source` does not compile as a JavaScript RegExp without the `u` flag (real bridges write `\#`), or undefined. */
export function regexError(source: string): { reason?: string } | undefined {
  const translated = pythonToJavaScript(source);
  try {
    new RegExp(translated);
    return undefined;
  } catch (e) {
    // V8 says "Invalid regular expression: /<source>/: <reason>": keep only the reason, never the source.
    const message = e instanceof Error ? e.message : '';
    const prefix = `Invalid regular expression: /${translated}/: `;
    return message.startsWith(prefix) ? { reason: message.slice(prefix.length) } : {};
  }
}

function checkNamespaceEntry(c: FieldChecker, entry: unknown, path: Path): NamespaceEntry | undefined {
  if (!isPlainMapping(entry)) {
    c.error('wrong-type', t('{0} must be a mapping with exclusive and regex, not {1}.', keyName(path), describeType(entry)), path);
    return undefined;
  }
  let exclusive: boolean | undefined;
  if (!has(entry, 'exclusive')) {
    c.missing(
      t('{0} is missing: add exclusive: true (only this appservice may use these IDs) or false.', keyName([...path, 'exclusive'])),
      [...path, 'exclusive'],
    );
  } else {
    exclusive = c.boolean(entry.exclusive, [...path, 'exclusive']);
    if (exclusive === undefined) {
      c.error('wrong-type', t('{0} must be true or false, not {1}.', keyName([...path, 'exclusive']), describeType(entry.exclusive)), [
        ...path,
        'exclusive',
      ]);
    }
  }
  const regexPath = [...path, 'regex'];
  const regex = entry.regex;
  if (!has(entry, 'regex')) {
    c.missing(t('{0} is missing: add the regular expression of the IDs this entry covers.', keyName(regexPath)), regexPath);
    return undefined;
  }
  if (typeof regex !== 'string') {
    c.error(
      'wrong-type',
      t('{0} must be a string, not {1}: put the regular expression in quotes.', keyName(regexPath), describeType(regex)),
      regexPath,
    );
    return undefined;
  }
  const invalid = regexError(regex);
  if (invalid) {
    c.error(
      'regex-invalid',
      invalid.reason
        ? t(
            '{0} is not a valid regular expression ({1}): fix it, or the homeserver refuses to load the registration.',
            keyName(regexPath),
            invalid.reason,
          )
        : t('{0} is not a valid regular expression: fix it, or the homeserver refuses to load the registration.', keyName(regexPath)),
      regexPath,
    );
  }
  return exclusive === undefined ? undefined : { exclusive, regex };
}

export function checkNamespaces(c: FieldChecker, map: Record_): AppserviceRegistration['namespaces'] | undefined {
  if (!has(map, 'namespaces')) {
    c.missing(t('namespaces is missing: add it, even when empty (namespaces: {users: [], aliases: [], rooms: []}).'), ['namespaces']);
    return undefined;
  }
  const namespaces = map.namespaces;
  if (!isPlainMapping(namespaces)) {
    c.error('wrong-type', t('namespaces must be a mapping with users, aliases and rooms lists, not {0}.', describeType(namespaces)), [
      'namespaces',
    ]);
    return undefined;
  }
  for (const kind of Object.keys(namespaces)) {
    if (!(NAMESPACE_KINDS as readonly string[]).includes(kind)) {
      c.warn(
        'unknown-namespace',
        t('Homeservers know only the users, aliases and rooms namespaces and ignore this one: check the spelling.'),
        ['namespaces', kind],
        c.locateKey(['namespaces', kind]),
      );
    }
  }
  const result: Partial<Record<NamespaceKind, NamespaceEntry[]>> = {};
  let complete = true;
  for (const kind of NAMESPACE_KINDS) {
    const path = ['namespaces', kind];
    if (!has(namespaces, kind)) {
      result[kind] = [];
      continue;
    }
    const list = namespaces[kind];
    if (!Array.isArray(list)) {
      c.error('wrong-type', t('{0} must be a list of entries with exclusive and regex, not {1}.', keyName(path), describeType(list)), path);
      complete = false;
      continue;
    }
    const entries = list.map((entry, i) => checkNamespaceEntry(c, entry, [...path, i]));
    if (entries.every((e): e is NamespaceEntry => e !== undefined)) result[kind] = entries;
    else complete = false;
  }
  return complete ? (result as AppserviceRegistration['namespaces']) : undefined;
}
