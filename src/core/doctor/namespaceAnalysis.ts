// What can be known about namespaces without a homeserver: two exclusive
// namespaces that claim the same ids, and regexes that can never match an id
// the homeserver will ever check them against. Every example id is confirmed
// with the homeserver's own reading (matcher.ts) before it is reported.
import type { AppserviceRegistration, NamespaceKind } from '../registration/types';
import { NAMESPACE_KINDS } from '../registration/types';
import { memoByPair } from '../memo';
import { namespaceMatches } from './matcher';
import { commonExample } from './regexAutomaton';

export interface NamespaceRef {
  kind: NamespaceKind;
  index: number;
  regex: string;
}

export interface NamespaceOverlap {
  a: NamespaceRef;
  b: NamespaceRef;
  /** An id both regexes match. */
  example: string;
}

const SERVER = '[A-Za-z0-9.\\-]+(:[0-9]+)?';
const LOCALPART = '[a-z0-9._=/+\\-]+';
/** What a valid, newly created id of each kind looks like (the grammar of the spec's identifiers). */
const VALID_ID: Record<NamespaceKind, string> = {
  users: `@${LOCALPART}:${SERVER}$`,
  aliases: `#[^:\\s]+:${SERVER}$`,
  // Room version 12 ids have no server part.
  rooms: `![^:\\s]+(:${SERVER})?$`,
};
const SIGIL: Record<NamespaceKind, string> = { users: '@', aliases: '#', rooms: '!' };

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function confirmed(example: string | undefined | 'unknown', regexes: string[]): string | undefined {
  if (example === undefined || example === 'unknown') return undefined;
  return regexes.every((r) => namespaceMatches(r, example)) ? example : undefined;
}

/** An id of `kind` that both regexes claim, when there is one. */
export function overlapExample(kind: NamespaceKind, a: string, b: string): string | undefined {
  return overlapOf[kind](a, b);
}

// Every change to a registration file compares all pairs of files again (conflicts.ts).
const overlapOf = Object.fromEntries(
  NAMESPACE_KINDS.map((kind) => [
    kind,
    memoByPair(10_000, (a, b): string | undefined => {
      const regexes = [a, b, VALID_ID[kind]];
      return confirmed(commonExample(regexes), regexes);
    }),
  ]),
) as Record<NamespaceKind, (a: string, b: string) => string | undefined>;

/** Exclusive namespaces of `a` that claim ids an exclusive namespace of `b` claims too. */
export function exclusiveOverlaps(
  a: Pick<AppserviceRegistration, 'namespaces'>,
  b: Pick<AppserviceRegistration, 'namespaces'>,
): NamespaceOverlap[] {
  const found: NamespaceOverlap[] = [];
  for (const kind of NAMESPACE_KINDS) {
    a.namespaces[kind].forEach((ea, ia) => {
      if (!ea.exclusive) return;
      b.namespaces[kind].forEach((eb, ib) => {
        if (!eb.exclusive) return;
        const example = overlapExample(kind, ea.regex, eb.regex);
        if (example) found.push({ a: { kind, index: ia, regex: ea.regex }, b: { kind, index: ib, regex: eb.regex }, example });
      });
    });
  }
  return found;
}

export type PatternIssue =
  | { ref: NamespaceRef; problem: 'no-sigil' }
  | { ref: NamespaceRef; problem: 'uppercase' }
  | { ref: NamespaceRef; problem: 'never-matches' }
  | { ref: NamespaceRef; problem: 'other-server'; example: string; serverName: string };

/** A literal uppercase letter outside escapes and classes (user ids are lowercase). */
function hasUppercaseLiteral(regex: string): boolean {
  const withoutEscapes = regex
    .replace(/\\./g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\(\?P?<\w+>/g, '(');
  return !/^\(\?[a-zA-Z]*i/.test(regex) && /[A-Z]/.test(withoutEscapes);
}

/**
 * Regexes that never match a valid id of their kind (written for the localpart
 * only, uppercase letters in a user regex), and, when the homeserver's server
 * name is known, regexes that only match ids on another server.
 */
export function patternIssues(registration: Pick<AppserviceRegistration, 'namespaces'>, serverName?: string): PatternIssue[] {
  const issues: PatternIssue[] = [];
  for (const kind of NAMESPACE_KINDS) {
    registration.namespaces[kind].forEach((entry, index) => {
      const ref = { kind, index, regex: entry.regex };
      const anyValid = commonExample([entry.regex, VALID_ID[kind]]);
      if (anyValid === 'unknown') return;
      if (confirmed(anyValid, [entry.regex]) === undefined) {
        const withSigil = commonExample([entry.regex, escapeRegex(SIGIL[kind])]);
        if (withSigil === undefined) issues.push({ ref, problem: 'no-sigil' });
        else if (kind === 'users' && hasUppercaseLiteral(entry.regex)) issues.push({ ref, problem: 'uppercase' });
        else issues.push({ ref, problem: 'never-matches' });
        return;
      }
      if (!serverName || kind === 'rooms') return;
      const onServer = VALID_ID[kind].replace(`:${SERVER}$`, `:${escapeRegex(serverName)}$`);
      const here = commonExample([entry.regex, onServer]);
      if (here === undefined) issues.push({ ref, problem: 'other-server', example: anyValid as string, serverName });
    });
  }
  return issues;
}

/** Exclusive user namespaces of other registrations that claim `senderId`. */
export function senderClaimedBy(
  senderId: string,
  others: ReadonlyArray<{ source: string; registration: Pick<AppserviceRegistration, 'id' | 'namespaces'> }>,
): Array<{ source: string; appserviceId: string; regex: string }> {
  return others.flatMap(({ source, registration }) =>
    registration.namespaces.users
      .filter((e) => e.exclusive && namespaceMatches(e.regex, senderId))
      .map((e) => ({ source, appserviceId: registration.id, regex: e.regex })),
  );
}
