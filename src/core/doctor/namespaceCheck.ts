// The `namespaces` check: the registration against the other registrations
// it sits with (workspace files, CLI flags) and against the homeserver's
// server name.
import { t } from '../l10n';
import type { AppserviceRegistration } from '../registration/types';
import type { ClaimableRegistration } from './matcher';
import { exclusiveOverlaps, PatternIssue, patternIssues, senderClaimedBy } from './namespaceAnalysis';
import type { DoctorCheck } from './types';

function where(kind: string, index: number): string {
  return `namespaces.${kind}[${index}]`;
}

function describeIssue(issue: PatternIssue): string {
  const at = `${where(issue.ref.kind, issue.ref.index)} (${issue.ref.regex})`;
  switch (issue.problem) {
    case 'no-sigil':
      return t(
        '{0} never matches: the homeserver matches it against the full id from its start, so a regex for the localpart only must begin with the sigil, e.g. @ and end with :server',
        at,
      );
    case 'uppercase':
      return t('{0} never matches: it has uppercase letters, and user ids are lowercase', at);
    case 'never-matches':
      return t('{0} cannot match any valid Matrix id', at);
    case 'other-server':
      return t('{0} only matches ids on another server (such as {1}), not on {2}', at, issue.example, issue.serverName);
  }
}

export function namespacesCheck(reg: AppserviceRegistration, others: readonly ClaimableRegistration[], serverName?: string): DoctorCheck {
  const problems: string[] = [];
  let fail = false;
  const senderId = `@${reg.senderLocalpart}:${serverName ?? 'localhost'}`;
  for (const claim of serverName ? senderClaimedBy(senderId, others) : []) {
    fail = true;
    problems.push(
      t('the sender {0} lies inside the exclusive namespace {1} of "{2}" ({3})', senderId, claim.regex, claim.appserviceId, claim.source),
    );
  }
  for (const other of others) {
    for (const o of exclusiveOverlaps(reg, other.registration)) {
      problems.push(
        t(
          '{0} ({1}) overlaps the exclusive namespace {2} of "{3}" ({4}): both claim {5}',
          where(o.a.kind, o.a.index),
          o.a.regex,
          o.b.regex,
          other.registration.id,
          other.source,
          o.example,
        ),
      );
    }
  }
  problems.push(...patternIssues(reg, serverName).map(describeIssue));
  if (problems.length === 0) {
    const scope = others.length ? t('no other registration claims the same ids') : t('there is no other registration to compare with');
    return {
      id: 'namespaces',
      status: 'ok',
      message: serverName
        ? t('Every namespace regex can match ids on {0}, and {1}.', serverName, scope)
        : t('Every namespace regex can match valid ids, and {0}.', scope),
    };
  }
  const message =
    problems.length === 1 ? t('{0}.', capitalize(problems[0])) : t('{0} namespace problems: {1}.', problems.length, problems.join('; '));
  return {
    id: 'namespaces',
    status: fail ? 'fail' : 'warn',
    message,
    next: fail
      ? t(
          "Change the other registration's exclusive regex so that it leaves this sender out, or pick another sender_localpart; then restart the homeserver.",
        )
      : t(
          'Fix the regexes (Synapse matches them with re.match against the full id: sigil, lowercase localpart, :server) so that each id belongs to one appservice, then restart the homeserver.',
        ),
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
