// Pings and direct checks through the real model against the test homeserver
// and real fake appservices on loopback. Each test asserts the block a user
// reads in the "Matrix Appservices" output, not only the errcode.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClient, HttpResponse, RequestOptions } from '../../src/core/http';
import { AppserviceCatalog, AppserviceItem } from '../../src/vscode/appservices/catalog';
import { AppservicePingService, asTokenSecretKey, PingSettings } from '../../src/vscode/appservices/pingService';
import { FakeAppservice, FakeAppserviceBehaviour, freePort, startFakeAppservice } from '../support/appservice';
import { RegistrationObject, TestHomeserver } from '../support/homeserver';
import { InMemoryMemento, InMemorySecretStorage } from '../support/memoryStorage';
import { RecordingOutput, registrationYaml } from './appserviceFixtures';

const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`;

/** Counts ping requests in flight, to see Ping All's concurrency from the client side. */
class CountingHttpClient extends HttpClient {
  inFlight = 0;
  peak = 0;
  started = 0;
  override async request<T = Record<string, unknown>>(baseUrl: string, p: string, opts?: RequestOptions): Promise<HttpResponse<T>> {
    if (!p.endsWith('/ping')) return super.request<T>(baseUrl, p, opts);
    this.inFlight++;
    this.started++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      return await super.request<T>(baseUrl, p, opts);
    } finally {
      this.inFlight--;
    }
  }
}

interface World {
  dir: string;
  hs: TestHomeserver;
  catalog: AppserviceCatalog;
  /** Every file the service read, in order. */
  reads: string[];
  output: RecordingOutput;
  secrets: InMemorySecretStorage;
  state: InMemoryMemento;
  settings: PingSettings;
  http: CountingHttpClient;
  service: AppservicePingService;
  fakes: FakeAppservice[];
  /** Every token the tests created: none may appear in the output. */
  tokens: string[];
}

interface AppserviceSetup {
  id?: string;
  /** The fake appservice's behaviour; 'dead' = nothing listens at the url. */
  behaviour?: FakeAppserviceBehaviour | 'dead';
  /** Overrides the url written in both the file and the homeserver's registration. */
  url?: string | null;
  /** The url only the homeserver knows (the file keeps the reachable one). */
  homeserverUrl?: string | null;
  /** hs_token the appservice itself expects (default: the registration's). */
  appserviceHsToken?: string;
  /** false = the homeserver has not loaded this registration. */
  registerOnHomeserver?: boolean;
  homeserver?: TestHomeserver;
}

async function addAppservice(
  w: World,
  s: AppserviceSetup = {},
): Promise<{ item: AppserviceItem; file: string; reg: RegistrationObject; fake?: FakeAppservice }> {
  const id = s.id ?? secret('as-').slice(0, 12);
  const asToken = secret('');
  const hsToken = secret('');
  w.tokens.push(asToken, hsToken);
  let fake: FakeAppservice | undefined;
  let url: string | null;
  if (s.url !== undefined) url = s.url;
  else if (s.behaviour === 'dead') url = `http://127.0.0.1:${await freePort()}`;
  else {
    fake = await startFakeAppservice({ hsToken: s.appserviceHsToken ?? hsToken, behaviour: s.behaviour ?? 'ok' });
    w.fakes.push(fake);
    url = fake.url;
  }
  const reg: RegistrationObject = {
    id,
    url: s.homeserverUrl !== undefined ? s.homeserverUrl : url,
    as_token: asToken,
    hs_token: hsToken,
    sender_localpart: `${id}bot`,
    namespaces: { users: [{ exclusive: true, regex: `@${id}_.*:localhost` }] },
  };
  if (s.registerOnHomeserver !== false) (s.homeserver ?? w.hs).registerAppservice(reg);
  const file = path.join(w.dir, `${id}-registration.yaml`);
  await fs.writeFile(file, registrationYaml({ id, url, asToken, hsToken }));
  w.catalog.setFile(file, await fs.readFile(file, 'utf8'));
  const item = w.catalog.get(`file:${file}`);
  assert.ok(item, 'the catalog lists the file');
  return { item, file, reg, fake };
}

function blockOf(output: RecordingOutput, id: string): string {
  const start = output.lines.findIndex((l) => l.text.includes(`"${id}"`));
  assert.ok(start >= 0, `no output block for ${id}:\n${output.text}`);
  const end = output.lines.findIndex((l, i) => i > start && !l.text.startsWith('    '));
  return output.lines
    .slice(start, end === -1 ? undefined : end)
    .map((l) => l.text)
    .join('\n');
}

