// The appservice doctor as users run it: `matrix-devtools doctor` (the bundled
// dist/cli.js in its own process) against the test homeserver and real
// appservice HTTP servers on loopback. Each scenario asserts the sentence the
// user reads and the exit code.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeAppservice, FakeTransactionBehaviour, freePort, startFakeAppservice } from '../support/appservice';
import { CLI, CliRun, runCli } from '../support/cliProcess';
import { NamespaceEntry, RegistrationObject, TestHomeserver } from '../support/homeserver';
import { findConflicts, parseRegistration } from '../../src/core/registration';
import { registrationYaml } from '../support/registrationYaml';

const cli = runCli;
type Run = CliRun;

interface JsonCheck {
  id: string;
  status: string;
  message: string;
  next?: string;
}
interface JsonReport {
  appservice: string;
  homeserver: string;
  checks: JsonCheck[];
}

const token = (label: string) => `${label}_${randomBytes(12).toString('hex')}`;

interface Setup {
  id?: string;
  /** What answers at the file's url. */
  appservice?: 'ok' | 'dead' | 'status500';
  transactions?: FakeTransactionBehaviour;
  url?: null;
  /** What the homeserver loaded: this file, nothing, or a copy that differs. */
  loaded?: 'same' | 'none' | 'other-tokens' | 'other-id' | 'other-sender' | 'dead-url';
  users?: NamespaceEntry[];
  extra?: Record<string, unknown>;
}

