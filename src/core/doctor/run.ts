// The appservice doctor: every check in order, each chain stopped only where
// a later check cannot mean anything. One function for the CLI and the
// extension; it reads nothing from disk and never throws.
import { PingRun, prepareAndPing } from '../appserviceChecks';
import { describeError } from '../errors';
import { discoverHomeserver, DiscoveredHomeserver, type Discover } from '../homeserver';
import type { HttpRequester } from '../http';
import { t } from '../l10n';
import type { AppserviceRegistration, ParsedRegistration, RegistrationProblem } from '../registration/types';
import { directPingCheck, transactionsCheck } from './appserviceSide';
import { appserviceIdCheck, checkAsToken, homeserverPingCheck, serverFeaturesCheck } from './homeserverChecks';
import { namespacesCheck } from './namespaceCheck';
import { CHECK_IDS, CheckId, DoctorCheck, DoctorReport } from './types';

export interface DoctorInput {
  /** Where the registration comes from (a path as the user knows it). */
  source: string;
  parsed: ParsedRegistration;
  /** Problems with other files (findConflicts), shown with the registration check. */
  conflicts?: readonly RegistrationProblem[];
  /** The other registrations it is compared with. */
  others?: ReadonlyArray<{ source: string; registration: AppserviceRegistration }>;
  /** Server name or URL; undefined = no homeserver chosen (its checks are skipped). */
  homeserver?: string;
  pingTimeoutMs?: number;
  signal?: AbortSignal;
  /** How to find the homeserver: one discovery shared by a batch (discoveryPerBatch). Default: discover now. */
  discover?: Discover;
  /** Called as each check finishes (progress). */
  onCheck?: (check: DoctorCheck) => void;
}

const skipped = (id: CheckId, message: string): DoctorCheck => ({ id, status: 'skipped', message });

export async function runDoctor(http: HttpRequester, input: DoctorInput): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => {
    checks.push(c);
    input.onCheck?.(c);
  };
  const reg = input.parsed.registration;
  const report = (homeserver: string): DoctorReport => ({
    appservice: reg?.id ?? input.parsed.id?.value ?? input.source,
    homeserver,
    checks,
  });
  add(registrationCheck(input));
  if (!reg) {
    const why = t('Not checked: the registration file cannot be used.');
    for (const id of CHECK_IDS.filter((c) => c !== 'registration')) {
      add(skipped(id, why));
    }
    return report(input.homeserver ?? '');
  }
  try {
    return report(await runUsable(http, input, reg, add));
  } catch (e) {
    // The checks do not throw; this is for the unexpected, which must not lose the checks done so far.
    add({
      id: checks.length ? checks[checks.length - 1].id : 'registration',
      status: 'fail',
      message: t('The diagnosis stopped because of an internal error: {0}', describeError(e)),
      next: t('Please report it.'),
    });
    return report(input.homeserver ?? '');
  }
}

/**
 * Starts a check now, to be awaited later: its failure surfaces where it is
 * awaited (runDoctor's catch), never as an unhandled rejection meanwhile.
 */
function started<T>(check: Promise<T>): Promise<T> {
  check.catch(() => undefined);
  return check;
}