describe('appservice ping through the homeserver', function () {
  this.timeout(20_000);
  let w: World;

  beforeEach(async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-as-'));
    const http = new CountingHttpClient();
    const output = new RecordingOutput();
    const secrets = InMemorySecretStorage.standalone();
    const state = new InMemoryMemento();
    const settings: PingSettings = { pingTimeoutMs: 10_000, concurrency: 3, revealOnFailure: true };
    const catalog = new AppserviceCatalog(dir);
    const reads: string[] = [];
    w = {
      dir,
      hs: await TestHomeserver.start(),
      catalog,
      reads,
      output,
      secrets,
      state,
      settings,
      http,
      fakes: [],
      tokens: [],
      service: new AppservicePingService({
        http: () => http,
        readText: (f) => (reads.push(f), fs.readFile(f, 'utf8')),
        secrets,
        state,
        output,
        settings: () => settings,
        // As src/vscode/appservices/index.ts wires it.
        knownParse: (file, text) => catalog.parsedIfSame(file, text),
      }),
    };
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(w.output.text);
    await Promise.all(w.fakes.map((f) => f.stop()));
    await w.hs.stop();
    await fs.rm(w.dir, { recursive: true, force: true });
    // Whatever happened, no token reached the output or the workspace state.
    const state = w.state.dump();
    for (const token of w.tokens) {
      assert.ok(!w.output.text.includes(token), 'a token reached the output');
      assert.ok(!state.includes(token), 'a token reached workspaceState');
    }
  });

  it('healthy: reports OK with both durations, the endpoint and the transaction id', async () => {
    const { item, fake } = await addAppservice(w, { id: 'healthy' });
    const report = await w.service.ping(item, w.hs.baseUrl);
    assert.equal(report.outcome, 'ok');
    const block = blockOf(w.output, 'healthy');
    assert.match(block, /^Ping appservice "healthy" at \d{4}-\d\d-\d\dT/);
    assert.ok(block.includes(`homeserver: ${w.hs.baseUrl}`), block);
    assert.ok(block.includes('endpoint: stable — POST /_matrix/client/v1/appservice/healthy/ping'), block);
    const sentTxn = (fake?.calls[0]?.body as { transaction_id?: string }).transaction_id;
    assert.ok(sentTxn && block.includes(`transaction id: ${sentTxn}`), 'the block names the transaction id the appservice received');
    assert.match(block, /outcome: OK \(HTTP 200\)/);
    assert.match(block, /duration_ms: \d+ ms \(homeserver → appservice → homeserver, measured by the homeserver\)/);
    assert.match(block, /client round trip: \d+ ms/);
    assert.match(block, /explanation: The homeserver reached the appservice in \d+ ms\./);
    assert.doesNotMatch(block, /next step/);
    assert.equal(w.output.lines[0].level, 'info');
    assert.equal(w.output.reveals, 0, 'a success does not pop the output up');
    assert.equal(w.service.lastPing(item.key)?.ok, true);
    assert.equal(w.hs.count('POST', /\/ping$/), 1);
  });

  it('dead port: the homeserver cannot connect, and the user is told where to look', async () => {
    const { item } = await addAppservice(w, { id: 'deadport', behaviour: 'dead' });
    const report = await w.service.ping(item, w.hs.baseUrl);
    assert.equal(report.outcome, 'failed');
    const block = blockOf(w.output, 'deadport');
    assert.match(block, /outcome: failed: HTTP 502 M_CONNECTION_FAILED/);
    assert.match(block, /explanation: The homeserver could not connect to the appservice \(M_CONNECTION_FAILED\)\./);
    assert.match(
      block,
      /next step: Check the registration's url: is the appservice running, on that host and port, and reachable from the homeserver/,
    );
    assert.match(block, /homeserver said: ConnectionRefusedError/);
    assert.equal(w.output.lines[0].level, 'warn');
    assert.equal(w.output.reveals, 1, 'a failure reveals the output');
    assert.equal(w.service.lastPing(item.key)?.errcode, 'M_CONNECTION_FAILED');
  });

  it('does not reveal the output on failure when the setting is off', async () => {
    w.settings.revealOnFailure = false;
    const { item } = await addAppservice(w, { id: 'quietfail', behaviour: 'dead' });
    await w.service.ping(item, w.hs.baseUrl);
    assert.equal(w.output.reveals, 0);
  });

  it('answering 500: shows what the appservice answered and points at its logs', async () => {
    const { item } = await addAppservice(w, { id: 'status500', behaviour: 'status500' });
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'status500');
    assert.match(block, /outcome: failed: HTTP 502 M_BAD_STATUS/);
    assert.match(block, /appservice answered the homeserver: HTTP 500: .*Internal server error/);
    assert.match(block, /explanation: The appservice answered the homeserver with HTTP 500 \(M_BAD_STATUS\)\./);
    assert.match(block, /next step: Look at the appservice's logs for the error behind that answer\./);
  });

  it('appservice without ping support (404): says it does not implement the ping', async () => {
    const { item } = await addAppservice(w, { id: 'noping', behaviour: 'status404' });
    await w.service.ping(item, w.hs.baseUrl);
    assert.match(blockOf(w.output, 'noping'), /next step: The appservice does not implement POST \/_matrix\/app\/v1\/ping/);
  });

  it('appservice rejecting the hs_token: says the tokens disagree', async () => {
    const { item } = await addAppservice(w, { id: 'rejects', behaviour: 'reject-token' });
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'rejects');
    assert.match(block, /HTTP 403/);
    assert.match(block, /next step: The appservice rejected the homeserver's hs_token/);
  });

  it('never answering: the homeserver gives up (short ping timeout) and the user reads why', async () => {
    w.hs.setPingTimeoutMs(300);
    const { item } = await addAppservice(w, { id: 'hangs', behaviour: 'hang' });
    const report = await w.service.ping(item, w.hs.baseUrl);
    assert.equal(report.result.errcode, 'M_CONNECTION_TIMEOUT');
    const block = blockOf(w.output, 'hangs');
    assert.match(block, /outcome: failed: HTTP 504 M_CONNECTION_TIMEOUT/);
    assert.match(block, /explanation: The appservice accepted the connection but did not answer in time/);
    assert.match(block, /next step: The appservice is running but stuck or overloaded/);
  });

  it('url: null: explains a receive-only registration', async () => {
    const { item } = await addAppservice(w, { id: 'receiveonly', url: null });
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'receiveonly');
    assert.match(block, /outcome: failed: HTTP 400 M_URL_NOT_SET/);
    assert.match(block, /explanation: The registration has url: null, so the homeserver never contacts this appservice/);
    assert.match(block, /next step: That is right for a receive-only appservice; otherwise set url/);
  });

  it('wrong id: a settings entry whose id does not match its as_token', async () => {
    const { reg } = await addAppservice(w, { id: 'realid' });
    w.catalog.setEntries([{ id: 'wrongid', homeserver: w.hs.baseUrl }]);
    const item = w.catalog.get('settings:wrongid');
    assert.ok(item);
    await w.service.setAsToken('wrongid', reg.as_token);
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'wrongid');
    assert.match(block, /outcome: failed: HTTP 403 M_FORBIDDEN/);
    assert.match(block, /explanation: The as_token belongs to a different appservice than "wrongid" \(M_FORBIDDEN\)\./);
    assert.match(block, /next step: Use the id from the same registration file as the as_token\./);
  });

  it("user token instead of as_token: says to use the registration's as_token", async () => {
    const login = await fetch(`${w.hs.baseUrl}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'wonderland' }),
    });
    const { access_token: userToken } = (await login.json()) as { access_token: string };
    assert.ok(userToken);
    w.tokens.push(userToken);
    await addAppservice(w, { id: 'bridge' });
    w.catalog.setEntries([{ id: 'bridge-by-hand' }]);
    const item = w.catalog.get('settings:bridge-by-hand');
    assert.ok(item);
    await w.service.setAsToken('bridge-by-hand', userToken);
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'bridge-by-hand');
    assert.match(
      block,
      /explanation: The homeserver does not treat this token as an appservice token \(M_FORBIDDEN\): Only application services can use/,
    );
    assert.match(block, /next step: Use the registration's as_token, not a user's access token\./);
  });

  it('unknown as_token: the homeserver has not loaded this registration', async () => {
    const { item } = await addAppservice(w, { id: 'notloaded', registerOnHomeserver: false });
    await w.service.ping(item, w.hs.baseUrl);
    const block = blockOf(w.output, 'notloaded');
    assert.match(block, /outcome: failed: HTTP 401 M_UNKNOWN_TOKEN/);
    assert.match(block, /explanation: The homeserver does not know this as_token \(M_UNKNOWN_TOKEN\)\./);
    assert.match(block, /next step: Make sure the homeserver loads this registration file \(Synapse: app_service_config_files\)/);
  });

  it('reads the tokens from the file at ping time, not when the file was listed', async () => {
    const { item, file, reg } = await addAppservice(w, { id: 'edited', registerOnHomeserver: false });
    // The homeserver knows other tokens than the file had when the catalog read it.
    const fresh = { ...reg, as_token: secret(''), hs_token: secret('') };
    w.tokens.push(fresh.as_token, fresh.hs_token);
    w.fakes.push(await startFakeAppservice({ hsToken: fresh.hs_token }));
    fresh.url = w.fakes[w.fakes.length - 1].url;
    w.hs.registerAppservice(fresh);
    await fs.writeFile(file, registrationYaml({ id: 'edited', url: fresh.url, asToken: fresh.as_token, hsToken: fresh.hs_token }));
    const report = await w.service.ping(item, w.hs.baseUrl);
    assert.equal(report.outcome, 'ok', blockOf(w.output, 'edited'));
  });

  it('a settings entry without a token is not pinged, and says how to set one', async () => {
    w.catalog.setEntries([{ id: 'tokenless', homeserver: w.hs.baseUrl }]);
    const item = w.catalog.get('settings:tokenless');
    assert.ok(item);
    const report = await w.service.ping(item, w.hs.baseUrl);
    assert.equal(report.sent, false);
    const block = blockOf(w.output, 'tokenless');
    assert.match(block, /outcome: not sent/);
    assert.match(block, /No as_token is set for "tokenless"/);
    assert.match(block, /next step: Run "Set Appservice Token"/);
    assert.equal(w.hs.count('POST', /\/ping$/), 0);
    await w.service.setAsToken('tokenless', 'a-token-from-the-user');
    w.tokens.push('a-token-from-the-user');
    assert.equal(await w.secrets.get(asTokenSecretKey('tokenless')), 'a-token-from-the-user', 'the token lives in the secret store');
  });

  it('an appservice echoing the hs_token in its error: the token is not in the output', async () => {
    const hsToken = secret('');
    const server = http.createServer((req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`bad request, you sent ${req.headers.authorization}; expected Bearer ${hsToken}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { item, reg } = await addAppservice(w, { id: 'echoes', url });
      w.hs.unregisterAppservice('echoes');
      w.hs.registerAppservice({ ...reg, hs_token: hsToken });
      w.tokens.push(hsToken);
      // The file holds the token the appservice echoes, so the ping reads and registers it as a secret.
      await fs.writeFile(
        path.join(w.dir, 'echoes-registration.yaml'),
        registrationYaml({ id: 'echoes', url, asToken: reg.as_token, hsToken }),
      );
      await w.service.ping(item, w.hs.baseUrl);
      const block = blockOf(w.output, 'echoes');
      assert.match(
        block,
        /appservice answered the homeserver: HTTP 500: bad request, you sent Bearer <redacted>;? expected Bearer <redacted>/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  describe('homeservers without the stable ping', () => {
    let other: TestHomeserver | undefined;
    afterEach(async () => {
      await other?.stop();
      other = undefined;
    });

    it('no ping support in /versions: says so plainly and sends no ping', async () => {
      other = await TestHomeserver.start({ pingEndpoint: 'none' });
      const { item } = await addAppservice(w, { id: 'oldserver', homeserver: other });
      const report = await w.service.ping(item, other.baseUrl);
      assert.equal(report.sent, false);
      const block = blockOf(w.output, 'oldserver');
      assert.match(block, /outcome: not sent/);
      assert.ok(
        block.includes(
          `explanation: ${other.baseUrl} does not support appservice ping: its /versions lists spec versions up to v1.6 and advertises neither fi.mau.msc2659.stable nor fi.mau.msc2659, so no ping was sent.`,
        ),
        block,
      );
      assert.match(block, /next step: Appservice ping needs Matrix v1\.7 \(Synapse 1\.84 or later\)/);
      assert.equal(other.count('POST', /\/ping$/), 0, 'no doomed request');
      assert.equal(other.count('GET', '/_matrix/client/versions'), 1, '/versions was checked');
    });

    it('advertises ping but answers 404 M_UNRECOGNIZED: explains the homeserver is too old', async () => {
      other = await TestHomeserver.start({ pingEndpoint: 'none', unstableFeatures: { 'fi.mau.msc2659.stable': true } });
      const { item } = await addAppservice(w, { id: 'claims', homeserver: other });
      await w.service.ping(item, other.baseUrl);
      const block = blockOf(w.output, 'claims');
      assert.match(block, /outcome: failed: HTTP 404 M_UNRECOGNIZED/);
      assert.match(block, /explanation: The homeserver does not support appservice ping \(HTTP 404 M_UNRECOGNIZED\)\./);
      assert.match(block, /next step: Appservice ping needs Matrix v1\.7/);
    });

    it('only the unstable MSC2659 endpoint: uses it, and says so', async () => {
      other = await TestHomeserver.start({ pingEndpoint: 'unstable' });
      const { item } = await addAppservice(w, { id: 'unstableonly', homeserver: other });
      const report = await w.service.ping(item, other.baseUrl);
      assert.equal(report.outcome, 'ok', blockOf(w.output, 'unstableonly'));
      assert.equal(report.result.endpoint, 'unstable');
      assert.equal(other.count('POST', '/_matrix/client/unstable/fi.mau.msc2659/appservice/unstableonly/ping'), 1);
      assert.equal(other.count('POST', '/_matrix/client/v1/'), 0, 'the stable path was not tried');
      assert.ok(
        blockOf(w.output, 'unstableonly').includes(
          'endpoint: MSC2659 (unstable) — POST /_matrix/client/unstable/fi.mau.msc2659/appservice/unstableonly/ping',
        ),
      );
    });
  });

  describe('a ping after the first: sent to the homeserver found last time while discovery runs again', () => {
    let other: TestHomeserver | undefined;
    afterEach(async () => {
      await other?.stop();
      other = undefined;
    });
    const pingOrVersions = (hs: TestHomeserver) =>
      hs.requests.filter((r) => r.path.endsWith('/ping') || r.path === '/_matrix/client/versions').map((r) => `${r.method} ${r.path}`);

    it('does not wait for discovery, and is reported once discovery found the same', async () => {
      const { item } = await addAppservice(w, { id: 'again' });
      assert.equal((await w.service.ping(item, w.hs.baseUrl)).outcome, 'ok');
      w.hs.delay(/^\/_matrix\/client\/versions$/, 300);
      const before = pingOrVersions(w.hs).length;
      const report = await w.service.ping(item, w.hs.baseUrl);
      assert.equal(report.outcome, 'ok', w.output.text);
      // Requests are recorded as they are answered: the ping came back while /versions was held,
      // and the report was made only after /versions answered.
      assert.deepEqual(pingOrVersions(w.hs).slice(before), [
        'POST /_matrix/client/v1/appservice/again/ping',
        'GET /_matrix/client/versions',
      ]);
      assert.equal(report.droppedEarlyPing, undefined);
      assert.equal(w.hs.count('POST', /\/ping$/), 2, 'one request per ping');
      assert.doesNotMatch(blockOf(w.output, 'again'), /early ping/);
    });

    it('a homeserver that advertises another endpoint now: the ping goes where /versions says, and the block tells of the dropped one', async () => {
      other = await TestHomeserver.start();
      const { item } = await addAppservice(w, { id: 'switched', homeserver: other });
      assert.equal((await w.service.ping(item, other.baseUrl)).result.endpoint, 'stable');
      other.setPingEndpoint('unstable');
      w.output.lines.length = 0;
      const report = await w.service.ping(item, other.baseUrl);
      assert.equal(report.outcome, 'ok', w.output.text);
      assert.equal(report.result.endpoint, 'unstable');
      assert.equal(report.droppedEarlyPing, other.baseUrl);
      assert.equal(other.count('POST', '/_matrix/client/unstable/fi.mau.msc2659/appservice/switched/ping'), 1);
      assert.ok(
        blockOf(w.output, 'switched').includes(
          `early ping: sent to ${other.baseUrl}, where the homeserver was found last time, and dropped: the homeserver is found elsewhere or advertises another ping endpoint now. It may still have reached the appservice.`,
        ),
        w.output.text,
      );
    });

    it('a .well-known that points elsewhere now: the ping is sent to the homeserver it names', async () => {
      other = await TestHomeserver.start();
      const { item, reg } = await addAppservice(w, { id: 'moved', homeserver: other });
      w.hs.registerAppservice(reg);
      assert.equal((await w.service.ping(item, other.baseUrl)).result.homeserverUrl, other.baseUrl);
      other.setWellKnown({ 'm.homeserver': { base_url: w.hs.baseUrl } });
      const report = await w.service.ping(item, other.baseUrl);
      assert.equal(report.outcome, 'ok', w.output.text);
      assert.equal(report.result.homeserverUrl, w.hs.baseUrl);
      assert.equal(report.droppedEarlyPing, other.baseUrl);
      assert.equal(w.hs.count('POST', '/_matrix/client/v1/appservice/moved/ping'), 1);
    });

    it('a homeserver that stopped advertising ping: what it answered the ping is reported', async () => {
      other = await TestHomeserver.start();
      const { item } = await addAppservice(w, { id: 'downgraded', homeserver: other });
      assert.equal((await w.service.ping(item, other.baseUrl)).outcome, 'ok');
      other.setPingEndpoint('none');
      w.output.lines.length = 0;
      const report = await w.service.ping(item, other.baseUrl);
      assert.equal(report.sent, true);
      assert.equal(report.droppedEarlyPing, undefined);
      const block = blockOf(w.output, 'downgraded');
      assert.match(block, /outcome: failed: HTTP 404 M_UNRECOGNIZED/);
      assert.match(block, /next step: Appservice ping needs Matrix v1\.7/);
    });

    it('cancelled while the homeserver is found again: the early ping is aborted and reported as cancelled', async () => {
      const { item } = await addAppservice(w, { id: 'stopped', behaviour: 'hang' });
      w.hs.setPingTimeoutMs(100);
      await w.service.ping(item, w.hs.baseUrl); // the homeserver gives up after 100 ms, and is remembered
      w.hs.setPingTimeoutMs(5_000);
      w.hs.delay(/^\/_matrix\/client\/versions$/, 5_000);
      const controller = new AbortController();
      const pinging = w.service.ping(item, w.hs.baseUrl, controller.signal);
      setTimeout(() => controller.abort(), 50);
      const report = await pinging;
      assert.equal(report.outcome, 'cancelled', w.output.text);
      assert.equal(report.sent, true);
    });
  });

  describe('Ping All', () => {
    it('keeps at most `concurrency` pings in flight and sums up "5 ok, 2 failing"', async () => {
      w.settings.concurrency = 3;
      w.hs.delay(/\/ping$/, 150, 100);
      const targets = [];
      for (let i = 0; i < 5; i++) targets.push({ item: (await addAppservice(w, { id: `ok${i}` })).item, homeserver: w.hs.baseUrl });
      for (let i = 0; i < 2; i++) {
        targets.push({ item: (await addAppservice(w, { id: `down${i}`, behaviour: 'dead' })).item, homeserver: w.hs.baseUrl });
      }
      const progress: number[] = [];
      const summary = await w.service.pingAll(targets, undefined, (done) => progress.push(done));
      assert.equal(w.http.peak, 3, 'never more than 3 pings at once, and it did use 3');
      assert.equal(w.http.started, 7);
      assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual([summary.ok, summary.failing, summary.skipped, summary.cancelled], [5, 2, 0, 0]);
      const { formatPingAllSummary } = await import('../../src/vscode/appservices/format');
      assert.equal(formatPingAllSummary(summary), '5 ok, 2 failing — see output');
      assert.equal(w.output.reveals, 1, 'revealed once, not per failure');
      for (const id of ['ok0', 'ok4', 'down0', 'down1']) blockOf(w.output, id);
    });

    it('finds the homeserver once for the whole batch, and again after a failed discovery', async () => {
      w.settings.concurrency = 3;
      const targets = [];
      for (let i = 0; i < 6; i++) targets.push({ item: (await addAppservice(w, { id: `batch${i}` })).item, homeserver: w.hs.baseUrl });
      const versionsBefore = w.hs.count('GET', '/_matrix/client/versions');
      const summary = await w.service.pingAll(targets);
      assert.equal(summary.ok, 6);
      assert.equal(w.hs.count('POST', /\/ping$/), 6);
      assert.equal(w.hs.count('GET', '/_matrix/client/versions') - versionsBefore, 1, 'one /versions for six pings');
      // Each lane reads its next file ahead, and each file is still read once.
      assert.deepEqual([...w.reads].sort(), targets.map((t) => t.item.file).sort());

      // A discovery that fails is not kept: the first ping reports it, the next ones find the homeserver again.
      w.settings.concurrency = 1;
      w.hs.answerHtml(/\/_matrix\/client\/versions$/, 1);
      w.output.lines.length = 0;
      const again = await w.service.pingAll(targets.slice(0, 3));
      assert.deepEqual([again.ok, again.failing], [2, 1]);
      assert.match(blockOf(w.output, 'batch0'), /Could not reach the homeserver .* does not answer as a Matrix homeserver/);
      // batch0 went out early, to the homeserver the first Ping All found; its answer was not used.
      assert.match(blockOf(w.output, 'batch0'), /early ping: sent to /);
      assert.match(blockOf(w.output, 'batch1'), /outcome: OK/);
    });

    it('a file changed after it was listed: every ping of the batch uses what is on disk', async () => {
      w.settings.concurrency = 2;
      const added = [];
      for (let i = 0; i < 5; i++) added.push(await addAppservice(w, { id: `moved${i}`, registerOnHomeserver: false }));
      // The homeserver knows a new as_token for all five; the catalog still has the old files.
      for (const { file, reg } of added) {
        const fresh = { ...reg, as_token: secret('') };
        w.tokens.push(fresh.as_token);
        w.hs.registerAppservice(fresh);
        await fs.writeFile(file, registrationYaml({ id: reg.id, url: reg.url, asToken: fresh.as_token, hsToken: reg.hs_token }));
      }
      const summary = await w.service.pingAll(added.map(({ item }) => ({ item, homeserver: w.hs.baseUrl })));
      assert.equal(summary.ok, 5, w.output.text);
    });

    it("keeps each appservice's last result on its own in the workspace state, for the next window", async () => {
      const added = [];
      for (let i = 0; i < 3; i++) added.push(await addAppservice(w, { id: `kept${i}`, behaviour: i === 2 ? 'status500' : 'ok' }));
      await w.service.pingAll(added.map(({ item }) => ({ item, homeserver: w.hs.baseUrl })));
      const keys = w.state.keys().filter((k) => k.startsWith('matrixDevtools.appservices.lastPing'));
      assert.equal(keys.length, 3, 'one entry per appservice, not one map rewritten per ping');
      const next = new AppservicePingService({
        http: () => w.http,
        readText: (f) => fs.readFile(f, 'utf8'),
        secrets: w.secrets,
        state: w.state,
        output: w.output,
        settings: () => w.settings,
      });
      assert.deepEqual(
        added.map(({ item }) => next.lastPing(item.key)?.ok),
        [true, true, false],
      );
      await w.state.update(keys[0], 'not a result');
      assert.equal(added.filter(({ item }) => next.lastPing(item.key) === undefined).length, 1, 'a damaged entry reads as never pinged');
    });

    it('an appservice without a homeserver is reported, not pinged', async () => {
      const { item } = await addAppservice(w, { id: 'nohs' });
      const summary = await w.service.pingAll([{ item, homeserver: undefined }]);
      assert.equal(summary.skipped, 1);
      assert.match(
        blockOf(w.output, 'nohs'),
        /No homeserver is chosen for this appservice\..*\n.*next step: Run "Choose Homeserver for Appservice"/,
      );
      assert.equal(w.hs.count('POST', /\/ping$/), 0);
    });

    it('cancelling stops new pings and abandons running ones without waiting for the homeserver', async () => {
      w.settings.concurrency = 2;
      w.hs.setPingTimeoutMs(15_000);
      const targets = [];
      for (let i = 0; i < 6; i++) {
        targets.push({ item: (await addAppservice(w, { id: `stuck${i}`, behaviour: 'hang' })).item, homeserver: w.hs.baseUrl });
      }
      const controller = new AbortController();
      const waitForCalls = async () => {
        while (w.fakes.reduce((n, f) => n + f.calls.length, 0) < 2) await new Promise((r) => setTimeout(r, 10));
        controller.abort();
      };
      const started = Date.now();
      const [summary] = await Promise.all([w.service.pingAll(targets, controller.signal), waitForCalls()]);
      assert.ok(Date.now() - started < 5_000, 'did not wait for the homeserver');
      assert.equal(summary.cancelled, 6);
      assert.equal(
        w.fakes.reduce((n, f) => n + f.calls.length, 0),
        2,
        'only the two running pings reached appservices',
      );
      assert.equal(w.http.started, 2);
      const block = blockOf(w.output, 'stuck0');
      assert.match(block, /outcome: cancelled here while waiting \(the homeserver may still finish the ping\)/);
      assert.match(block, /explanation: The ping was cancelled here before the homeserver answered/);
      assert.doesNotMatch(block, /Check the homeserver URL/);
      assert.equal(w.service.lastPing(targets[0].item.key), undefined, 'a cancelled ping is not a result');
      assert.equal(w.output.reveals, 0);
    });
  });

  describe('Check Appservice Directly', () => {
    it('accepts the hs_token here but the homeserver cannot reach the url: blames the network path', async () => {
      const deadForHs = `http://127.0.0.1:${await freePort()}`;
      const { item } = await addAppservice(w, { id: 'split', homeserverUrl: deadForHs });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.equal(report.direct?.reachable, true);
      assert.equal(report.direct?.acceptsHsToken, true);
      assert.equal(report.ping?.result.errcode, 'M_CONNECTION_FAILED');
      const block = w.output.text.slice(w.output.text.indexOf('Check appservice "split" directly'));
      assert.match(block, /reachable from this machine: yes/);
      assert.match(block, /hs_token accepted: yes/);
      assert.match(
        block,
        /url note: 127\.0\.0\.1 is a loopback address: only a homeserver on the same machine \(and not inside a container\) can reach it\./,
      );
      assert.match(block, /homeserver ping: failed: HTTP 502 M_CONNECTION_FAILED/);
      assert.match(
        block,
        /verdict: The appservice answers here but the homeserver cannot reach it: the registration's url is not reachable from the homeserver \(container network, firewall or wrong host\)\./,
      );
      assert.equal(w.output.reveals >= 1, true);
    });

    it('both reach it: says so', async () => {
      const { item } = await addAppservice(w, { id: 'allgood' });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.equal(report.verdict, 'Both this machine and the homeserver reach the appservice.');
      assert.match(w.output.text, /hs_token accepted: yes/);
      assert.doesNotMatch(w.output.text, /wrong hs_token accepted/, 'the fake checks its token');
    });

    it('an appservice that accepts any hs_token: logged as a warning, as it is notified', async () => {
      const { item } = await addAppservice(w, { id: 'careless', behaviour: 'accept-any-token' });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.equal(report.direct?.acceptsWrongToken, true);
      assert.equal(report.needsAttention, true);
      const head = w.output.lines.find((l) => l.text.includes('Check appservice "careless" directly'));
      assert.equal(head?.level, 'warn', 'the block starts at info level although the user is warned');
      assert.match(w.output.text, /a wrong hs_token accepted too: yes/);
    });

    it('all good: logged at info level and nothing needs attention', async () => {
      const { item } = await addAppservice(w, { id: 'careful' });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.equal(report.needsAttention, false);
      assert.equal(w.output.lines.find((l) => l.text.includes('Check appservice "careful" directly'))?.level, 'info');
    });

    it('rejects the hs_token from here and from the homeserver: says config and file disagree', async () => {
      const { item } = await addAppservice(w, { id: 'mismatch', appserviceHsToken: secret('') });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.equal(report.direct?.acceptsHsToken, false);
      const block = w.output.text.slice(w.output.text.indexOf('Check appservice "mismatch" directly'));
      assert.match(block, /reachable from this machine: yes/);
      assert.match(block, /hs_token accepted: no/);
      assert.match(block, /explanation: The appservice answers here but rejects the registration's hs_token \(HTTP 403 M_FORBIDDEN\)\./);
      assert.match(block, /homeserver ping: failed: HTTP 502 M_BAD_STATUS/);
      assert.match(
        block,
        /verdict: The appservice rejects the registration's hs_token from here too: its config and the registration file disagree\./,
      );
    });

    it('nothing listens: unreachable from here, and without a homeserver no ping is made', async () => {
      const { item } = await addAppservice(w, { id: 'gone', behaviour: 'dead' });
      const report = await w.service.checkDirectly(item, undefined);
      assert.equal(report.direct?.reachable, false);
      const block = w.output.text.slice(w.output.text.indexOf('Check appservice "gone" directly'));
      assert.match(block, /reachable from this machine: no/);
      assert.match(block, /explanation: The appservice cannot be reached from this machine: Nothing is listening at 127\.0\.0\.1:\d+/);
      assert.match(block, /homeserver ping: not run \(no homeserver chosen for this appservice\)/);
      assert.equal(w.hs.count('POST', /\/ping$/), 0);
    });

    it('url: null: nothing to check, and it says why', async () => {
      const { item } = await addAppservice(w, { id: 'nullurl', url: null });
      const report = await w.service.checkDirectly(item, w.hs.baseUrl);
      assert.ok(report.notChecked);
      assert.match(
        w.output.text,
        /url: null\n.*outcome: not checked\n.*explanation: The registration has url: null: the homeserver never contacts this appservice \(receive-only\)/,
      );
    });
  });
});