describe('matrix-devtools doctor', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let dir: string;
  let fakes: FakeAppservice[];
  let tokens: string[];

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
  });
  beforeEach(async () => {
    hs = await TestHomeserver.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-doctor-'));
    fakes = [];
    tokens = [];
  });
  afterEach(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await hs.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function registration(s: Setup = {}): Promise<{ file: string; reg: RegistrationObject; fake?: FakeAppservice }> {
    const id = s.id ?? 'acc-live';
    const reg: RegistrationObject = {
      id,
      url: null,
      as_token: token('as'),
      hs_token: token('hs'),
      sender_localpart: `${id.replace(/-/g, '')}bot`,
      namespaces: { users: s.users ?? [{ exclusive: true, regex: `@${id}_.*:localhost` }], aliases: [], rooms: [] },
      ...s.extra,
    };
    tokens.push(reg.as_token, reg.hs_token);
    let fake: FakeAppservice | undefined;
    if (s.url !== null) {
      if (s.appservice === 'dead') reg.url = `http://127.0.0.1:${await freePort()}`;
      else {
        fake = await startFakeAppservice({
          hsToken: reg.hs_token,
          behaviour: s.appservice === 'status500' ? 'status500' : 'ok',
          transactions: s.transactions,
        });
        fakes.push(fake);
        reg.url = fake.url;
      }
    }
    const loaded = s.loaded ?? 'same';
    if (loaded === 'same') hs.registerAppservice({ ...reg });
    if (loaded === 'other-tokens') hs.registerAppservice({ ...reg, as_token: token('as'), hs_token: token('hs') });
    if (loaded === 'other-id') hs.registerAppservice({ ...reg, id: `${id}-old` });
    if (loaded === 'other-sender') hs.registerAppservice({ ...reg, sender_localpart: 'somebodyelse' });
    if (loaded === 'dead-url') hs.registerAppservice({ ...reg, url: `http://127.0.0.1:${await freePort()}` });
    const file = path.join(dir, `${id}-registration.yaml`);
    await fs.writeFile(file, registrationYaml(reg));
    return { file, reg, fake };
  }

  async function doctor(files: string[], extra: string[] = []): Promise<{ run: Run; report: JsonReport; text: Run }> {
    const args = ['doctor', ...files.flatMap((f) => ['--registration', f]), '--homeserver', hs.baseUrl];
    const run = await cli([...args, '--json', ...extra]);
    const text = await cli([...args, ...extra]);
    for (const out of [run.stdout, run.stderr, text.stdout, text.stderr]) {
      for (const secret of tokens) assert.ok(!out.includes(secret), 'a token appeared in the output');
    }
    assert.equal(text.code, run.code, 'text and --json agree on the exit code');
    return { run, report: JSON.parse(run.stdout) as JsonReport, text };
  }

  const check = (report: JsonReport, id: string) => {
    const found = report.checks.find((c) => c.id === id);
    assert.ok(found, `no ${id} check`);
    return found;
  };

  it('a healthy appservice passes every check, in order, with one line each (a loopback url is a warning)', async () => {
    const { file, fake } = await registration();
    const { run, report, text } = await doctor([file]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      report.checks.map((c) => c.id),
      ['registration', 'as-token', 'appservice-id', 'homeserver-ping', 'direct-ping', 'transactions', 'namespaces', 'server-features'],
    );
    assert.deepEqual(
      report.checks.map((c) => c.status),
      ['warn', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
      JSON.stringify(report.checks, null, 1),
    );
    assert.match(check(report, 'registration').message, /^Line 2: url points at the loopback interface, .* if it runs elsewhere\.$/);
    assert.equal(report.appservice, 'acc-live');
    assert.equal(report.homeserver, hs.baseUrl);
    assert.equal(check(report, 'as-token').message, 'The homeserver knows this as_token: it answers as the sender @acclivebot:localhost.');
    assert.equal(
      check(report, 'transactions').message,
      "The appservice accepted an empty transaction with HTTP 200, as it must accept the homeserver's.",
    );
    assert.ok(report.checks.slice(1).every((c) => c.next === undefined));
    // The probe was a real, empty transaction with the hs_token, under a fresh id.
    assert.equal(fake?.transactions.length, 2);
    assert.deepEqual(fake?.transactions[0].body, { events: [] });
    assert.notEqual(fake?.transactions[0].txnId, fake?.transactions[1].txnId);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 9);
    assert.match(
      lines[0],
      /^warn registration {4}Line 2: url points at the loopback interface.* Next: Fix the problems shown for the file/,
    );
    assert.match(lines[1], /^ok {3}as-token {8}The homeserver knows this as_token/);
    assert.equal(lines[8], 'acc-live: 7 ok, 1 warning');
  });

  it('a registration the homeserver never loaded: as-token fails and the chain through the homeserver stops', async () => {
    const { file } = await registration({ loaded: 'none' });
    const { run, report, text } = await doctor([file]);
    assert.equal(run.code, 1);
    const asToken = check(report, 'as-token');
    assert.equal(asToken.status, 'fail');
    assert.equal(asToken.message, 'The homeserver does not know this as_token (M_UNKNOWN_TOKEN): it has not loaded this registration.');
    assert.match(
      asToken.next ?? '',
      /app_service_config_files and restart it; if it is listed, the homeserver reads another copy whose tokens differ/,
    );
    assert.equal(check(report, 'appservice-id').status, 'skipped');
    assert.equal(check(report, 'homeserver-ping').status, 'skipped');
    // What does not need the homeserver's registration still runs.
    assert.equal(check(report, 'direct-ping').status, 'ok');
    assert.equal(check(report, 'transactions').status, 'ok');
    assert.match(text.stdout, /^fail as-token {8}The homeserver does not know this as_token \(M_UNKNOWN_TOKEN\)/m);
    assert.match(text.stdout, /^skip appservice-id /m);
    assert.match(text.stdout, /^acc-live: 4 ok, 1 warning, 1 failed, 2 skipped$/m);
  });

  it('a file whose tokens differ from the copy the homeserver loaded', async () => {
    const { file } = await registration({ loaded: 'other-tokens' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'as-token').status, 'fail');
    assert.match(check(report, 'as-token').message, /does not know this as_token \(M_UNKNOWN_TOKEN\)/);
    assert.match(check(report, 'as-token').next ?? '', /bridges regenerate their registration/);
  });

  it('a wrong id: the ping 403 names the id of the file', async () => {
    const { file } = await registration({ loaded: 'other-id' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'as-token').status, 'ok');
    const id = check(report, 'appservice-id');
    assert.equal(id.status, 'fail');
    assert.equal(
      id.message,
      'The file says id "acc-live", but the homeserver loaded this as_token under another id (M_FORBIDDEN: Mismatching application service ID in path).',
    );
    assert.equal(check(report, 'homeserver-ping').status, 'skipped');
  });

  it('a sender localpart that differs from the registration the homeserver holds', async () => {
    const { file } = await registration({ loaded: 'other-sender' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    const asToken = check(report, 'as-token');
    assert.equal(asToken.status, 'fail');
    assert.equal(
      asToken.message,
      'The homeserver knows this as_token as @somebodyelse:localhost, not as the sender @acclivebot:localhost this file names: it holds a different registration for this token.',
    );
  });

  it('a dead appservice: the ping, the direct check and the transaction fail, each saying why', async () => {
    const { file } = await registration({ appservice: 'dead' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'homeserver-ping').message, 'The homeserver could not connect to the appservice (M_CONNECTION_FAILED).');
    assert.equal(check(report, 'direct-ping').status, 'fail');
    assert.equal(
      check(report, 'direct-ping').message,
      'Neither this machine nor the homeserver can reach the appservice: it is probably not running, or the url is wrong.',
    );
    assert.equal(check(report, 'transactions').status, 'fail');
    assert.match(
      check(report, 'transactions').message,
      /^The empty transaction could not be delivered from this machine: Nothing is listening at 127\.0\.0\.1:\d+/,
    );
  });

  it('an appservice reachable here but not from the homeserver', async () => {
    const { file } = await registration({ loaded: 'dead-url' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'homeserver-ping').status, 'fail');
    const direct = check(report, 'direct-ping');
    assert.equal(direct.status, 'fail');
    assert.equal(
      direct.message,
      "The appservice answers here but the homeserver cannot reach it: the registration's url is not reachable from the homeserver (container network, firewall or wrong host).",
    );
    assert.match(direct.next ?? '', /inside Docker, localhost is the homeserver's own container/);
  });

  it('answers pings but 500 to transactions: the homeserver fails the same way', async () => {
    const { file, reg } = await registration({ transactions: 'status500' });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'homeserver-ping').status, 'ok');
    const txn = check(report, 'transactions');
    assert.equal(txn.status, 'fail');
    assert.equal(
      txn.message,
      "The appservice answered an empty transaction with HTTP 500 M_UNKNOWN: the homeserver's transactions fail the same way, so the bridge receives no events.",
    );
    assert.match(
      txn.next ?? '',
      /Synapse retries failed transactions with growing delays, up to minutes; since Synapse 1\.132 a successful ping resets that back-off/,
    );
    const pushed = await hs.sendTransaction(reg.id, [{ type: 'm.room.message' }]);
    assert.deepEqual([pushed.ok, pushed.errcode, pushed.appserviceStatus], [false, 'M_BAD_STATUS', 500]);
  });

  it('url: null skips what needs a url and passes', async () => {
    const { file } = await registration({ url: null });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 0, JSON.stringify(report.checks, null, 1));
    for (const id of ['homeserver-ping', 'direct-ping', 'transactions']) assert.equal(check(report, id).status, 'skipped', id);
    assert.equal(
      check(report, 'direct-ping').message,
      'Skipped: the registration has url: null (receive-only), so the homeserver never calls it.',
    );
    assert.equal(check(report, 'appservice-id').status, 'ok');
  });

  it('two files with overlapping exclusive namespaces: each names the other and an id both claim', async () => {
    const a = await registration({ id: 'telegram', users: [{ exclusive: true, regex: '@telegram_.*:localhost' }] });
    const b = await registration({ id: 'catchall', users: [{ exclusive: true, regex: '@.*_bridge:localhost' }] });
    const { run, report: both } = await doctor([a.file, b.file]);
    assert.equal(run.code, 0, 'overlaps are warnings');
    const reports = both as unknown as JsonReport[];
    assert.equal(reports.length, 2);
    const ns = check(reports[0], 'namespaces');
    assert.equal(ns.status, 'warn');
    assert.equal(
      ns.message,
      `Namespaces.users[0] (@telegram_.*:localhost) overlaps the exclusive namespace @.*_bridge:localhost of "catchall" (${b.file}): both claim @telegram_bridge:localhost.`,
    );
    assert.match(check(reports[1], 'namespaces').message, /of "telegram" .*both claim @telegram_bridge:localhost/);
    const reg = check(reports[0], 'registration');
    assert.equal(reg.status, 'warn');
    assert.match(reg.message, /This exclusive users namespace overlaps one of "catchall"/);
  });

  it('a regex naming another server, and an uppercase user regex', async () => {
    const { file } = await registration({
      users: [
        { exclusive: true, regex: '@acc-live_.*:example\\.org' },
        { exclusive: false, regex: '@Acc_.*' },
      ],
    });
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 0);
    const ns = check(report, 'namespaces');
    assert.equal(ns.status, 'warn');
    assert.equal(
      ns.message,
      '2 namespace problems: namespaces.users[0] (@acc-live_.*:example\\.org) only matches ids on another server (such as @acc-live_:example.org), not on localhost; namespaces.users[1] (@Acc_.*) never matches: it has uppercase letters, and user ids are lowercase.',
    );
    assert.ok(ns.next);
  });

  it('a regex written for the localpart only', async () => {
    const { file } = await registration({ users: [{ exclusive: true, regex: 'acc_.*' }] });
    const { report } = await doctor([file]);
    assert.match(
      check(report, 'namespaces').message,
      /^Namespaces\.users\[0\] \(acc_\.\*\) never matches: the homeserver matches it against the full id from its start/,
    );
  });

  it('next-generation auth without io.element.msc4190 is warned about', async () => {
    hs.setAuthMetadata({ issuer: 'https://auth.example.org/' });
    const { file } = await registration();
    let { report } = await doctor([file]);
    const features = check(report, 'server-features');
    assert.equal(features.status, 'warn');
    assert.equal(
      features.message,
      'The homeserver uses next-generation auth (OAuth 2.0, issuer https://auth.example.org/) and this registration lacks io.element.msc4190: true, so an encrypted bridge cannot create its devices (M_APPSERVICE_LOGIN_UNSUPPORTED).',
    );
    const fixed = await registration({ id: 'acc-e2ee', extra: { 'io.element.msc4190': true } });
    await fs.appendFile(fixed.file, '\nio.element.msc4190: true\n');
    ({ report } = await doctor([fixed.file]));
    assert.equal(check(report, 'server-features').status, 'ok');
  });

  it('a broken file fails the registration check and skips the rest; usage errors exit 2', async () => {
    const file = path.join(dir, 'broken-registration.yaml');
    await fs.writeFile(file, 'id: broken\nurl: [\n');
    const { run, report } = await doctor([file]);
    assert.equal(run.code, 1);
    assert.equal(check(report, 'registration').status, 'fail');
    assert.ok(report.checks.slice(1).every((c) => c.status === 'skipped'));
    assert.equal((await cli(['doctor', '--homeserver', hs.baseUrl])).code, 2);
    assert.equal((await cli(['doctor', '--registration', file])).code, 2);
    assert.equal((await cli(['doctor', '--registration', path.join(dir, 'missing.yaml'), '--homeserver', hs.baseUrl])).code, 2);
  });
});