async function runUsable(
  http: HttpRequester,
  input: DoctorInput,
  reg: AppserviceRegistration,
  add: (c: DoctorCheck) => void,
): Promise<string> {
  const { signal } = input;
  // The checks that call the appservice from here need nothing from the homeserver's but its
  // ping, to compare with at the end: they run while the homeserver is found, asked about the
  // as_token and pinged. Each step is a round trip to the appservice, and one that hangs costs
  // its timeout once, not once per check. They are still reported in order.
  let pingDone: (run: PingRun | undefined) => void = () => undefined;
  const pingForDirect = new Promise<PingRun | undefined>((resolve) => (pingDone = resolve));
  const withUrl = reg.url === null ? undefined : { ...reg, url: reg.url };
  const direct = withUrl && started(directPingCheck(http, withUrl, pingForDirect, signal));
  const transactions = withUrl && started(transactionsCheck(http, withUrl, signal));

  let server: DiscoveredHomeserver | undefined;
  let features: Promise<DoctorCheck> | undefined;
  let serverName: string | undefined;
  let ping: PingRun | undefined;
  try {
    let serverProblem: DoctorCheck | undefined;
    if (!input.homeserver) {
      serverProblem = skipped('as-token', t('No homeserver chosen, so the homeserver checks are skipped.'));
    } else {
      try {
        server = await (input.discover ?? ((i, s) => discoverHomeserver(http, i, s)))(input.homeserver, signal);
        features = started(serverFeaturesCheck(http, server.baseUrl, server.versions, reg, signal));
      } catch (e) {
        serverProblem = {
          id: 'as-token',
          status: 'fail',
          message: t('Could not reach the homeserver {0}: {1}', input.homeserver, describeError(e)),
          next: t('Check the homeserver name or URL and that the homeserver is running.'),
        };
      }
    }

    if (!server) {
      add(serverProblem as DoctorCheck);
      const why = input.homeserver ? t('Not checked: the homeserver could not be reached.') : t('Not checked: no homeserver chosen.');
      add(skipped('appservice-id', why));
      add(skipped('homeserver-ping', why));
    } else {
      const asToken = await checkAsToken(http, server.baseUrl, reg, signal);
      serverName = asToken.serverName;
      add(asToken.check);
      if (!asToken.tokenKnown) {
        const why = t('Not checked: the homeserver does not know the as_token.');
        add(skipped('appservice-id', why));
        add(skipped('homeserver-ping', why));
      } else {
        // The one ping pipeline (discovery, endpoint choice, every not-sent sentence) the Ping command uses.
        const found = server;
        const run = await prepareAndPing(http, {
          appserviceId: reg.id,
          registrationId: reg.id,
          homeserver: server.baseUrl,
          asToken: async () => ({ asToken: reg.asToken, registrationId: reg.id }),
          timeoutMs: input.pingTimeoutMs,
          signal,
          // Found above: the ping does not ask .well-known and /versions again.
          discover: async () => found,
        });
        if (!run.sent) {
          add(skipped('appservice-id', t('Not checked: no ping was sent ({0})', run.result.summary)));
          add(
            run.outcome === 'cancelled'
              ? skipped('homeserver-ping', run.result.summary)
              : {
                  id: 'homeserver-ping',
                  status: 'warn',
                  message: run.result.summary,
                  next: run.result.nextStep ?? t("Check the homeserver's logs."),
                },
          );
        } else {
          ping = run;
          const sameToken = (input.others ?? [])
            .filter((o) => o.registration.asToken === reg.asToken && o.registration.id !== reg.id)
            .map((o) => o.registration.id);
          const idCheck = appserviceIdCheck(run.result, reg, sameToken);
          add(idCheck);
          add(
            idCheck.status === 'fail'
              ? skipped('homeserver-ping', t('Not checked: the homeserver refuses to ping under this id.'))
              : homeserverPingCheck(run.result),
          );
        }
      }
    }
  } finally {
    // Whatever happened above, the direct check gets its answer and does not wait forever.
    pingDone(ping);
  }

  if (!direct || !transactions) {
    const why = t('Skipped: the registration has url: null (receive-only), so the homeserver never calls it.');
    add(skipped('direct-ping', why));
    add(skipped('transactions', why));
  } else {
    add(await direct);
    add(await transactions);
  }

  add(namespacesCheck(reg, input.others ?? [], serverName));
  add(
    features
      ? await features
      : skipped(
          'server-features',
          input.homeserver ? t('Not checked: the homeserver could not be reached.') : t('Not checked: no homeserver chosen.'),
        ),
  );
  return server?.baseUrl ?? input.homeserver ?? '';
}

function registrationCheck(input: DoctorInput): DoctorCheck {
  // Errors first; among warnings, clashes with other files before this file's own.
  const by = (list: readonly RegistrationProblem[] | undefined, severity: RegistrationProblem['severity']) =>
    (list ?? []).filter((p) => p.severity === severity);
  const errors = [...by(input.parsed.problems, 'error'), ...by(input.conflicts, 'error')];
  const all = [...errors, ...by(input.conflicts, 'warning'), ...by(input.parsed.problems, 'warning')];
  const first = all[0];
  if (!input.parsed.registration) {
    return {
      id: 'registration',
      status: 'fail',
      message: !first
        ? t('The registration cannot be used.')
        : first.code === 'unreadable'
          ? first.message
          : t('The registration cannot be used: line {0}: {1}', first.line, first.message),
      next: t('Fix the problems shown for the file (Problems panel, or matrix-devtools check-registration), then run the diagnosis again.'),
    };
  }
  if (!first) return { id: 'registration', status: 'ok', message: t('The registration file is valid.') };
  const more = all.length > 1 ? t(' ({0} more)', all.length - 1) : '';
  return {
    id: 'registration',
    status: errors.length ? 'fail' : 'warn',
    message: t('Line {0}: {1}{2}', first.line, first.message, more),
    next: t('Fix the problems shown for the file (Problems panel, or matrix-devtools check-registration).'),
  };
}
