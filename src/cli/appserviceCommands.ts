// The CLI's appservice commands: ping, check-registration, check-appservice.
// The same core pipeline as the Appservices view (core/appserviceChecks.ts).
import { AsToken, checkDirectlyAndCompare, directRunFailed, PingRun, prepareAndPing } from '../core/ping';
import { AppserviceRegistration, RegistrationProblem } from '../core/registration';
import { LoadedRegistration, loadRegistrationForPing } from '../core/registrationFile';
import { need, UsageError, type CliContext, type Command } from './context';
import { readText } from './readText';

/** A registration the CLI can use, or a usage error that says why (with the file's problems). */
export async function loadRegistration(file: string): Promise<LoadedRegistration> {
  const loaded = await loadRegistrationForPing(readText, file);
  if ('unreadable' in loaded) throw new UsageError(loaded.problem);
  return loaded;
}

async function usableRegistration(
  ctx: CliContext,
  file: string,
  loading: Promise<LoadedRegistration> = loadRegistration(file),
): Promise<AppserviceRegistration> {
  const loaded = await loading;
  if ('problem' in loaded) {
    printProblems(ctx, file, loaded.problems);
    throw new UsageError(`${file} is not a usable registration`);
  }
  return loaded.registration;
}

function printProblems(ctx: CliContext, file: string, problems: RegistrationProblem[]): void {
  for (const p of problems) ctx.err(`${file}:${p.line}:${p.column}: ${p.severity}: ${p.message} [${p.code}]`);
}

const checkRegistration: Command = async (ctx) => {
  const file = ctx.positionals[0] ?? (ctx.options.registration as string | undefined);
  if (!file) throw new UsageError('check-registration needs a file');
  const parsed = await loadRegistration(file);
  const registration = 'registration' in parsed ? parsed.registration : undefined;
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  if (ctx.json) {
    const id = registration?.id ?? ('id' in parsed ? parsed.id : undefined);
    ctx.out(
      JSON.stringify({
        ok: errors.length === 0,
        id: id ?? null,
        problems: parsed.problems.map(({ severity, code, message, line, column, key }) => ({ severity, code, message, line, column, key })),
      }),
    );
  } else {
    printProblems(ctx, file, parsed.problems);
    if (errors.length === 0) {
      ctx.out(
        `${file}: registration "${registration?.id}" is valid${parsed.problems.length ? ` (${parsed.problems.length} warning(s))` : ''}.`,
      );
    }
  }
  return errors.length === 0 ? 0 : 1;
};

function printPing(ctx: CliContext, run: PingRun): void {
  const r = run.result;
  if (ctx.json) {
    ctx.out(JSON.stringify({ ...r, sent: run.sent }));
    return;
  }
  const how = run.sent ? `${r.endpoint ?? 'no endpoint'}, txn ${r.transactionId}` : 'not sent';
  const line = `${r.ok ? 'OK  ' : 'FAIL'} ${r.appserviceId} via ${r.homeserverUrl} (${how}): ${r.summary}`;
  if (r.ok) ctx.out(`${line} Round trip here: ${r.roundTripMs} ms.`);
  else ctx.err(`${line}${r.nextStep ? `\n     Next: ${r.nextStep}` : ''}`);
}

function pingTimeoutMs(ctx: CliContext): number | undefined {
  return ctx.options['timeout-ms'] ? Number(ctx.options['timeout-ms']) : undefined;
}

const ping: Command = async (ctx) => {
  const homeserver = need(ctx, 'homeserver');
  const file = ctx.options.registration as string | undefined;
  if (file) {
    // Read and checked while discovery is on the wire (prepareAndPing asks for the token after sending it).
    const loading = loadRegistration(file);
    loading.catch(() => undefined); // awaited below, after the run
    const run = await prepareAndPing(ctx.http, {
      appserviceId: file,
      homeserver,
      asToken: async () => {
        const loaded = await loading;
        return 'problem' in loaded ? loaded : { asToken: loaded.registration.asToken, registrationId: loaded.registration.id };
      },
      timeoutMs: pingTimeoutMs(ctx),
    });
    await usableRegistration(ctx, file, loading); // an unusable file is a usage error, as before any request
    printPing(ctx, run);
    return run.result.ok ? 0 : 1;
  }
  const id = need(ctx, 'id');
  const envName = need(ctx, 'as-token-env');
  const fromEnv = process.env[envName];
  if (!fromEnv) throw new UsageError(`environment variable ${envName} is empty or not set`);
  const token: AsToken = { asToken: fromEnv };
  const run = await prepareAndPing(ctx.http, { appserviceId: id, homeserver, asToken: async () => token, timeoutMs: pingTimeoutMs(ctx) });
  printPing(ctx, run);
  return run.result.ok ? 0 : 1;
};

const checkAppservice: Command = async (ctx) => {
  const registration = await usableRegistration(ctx, need(ctx, 'registration'));
  const homeserver = typeof ctx.options.homeserver === 'string' ? ctx.options.homeserver : undefined;
  const run = await checkDirectlyAndCompare(ctx.http, {
    registration: { registration },
    ping: homeserver
      ? () =>
          prepareAndPing(ctx.http, {
            appserviceId: registration.id,
            homeserver,
            asToken: async () => ({ asToken: registration.asToken, registrationId: registration.id }),
            timeoutMs: pingTimeoutMs(ctx),
          })
      : undefined,
  });
  const ok = !directRunFailed(run);
  const { direct, ping: homeserverPing, verdict } = run;
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        ok,
        notChecked: run.notChecked ?? null,
        direct: direct ?? null,
        homeserverPing: homeserverPing?.result ?? null,
        verdict: verdict ?? null,
      }),
    );
  } else if (run.notChecked || !direct) {
    ctx.err(`Not checked: ${run.notChecked}`);
  } else {
    ctx.out(`Direct: ${direct.summary}${direct.nextStep ? ` ${direct.nextStep}` : ''}`);
    if (direct.urlNote) ctx.out(`Note: ${direct.urlNote}`);
    if (homeserverPing) printPing(ctx, homeserverPing);
    if (verdict) ctx.out(`Verdict: ${verdict}`);
  }
  return ok ? 0 : 1;
};

export const appserviceCommands: Record<string, Command> = {
  ping,
  'check-registration': checkRegistration,
  'check-appservice': checkAppservice,
};
