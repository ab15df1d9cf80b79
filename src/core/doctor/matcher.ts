// Which registration claims an id: the homeserver's own reading of the
// namespaces. Synapse matches with Python `re.match`
// (`synapse/appservice/__init__.py`, `_matches_regex`): anchored at the start
// of the full id (`@user:server`, `#alias:server`, `!room:server`), not at the
// end, so `@bridge_.*` claims `@bridge_alice:example.org` and `bridge_.*`
// claims nothing.
import type { AppserviceRegistration, NamespaceKind } from '../registration/types';

/** Python's leading inline flags, which JavaScript spells as RegExp flags. */
function toJavaScript(regex: string): { source: string; flags: string } {
  const m = /^\(\?([aiLmsux]+)\)/.exec(regex);
  const pyFlags = m ? m[1] : '';
  const body = (m ? regex.slice(m[0].length) : regex)
    .replace(/(?<!\\)((?:\\\\)*)\(\?P</g, '$1(?<')
    .replace(/(?<!\\)((?:\\\\)*)\(\?P=(\w+)\)/g, '$1\\k<$2>')
    .replace(/(?<!\\)((?:\\\\)*)\\Z/g, '$1$')
    .replace(/(?<!\\)((?:\\\\)*)\\A/g, '$1^');
  // No `u` flag: bridges write `\#`, which Python accepts and `u` rejects.
  return { source: body, flags: ['i', 's', 'm'].filter((f) => pyFlags.includes(f)).join('') };
}

const compiled = new Map<string, RegExp | null>();

/** The regex as the homeserver compiles it, anchored at the start only; null when it does not compile. */
export function namespaceRegExp(regex: string): RegExp | null {
  let r = compiled.get(regex);
  if (r === undefined) {
    const { source, flags } = toJavaScript(regex);
    try {
      r = new RegExp(`^(?:${source})`, flags);
    } catch {
      r = null;
    }
    if (compiled.size > 2000) compiled.clear();
    compiled.set(regex, r);
  }
  return r;
}

/** Python `re.match(regex, id)` is not None. */
export function namespaceMatches(regex: string, id: string): boolean {
  return namespaceRegExp(regex)?.test(id) ?? false;
}

/** Which namespace an id belongs in, by its sigil. */
export function namespaceKindOf(id: string): NamespaceKind | undefined {
  switch (id[0]) {
    case '@':
      return 'users';
    case '#':
      return 'aliases';
    case '!':
      return 'rooms';
    default:
      return undefined;
  }
}

export interface NamespaceClaim {
  /** Where the registration comes from (a file path, or "settings"). */
  source: string;
  appserviceId: string;
  kind: NamespaceKind;
  index: number;
  regex: string;
  exclusive: boolean;
  /** The sender itself (Synapse: every appservice is interested in its own sender). */
  isSender?: boolean;
}

export interface ClaimableRegistration {
  source: string;
  registration: Pick<AppserviceRegistration, 'id' | 'namespaces' | 'senderLocalpart'>;
}

/** Every namespace entry (exclusive or not) that claims `id`, in the order of the registrations. */
export function claimsOf(id: string, registrations: readonly ClaimableRegistration[]): NamespaceClaim[] {
  const kind = namespaceKindOf(id);
  if (!kind) return [];
  const claims: NamespaceClaim[] = [];
  for (const { source, registration } of registrations) {
    if (kind === 'users' && id.startsWith(`@${registration.senderLocalpart}:`)) {
      claims.push({
        source,
        appserviceId: registration.id,
        kind,
        index: -1,
        regex: `@${registration.senderLocalpart}:…`,
        exclusive: true,
        isSender: true,
      });
    }
    registration.namespaces[kind].forEach((entry, index) => {
      if (namespaceMatches(entry.regex, id)) {
        claims.push({ source, appserviceId: registration.id, kind, index, regex: entry.regex, exclusive: entry.exclusive });
      }
    });
  }
  return claims;
}
