// `npm run dev-homeserver`: the test homeserver with demo users and three demo
// appservices (healthy, down, broken), for trying the extension and CLI by hand
// or from scripts.
//
//   node out/test/support/devHomeserver.js [--port N] [--host H] [--json]
//        [--access-token-lifetime-ms N] [--registrations-dir DIR] [--control] [--oauth [--password-login]]
//
// --oauth delegates authentication to a real OAuth 2.0 server (oidc-provider,
// configured like Matrix Authentication Service, on its own loopback port):
// auth_metadata, no password login, tokens checked by introspection. Sign in
// with `matrix-devtools login --homeserver <url> --oauth`; the sign-in page
// takes the same users and passwords. --password-login keeps password login
// as well (as MAS's compatibility login does), so Add Account offers a choice.
//
// --control also serves, on a second loopback port (`controlUrl` in the JSON
// line), `GET /requests`: the homeserver's request log (method, path, status,
// errcode, time; never a token), so tests in other processes (several VS Code
// windows) can count what reached the homeserver.
//
// Tokens are random on every start; registration files (with those tokens)
// are written only when --registrations-dir is given, and stdout never shows
// a token.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FakeAppservice, FakeAppserviceBehaviour, freePort, startFakeAppservice } from './appservice';
import { RegistrationObject, TestHomeserver } from './homeserver';
import { TestAuthServer } from './oauth/authServer';
import { registrationYaml } from './registrationYaml';

interface Args {
  host: string;
  port: number;
  json: boolean;
  accessTokenLifetimeMs: number;
  registrationsDir?: string;
  control: boolean;
  oauth: boolean;
  passwordLogin: boolean;
}

const USAGE =
  'usage: devHomeserver [--port N] [--host H] [--json] [--access-token-lifetime-ms N] [--registrations-dir DIR] [--control] [--oauth [--password-login]]';

function parseArgs(argv: string[]): Args {
  const envPort = process.env.MATRIX_DEV_PORT;
  const args: Args = {
    host: '127.0.0.1',
    port: envPort ? toInt(envPort, 'MATRIX_DEV_PORT') : 8008,
    json: false,
    accessTokenLifetimeMs: 300_000,
    control: false,
    oauth: false,
    passwordLogin: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--port') args.port = toInt(value(), flag);
    else if (flag === '--host') args.host = value();
    else if (flag === '--json') args.json = true;
    else if (flag === '--access-token-lifetime-ms') args.accessTokenLifetimeMs = toInt(value(), flag);
    else if (flag === '--registrations-dir') args.registrationsDir = value();
    else if (flag === '--control') args.control = true;
    else if (flag === '--oauth') args.oauth = true;
    else if (flag === '--password-login') args.passwordLogin = true;
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument '${flag}'\n${USAGE}`);
  }
  if (args.passwordLogin && !args.oauth) {
    throw new Error(`--password-login goes with --oauth (without it, password login is on anyway)\n${USAGE}`);
  }
  return args;
}

function toInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got '${s}'`);
  return n;
}

const secret = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

interface DemoAppservice {
  reg: RegistrationObject;
  fake?: FakeAppservice;
  registrationFile?: string;
  describe: string;
}

async function demoAppservice(
  id: string,
  behaviour: FakeAppserviceBehaviour | 'down',
  serverName: string,
  userRegex: string,
  describe: string,
): Promise<DemoAppservice> {
  const hsToken = secret('hs');
  const fake = behaviour === 'down' ? undefined : await startFakeAppservice({ hsToken, behaviour });
  const reg: RegistrationObject = {
    id,
    // A 'down' appservice gets its dead port once everything else listens (see deadUrl).
    url: fake ? fake.url : null,
    as_token: secret('as'),
    hs_token: hsToken,
    sender_localpart: `${id.replace(/-/g, '_')}_bot`,
    namespaces: {
      users: [{ exclusive: true, regex: userRegex }],
      aliases: [{ exclusive: true, regex: `\\#_${id.replace(/-/g, '_')}_.*:${escapeRegex(serverName)}` }],
      rooms: [],
    },
    rate_limited: false,
  };
  return { reg, fake, describe };
}

/**
 * A port nobody listens on. Picked after every demo server listens: a port
 * released earlier could be handed to one of them by the next bind(0).
 */