describe('matrix-devtools match', function () {
  this.timeout(20_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-match-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const write = async (name: string, users: NamespaceEntry[], aliases: NamespaceEntry[] = []) => {
    const file = path.join(dir, `${name}.yaml`);
    await fs.writeFile(
      file,
      registrationYaml({
        id: name,
        url: null,
        as_token: token('as'),
        hs_token: token('hs'),
        sender_localpart: `${name}bot`,
        namespaces: { users, aliases, rooms: [] },
      }),
    );
    return file;
  };

  it('lists every registration whose namespace matches from the start of the id, exclusive or not', async () => {
    const tg = await write(
      'telegram',
      [{ exclusive: true, regex: '@telegram_.*' }],
      [{ exclusive: true, regex: '#telegram_.*:example\\.org' }],
    );
    const all = await write('audit', [{ exclusive: false, regex: '@.*:example\\.org' }]);
    const local = await write('localonly', [{ exclusive: true, regex: 'telegram_.*' }]);
    const files = [tg, all, local].flatMap((f) => ['--registration', f]);
    const run = await cli(['match', '@telegram_123:example.org', ...files]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      `${tg}: "telegram" claims @telegram_123:example.org (users[0] exclusive @telegram_.*)\n${all}: "audit" claims @telegram_123:example.org (users[0] shared @.*:example\\.org)\n`,
    );
    // Anchored at the start only: a longer id still matches; a regex for the localpart never does.
    const json = await cli(['match', '#telegram_x:example.org.evil', ...files, '--json']);
    assert.equal(json.code, 0);
    assert.deepEqual(
      JSON.parse(json.stdout).claims.map((c: { appservice: string }) => c.appservice),
      ['telegram'],
    );
    const none = await cli(['match', '@someone:example.com', ...files]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, 'No registration claims @someone:example.com.\n');
    assert.equal((await cli(['match', 'telegram_123', ...files])).code, 2);
    assert.equal((await cli(['match', ...files])).code, 2);
  });
});

describe('cross-file conflicts (Problems panel)', () => {
  const yaml = (id: string, asToken: string, hsToken: string, users: NamespaceEntry[]) =>
    registrationYaml({
      id,
      url: null,
      as_token: asToken,
      hs_token: hsToken,
      sender_localpart: `${id}bot`,
      namespaces: { users, aliases: [], rooms: [] },
    });

  it('reports a shared hs_token and overlapping exclusive namespaces at their lines, without a token', () => {
    const hsShared = token('hs');
    const files = [
      { file: 'a.yaml', parsed: parseRegistration(yaml('a', token('as'), hsShared, [{ exclusive: true, regex: '@a_.*' }])) },
      {
        file: 'b.yaml',
        parsed: parseRegistration(
          yaml('b', token('as'), hsShared, [
            { exclusive: false, regex: '@.*' },
            { exclusive: true, regex: '@.*:localhost' },
          ]),
        ),
      },
    ];
    const result = findConflicts(files);
    const a = result.get('a.yaml') ?? [];
    assert.deepEqual(
      a.map((p) => [p.code, p.severity, p.line]),
      [
        ['duplicate-hs-token', 'error', 4],
        ['namespace-overlap', 'warning', 10],
      ],
    );
    assert.equal(
      a[0].message,
      'Another registration file (b.yaml) uses the same hs_token: give each appservice its own secret, or each one accepts transactions meant for the other.',
    );
    assert.equal(
      a[1].message,
      'This exclusive users namespace overlaps one of "b" (b.yaml): both claim ids such as @a_:localhost; make the regexes disjoint, or the homeserver lets only one of them use those ids.',
    );
    // The shared (non-exclusive) @.* is no conflict; the exclusive one is, at its own line.
    assert.deepEqual(
      (result.get('b.yaml') ?? []).map((p) => [p.code, p.line, p.key]),
      [
        ['duplicate-hs-token', 4, 'hs_token'],
        ['namespace-overlap', 12, 'namespaces.users[1].regex'],
      ],
    );
    for (const p of [...result.values()].flat()) assert.ok(!p.message.includes(hsShared));
  });
});
