// matrix-devtools: the extension's core for scripts and CI pipelines.
// Exit codes: 0 success, 1 Matrix or network failure (explained on stderr), 2 usage error.
import { parseArgs } from 'node:util';
import { commands as coreCommands } from './commands';
import { UsageError, type CliContext } from './context';
import { doctor, match } from './doctorCommands';
import { HttpClient } from '../core/http';
import { redact } from '../core/redact';
import { describeError, RequestFailedError } from '../core/errors';
import { parseServerInput } from '../core/homeserver';
import { CliStore, defaultStorePath } from './store';

/** The help text; a function so that only printing it looks up the default store path. */
const usage = (): string => `Usage: matrix-devtools <command> [options]

Commands:
  login --homeserver <name|url> --user <name> --password-stdin [--refresh-lifetime-ms N] [--device-name NAME]
  login --homeserver <name|url> --oauth
                                    OAuth 2.0 sign-in with a code shown here, confirmed in a browser
  accounts                          list stored sessions
  whoami  [--account <mxid>]        check the session (rotates first if it is about to expire)
  token   [--account <mxid>]        print a fresh access token (for curl and scripts)
  refresh [--account <mxid>]        rotate the refresh token now
  logout  [--account <mxid>]        sign out on the server and forget the session
  ping --registration <file> --homeserver <name|url>
  ping --id <id> --as-token-env <VAR> --homeserver <name|url>
  check-registration <file>         validate an appservice registration file
  check-appservice --registration <file> [--homeserver <name|url>]
                                    call the appservice directly with its hs_token (and compare with a homeserver ping)
  doctor --registration <file>... --homeserver <name|url>
                                    diagnose appservices check by check (exit 1 when a check fails)
  match <id> --registration <file>...
                                    which registrations claim a user id, room alias or room id

Options:
  --json                 machine-readable output on stdout
  --store <file>         session store (default ${defaultStorePath()})
  --timeout-ms <N>       per-request timeout (default 30000; ping 75000)
  --allow-insecure-http  allow plain http:// to hosts that are not loopback
  --verbose              log each HTTP request to stderr (tokens redacted)
  -h, --help             this text
`;

const commands: Record<string, (ctx: CliContext) => Promise<number>> = { ...coreCommands, doctor, match };

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        homeserver: { type: 'string' },
        user: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        oauth: { type: 'boolean' },
        'refresh-lifetime-ms': { type: 'string' },
        'device-name': { type: 'string' },
        account: { type: 'string' },
        registration: { type: 'string', multiple: true },
        id: { type: 'string' },
        'as-token-env': { type: 'string' },
        json: { type: 'boolean' },
        store: { type: 'string' },
        'timeout-ms': { type: 'string' },
        'allow-insecure-http': { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`matrix-devtools: ${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (values.help || !name) {
    (values.help ? process.stdout : process.stderr).write(usage());
    return values.help ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`matrix-devtools: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    process.stderr.write('matrix-devtools: --timeout-ms takes a positive number of milliseconds\n');
    return 2;
  }
  if (values.homeserver !== undefined) {
    // An unusable --homeserver is a usage error, not a failure of the homeserver.
    try {
      parseServerInput(values.homeserver);
    } catch (e) {
      process.stderr.write(`matrix-devtools: --homeserver: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  const { registration, ...single } = values;
  const ctx: CliContext = {
    // Commands that take one registration get the last one given.
    options: { ...single, registration: registration?.[registration.length - 1] },
    lists: { registration },
    positionals: rest,
    http: new HttpClient({
      timeoutMs,
      allowInsecureHttp: values['allow-insecure-http'],
      userAgent: 'matrix-devtools-cli',
      log: values.verbose
        ? (e) => process.stderr.write(redact(`${e.method} ${e.url} ${e.status ?? e.failure ?? ''} ${e.errcode ?? ''} ${e.durationMs}ms\n`))
        : undefined,
    }),
    // Made when a command first uses it: ping and check-registration never do (and need not look up the home directory).
    get store() {
      const store = new CliStore(values.store ?? defaultStorePath(), (sentence) => process.stderr.write(`matrix-devtools: ${sentence}\n`));
      Object.defineProperty(this, 'store', { value: store });
      return store;
    },
    json: values.json === true,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(redact(text.endsWith('\n') ? text : `${text}\n`)),
  };
  try {
    return await command(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.err(`matrix-devtools: ${e.message}`);
      return 2;
    }
    // The core's sentence says "allow insecure HTTP"; here that is a flag.
    const message =
      e instanceof RequestFailedError && e.kind === 'insecure-url'
        ? `${new URL(e.url).host} uses plain http:// and is not this machine, so passwords and tokens would cross the network unencrypted; use https://, or pass --allow-insecure-http for a test server you control.`
        : describeError(e);
    if (ctx.json) ctx.out(JSON.stringify({ ok: false, error: redact(message), errcode: (e as { errcode?: string }).errcode }));
    ctx.err(`matrix-devtools: ${message}`);
    return 1;
  }
}

/** Runs the CLI as a process: sets the exit code when the command is done (src/boot/cli.ts). */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`matrix-devtools: ${redact(String(e))}\n`);
      process.exitCode = 1;
    },
  );
}