async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const serverName = 'localhost';
  const appservices = [
    await demoAppservice('demo-bridge', 'ok', serverName, `@demo_.*:${escapeRegex(serverName)}`, 'healthy'),
    await demoAppservice('demo-down', 'down', serverName, '@_down_.*', 'its url points at a port nothing listens on'),
    await demoAppservice('demo-broken', 'status500', serverName, '@_broken_.*', 'answers every ping with HTTP 500'),
  ];
  const users = [
    { localpart: 'alice', password: 'wonderland' },
    { localpart: 'bob', password: 'builder' },
  ];
  const down = appservices.filter((a) => !a.fake);
  const auth = args.oauth
    ? await TestAuthServer.start({
        users: users.map((u) => ({ username: u.localpart, password: u.password })),
        accessTokenTtlSeconds: Math.max(1, Math.round(args.accessTokenLifetimeMs / 1000)),
      })
    : undefined;
  const hs = await TestHomeserver.start({
    delegatedAuth: auth && { authServer: auth, passwordLogin: args.passwordLogin },
    host: args.host,
    port: args.port,
    serverName,
    users,
    accessTokenLifetimeMs: args.accessTokenLifetimeMs,
    appservices: appservices.filter((a) => a.fake).map((a) => a.reg),
  });
  for (const a of down) {
    a.reg.url = await deadUrl();
    hs.registerAppservice(a.reg);
  }
  if (args.registrationsDir) {
    fs.mkdirSync(args.registrationsDir, { recursive: true });
    for (const a of appservices) {
      a.registrationFile = path.resolve(args.registrationsDir, `${a.reg.id}-registration.yaml`);
      fs.writeFileSync(
        a.registrationFile,
        registrationYaml(a.reg, [
          `Registration for the Matrix DevTools demo appservice '${a.reg.id}' (${a.describe}).`,
          'Generated by devHomeserver with fresh random tokens on every start.',
        ]),
        { mode: 0o600 },
      );
    }
  }

  const control = args.control ? await startControlServer(hs, args.host) : undefined;

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    control?.close();
    void Promise.all([hs.stop(), auth?.stop(), ...appservices.map((a) => a.fake?.stop())]).then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const userList = users.map((u) => ({ userId: `@${u.localpart}:${serverName}`, localpart: u.localpart, password: u.password }));
  if (args.json) {
    const out = {
      baseUrl: hs.baseUrl,
      serverName,
      accessTokenLifetimeMs: args.accessTokenLifetimeMs,
      ...(auth ? { oauthIssuer: auth.issuer } : {}),
      ...(control ? { controlUrl: control.url } : {}),
      users: userList,
      appservices: appservices.map((a) => ({
        id: a.reg.id,
        url: a.reg.url,
        ...(a.registrationFile ? { registrationFile: a.registrationFile } : {}),
      })),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = [
    `Matrix DevTools dev homeserver (Synapse-like fake) listening on ${hs.baseUrl}`,
    `  server name: ${serverName}; access tokens live ${args.accessTokenLifetimeMs} ms (refresh tokens on request)`,
    auth
      ? `  OAuth 2.0: sign-in is delegated to ${auth.issuer} (${args.passwordLogin ? 'password login too' : 'no password login'}); try: matrix-devtools login --homeserver ${hs.baseUrl} --oauth`
      : '',
    '  users:',
    ...userList.map((u) => `    ${u.userId}  password: ${u.password}`),
    '  appservices:',
    ...appservices.map(
      (a) =>
        `    ${a.reg.id.padEnd(12)} ${a.describe}${a.registrationFile ? `\n                 registration: ${a.registrationFile}` : ''}`,
    ),
    args.registrationsDir ? '' : '  (pass --registrations-dir DIR to write their registration files, which hold the tokens)',
    'Press Ctrl+C to stop.',
  ];
  process.stdout.write(`${lines.filter((l) => l !== '').join('\n')}\n`);
}

/** The request log for other processes; RequestRecord holds no token by design. */
async function startControlServer(hs: TestHomeserver, host: string): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const known = req.method === 'GET' && (req.url ?? '').split('?')[0] === '/requests';
    const text = known ? JSON.stringify(hs.requests) : JSON.stringify({ error: 'GET /requests is all there is' });
    res.writeHead(known ? 200 : 404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, close: () => server.close() };
}

main().catch((e: unknown) => {
  process.stderr.write(`devHomeserver: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
