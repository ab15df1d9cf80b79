// Ping Appservice and Ping All in a real extension host: a Synapse-like
// homeserver and fake appservices on loopback, registration files in the
// workspace, and what the user then reads (notification, output block, tree).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { PingAllSummary, PingReport } from '../../src/vscode/appservices/pingService';
import { type FakeAppserviceBehaviour, freePort } from '../support/appservice';
import type { TestHomeserver } from '../support/homeserver';
import {
  addRegistration,
  fakeAppservice,
  field,
  lastBlock,
  loadedItem,
  node,
  pingHead,
  registration,
  renderedItemFor,
  setSetting,
  settle,
  testFolder,
  typeHomeserverWhenAsked,
  useHomeserver,
} from './support/appservices';
import { type Api, extensionApi, runCommand, scriptPrompts, startHomeserver } from './support/host';

const PING_TIMEOUT_MS = 300;

async function homeserver(options: Parameters<typeof startHomeserver>[0] = {}): Promise<TestHomeserver> {
  const hs = await startHomeserver(options);
  hs.setPingTimeoutMs(PING_TIMEOUT_MS);
  return hs;
}

const pingRequests = (hs: TestHomeserver) => hs.requests.filter((r) => r.method === 'POST' && /\/appservice\/[^/]+\/ping$/.test(r.path));

describe('Ping Appservice in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('asks for the homeserver once, then reports a healthy appservice with the duration and "ok"', async () => {
    const hs = await homeserver();
    const reg = registration('healthy', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'healthy'), reg);
    const prompts = await scriptPrompts();
    typeHomeserverWhenAsked(prompts);
    // Other registrations may be in the workspace: then the user picks this one first.
    prompts.picks.push(reg.id);
    prompts.inputs.push(hs.baseUrl);

    const from = api.appservices.outputLines().length;
    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice');

    assert.deepStrictEqual(
      prompts.inputBoxes.map((b) => b.title),
      [`Homeserver for appservice "${reg.id}"`],
    );
    assert.strictEqual(api.appservices.memory.get(item.key), hs.baseUrl, 'the chosen homeserver is remembered');
    assert.strictEqual(report.outcome, 'ok', JSON.stringify(report.result));
    const duration = report.result.durationMs;
    assert.strictEqual(typeof duration, 'number');
    assert.deepStrictEqual(prompts.notifications, [
      { kind: 'info', message: `"${reg.id}": The homeserver reached the appservice in ${duration} ms.`, actions: [] },
    ]);

    const block = lastBlock(api, pingHead(reg.id), from);
    assert.strictEqual(field(block, 'homeserver'), hs.baseUrl);
    assert.strictEqual(field(block, 'endpoint'), `stable — POST /_matrix/client/v1/appservice/${reg.id}/ping`);
    assert.strictEqual(field(block, 'outcome'), 'OK (HTTP 200)');
    assert.strictEqual(field(block, 'duration_ms'), `${duration} ms (homeserver → appservice → homeserver, measured by the homeserver)`);
    assert.match(field(block, 'client round trip') ?? '', /^\d+ ms \(this machine → homeserver → appservice → back\)$/);
    assert.strictEqual(field(block, 'explanation'), `The homeserver reached the appservice in ${duration} ms.`);
    assert.strictEqual(field(block, 'next step'), undefined, 'a healthy ping has nothing to fix');

    // The homeserver really called the appservice, with the hs_token and our transaction id.
    const txn = field(block, 'transaction id');
    assert.ok(txn);
    assert.deepStrictEqual(fake.calls, [{ authorization: `Bearer ${reg.hs_token}`, body: { transaction_id: txn } }]);

    // The tree shows the result.
    const tree = await renderedItemFor(api, item);
    assert.strictEqual(tree.label, reg.id);
    assert.strictEqual(tree.description, `${new URL(hs.baseUrl).host} · ok ${duration} ms`);
    assert.strictEqual(tree.icon, 'pass');
    assert.match(tree.tooltip ?? '', new RegExp(`Last ping .*: The homeserver reached the appservice in ${duration} ms\\.`));

    // A second ping goes straight to the remembered homeserver, from the view's item.
    await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));
    assert.strictEqual(prompts.inputBoxes.length, 1, 'no second homeserver question');
    assert.strictEqual(pingRequests(hs).length, 2);
    assert.strictEqual(fake.calls.length, 2);
  });

  const failures: Array<{
    title: string;
    behaviour: FakeAppserviceBehaviour | 'dead port';
    status: number;
    errcode: string;
    summary: string;
    nextStep: RegExp;
    homeserverSaid?: RegExp;
    appserviceAnswered?: RegExp;
  }> = [
    {
      title: 'explains a dead port (M_CONNECTION_FAILED)',
      behaviour: 'dead port',
      status: 502,
      errcode: 'M_CONNECTION_FAILED',
      summary: 'The homeserver could not connect to the appservice (M_CONNECTION_FAILED).',
      nextStep:
        /^Check the registration's url: is the appservice running, on that host and port, and reachable from the homeserver \(inside Docker, localhost means the homeserver's own container\)\?$/,
      homeserverSaid: /Connection refused/,
    },
    {
      title: 'explains an appservice that answers HTTP 500 (M_BAD_STATUS)',
      behaviour: 'status500',
      status: 502,
      errcode: 'M_BAD_STATUS',
      summary: 'The appservice answered the homeserver with HTTP 500 (M_BAD_STATUS).',
      nextStep: /^Look at the appservice's logs for the error behind that answer\.$/,
      appserviceAnswered: /^HTTP 500: \{"errcode":"M_UNKNOWN","error":"Internal server error"\}$/,
    },
    {
      title: 'explains an appservice without ping support (M_BAD_STATUS 404)',
      behaviour: 'status404',
      status: 502,
      errcode: 'M_BAD_STATUS',
      summary: 'The appservice answered the homeserver with HTTP 404 (M_BAD_STATUS).',
      nextStep: /does not implement POST \/_matrix\/app\/v1\/ping/,
      appserviceAnswered: /^HTTP 404: /,
    },
    {
      title: "explains an appservice that rejects the homeserver's hs_token (M_BAD_STATUS 403)",
      behaviour: 'reject-token',
      status: 502,
      errcode: 'M_BAD_STATUS',
      summary: 'The appservice answered the homeserver with HTTP 403 (M_BAD_STATUS).',
      nextStep: /^The appservice rejected the homeserver's hs_token: make the hs_token in the appservice's config match/,
      appserviceAnswered: /^HTTP 403: .*Bad token supplied by homeserver/,
    },
    {
      title: 'explains an appservice that accepts the connection and never answers (M_CONNECTION_TIMEOUT)',
      behaviour: 'hang',
      status: 504,
      errcode: 'M_CONNECTION_TIMEOUT',
      summary: 'The appservice accepted the connection but did not answer in time (M_CONNECTION_TIMEOUT).',
      nextStep: /^The appservice is running but stuck or overloaded/,
      homeserverSaid: /Timeout waiting for response/,
    },
  ];

  for (const f of failures) {
    it(f.title, async () => {
      const hs = await homeserver();
      const reg = registration(f.behaviour.replace(/\s+/g, '-'), null);
      const fake = f.behaviour === 'dead port' ? undefined : await fakeAppservice({ hsToken: reg.hs_token, behaviour: f.behaviour });
      reg.url = fake ? fake.url : `http://127.0.0.1:${await freePort()}`;
      hs.registerAppservice(reg);
      const item = await addRegistration(api, testFolder(api, 'failing'), reg);
      await useHomeserver(api, item, hs);
      const prompts = await scriptPrompts();

      const from = api.appservices.outputLines().length;
      const started = Date.now();
      const report = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));

      assert.strictEqual(report.outcome, 'failed');
      assert.deepStrictEqual(prompts.notifications, [{ kind: 'warning', message: `"${reg.id}": ${f.summary}`, actions: ['Show Output'] }]);
      const block = lastBlock(api, pingHead(reg.id), from);
      assert.strictEqual(field(block, 'outcome'), `failed: HTTP ${f.status} ${f.errcode}`);
      assert.strictEqual(field(block, 'explanation'), f.summary);
      assert.match(field(block, 'next step') ?? '', f.nextStep);
      if (f.homeserverSaid) assert.match(field(block, 'homeserver said') ?? '', f.homeserverSaid);
      if (f.appserviceAnswered) assert.match(field(block, 'appservice answered the homeserver') ?? '', f.appserviceAnswered);
      assert.strictEqual(pingRequests(hs).length, 1, 'a failed ping is never retried');
      if (fake) assert.strictEqual(fake.calls.length, 1);
      if (f.behaviour === 'hang') {
        assert.ok(Date.now() - started >= PING_TIMEOUT_MS, 'the answer came from the homeserver after its ping timeout');
      }

      const tree = await renderedItemFor(api, item);
      assert.strictEqual(tree.description, `${new URL(hs.baseUrl).host} · ${f.errcode}`);
      assert.strictEqual(tree.icon, 'error');
    });
  }

  it('explains a receive-only registration (url: null → M_URL_NOT_SET)', async () => {
    const hs = await homeserver();
    const reg = registration('url-null', null);
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'url-null'), reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;

    await runCommand('matrixDevtools.pingAppservice', node(item));

    const summary = 'The registration has url: null, so the homeserver never contacts this appservice (M_URL_NOT_SET).';
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${summary}`]],
    );
    const block = lastBlock(api, pingHead(reg.id), from);
    assert.strictEqual(field(block, 'outcome'), 'failed: HTTP 400 M_URL_NOT_SET');
    assert.strictEqual(field(block, 'explanation'), summary);
    assert.match(
      field(block, 'next step') ?? '',
      /^That is right for a receive-only appservice; otherwise set url in the registration and restart the homeserver\.$/,
    );
  });

  it('explains an as_token the homeserver does not know (registration not loaded)', async () => {
    const hs = await homeserver();
    const reg = registration('unknown-token', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    // The file is in the workspace, but this homeserver never loaded it.
    const item = await addRegistration(api, testFolder(api, 'unknown-token'), reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;

    await runCommand('matrixDevtools.pingAppservice', node(item));

    const summary = 'The homeserver does not know this as_token (M_UNKNOWN_TOKEN).';
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${summary}`]],
    );
    const block = lastBlock(api, pingHead(reg.id), from);
    assert.strictEqual(field(block, 'outcome'), 'failed: HTTP 401 M_UNKNOWN_TOKEN');
    assert.match(
      field(block, 'next step') ?? '',
      /^Make sure the homeserver loads this registration file \(Synapse: app_service_config_files\) and was restarted after it changed/,
    );
    assert.strictEqual(fake.calls.length, 0, 'the homeserver never called the appservice');
  });

  it('says the homeserver is too old and sends no ping when /versions advertises none', async () => {
    const hs = await homeserver({ pingEndpoint: 'none' });
    const reg = registration('old-hs', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'old-hs'), reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;

    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));

    const summary = `${hs.baseUrl} does not support appservice ping: its /versions lists spec versions up to v1.6 and advertises neither fi.mau.msc2659.stable nor fi.mau.msc2659, so no ping was sent.`;
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${summary}`]],
    );
    assert.strictEqual(report.sent, false);
    assert.strictEqual(pingRequests(hs).length, 0, 'no doomed ping request');
    assert.ok(hs.count('GET', '/_matrix/client/versions') >= 1, 'it asked /versions first');
    assert.strictEqual(fake.calls.length, 0);
    const block = lastBlock(api, pingHead(reg.id), from);
    assert.strictEqual(field(block, 'outcome'), 'not sent');
    assert.strictEqual(field(block, 'transaction id'), undefined);
    assert.match(field(block, 'next step') ?? '', /^Appservice ping needs Matrix v1\.7 \(Synapse 1\.84 or later\)/);
  });

  it('explains the 404 of a homeserver that advertises ping but does not serve it, and does not retry', async () => {
    const hs = await homeserver();
    hs.setPingEndpoint('none', { 'fi.mau.msc2659.stable': true });
    const reg = registration('no-route', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'no-route'), reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;

    await runCommand('matrixDevtools.pingAppservice', node(item));

    const summary = 'The homeserver does not support appservice ping (HTTP 404 M_UNRECOGNIZED).';
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${summary}`]],
    );
    assert.deepStrictEqual(
      pingRequests(hs).map((r) => [r.path, r.status]),
      [[`/_matrix/client/v1/appservice/${reg.id}/ping`, 404]],
    );
    assert.match(
      field(lastBlock(api, pingHead(reg.id), from), 'next step') ?? '',
      /upgrade the homeserver, or use Check Appservice Directly/,
    );
  });

  it('uses the MSC2659 path on a homeserver that has only the unstable ping', async () => {
    const hs = await homeserver({ pingEndpoint: 'unstable' });
    const reg = registration('unstable', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'unstable'), reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;

    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));

    const unstablePath = `/_matrix/client/unstable/fi.mau.msc2659/appservice/${reg.id}/ping`;
    assert.deepStrictEqual(
      pingRequests(hs).map((r) => [r.path, r.status]),
      [[unstablePath, 200]],
      'exactly one ping, on the unstable path',
    );
    assert.strictEqual(
      prompts.notifications[0]?.message,
      `"${reg.id}": The homeserver reached the appservice in ${report.result.durationMs} ms.`,
    );
    assert.strictEqual(field(lastBlock(api, pingHead(reg.id), from), 'endpoint'), `MSC2659 (unstable) — POST ${unstablePath}`);
    assert.strictEqual(fake.calls.length, 1);
  });

  it('does not ping with a registration file that cannot be parsed, and says which line is wrong', async () => {
    const hs = await homeserver();
    const reg = registration('broken', 'http://127.0.0.1:9');
    hs.registerAppservice(reg);
    const name = `${reg.id}-registration.yaml`;
    const item = await addRegistration(api, testFolder(api, 'broken'), reg, name);
    await useHomeserver(api, item, hs);
    fs.writeFileSync(item.file ?? '', `id: ${reg.id}\nurl: "http://127.0.0.1:9\n`);
    // Without a parsable id the item is named after its file.
    const broken = await loadedItem(api, item.file ?? '', (i) => !i.registration);
    assert.strictEqual(broken.id, name);
    const prompts = await scriptPrompts();

    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(broken));

    assert.strictEqual(report.sent, false);
    assert.strictEqual(pingRequests(hs).length, 0);
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [
        [
          'warning',
          `"${name}": The registration file cannot be used: This quoted value has no closing quote: add the quote where the value ends. (line 2).`,
        ],
      ],
    );
  });
});

describe('Ping All Appservices in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('pings every appservice and sums up "N ok, M failing" in the notification and the output', async () => {
    const hs = await homeserver();
    const dir = testFolder(api, 'ping-all');
    // Only this test's files: the runner's demo registrations stay out of the count.
    await setSetting('matrixDevtools.registrationGlob', `${path.basename(dir)}/**/*registration*.yaml`);

    const healthy = registration('all-ok', null);
    healthy.url = (await fakeAppservice({ hsToken: healthy.hs_token })).url;
    const down = registration('all-down', `http://127.0.0.1:${await freePort()}`);
    const broken = registration('all-500', null);
    broken.url = (await fakeAppservice({ hsToken: broken.hs_token, behaviour: 'status500' })).url;
    const receiveOnly = registration('all-null', null);
    const orphan = registration('all-nohs', 'http://127.0.0.1:9');
    for (const reg of [healthy, down, broken, receiveOnly]) hs.registerAppservice(reg);
    const items = [];
    for (const reg of [healthy, down, broken, receiveOnly, orphan]) {
      items.push(await addRegistration(api, dir, reg, `${reg.id}-registration.yaml`));
    }
    for (const item of items.slice(0, 4)) await useHomeserver(api, item, hs);
    await settle(api, () => api.appservices.catalog.items().length === 5, 'the catalog lists exactly the five files of this test');

    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;
    const summary = await runCommand<PingAllSummary>('matrixDevtools.pingAllAppservices');

    assert.deepStrictEqual(prompts.notifications, [
      { kind: 'warning', message: '1 ok, 3 failing, 1 without a homeserver — see output', actions: ['Show Output'] },
    ]);
    assert.deepStrictEqual([summary.ok, summary.failing, summary.skipped, summary.cancelled], [1, 3, 1, 0]);
    assert.strictEqual(pingRequests(hs).length, 4, 'one ping each; none for the appservice without a homeserver');

    const outcome = (id: string) => field(lastBlock(api, pingHead(id), from), 'outcome');
    const explanation = (id: string) => field(lastBlock(api, pingHead(id), from), 'explanation');
    assert.strictEqual(outcome(healthy.id), 'OK (HTTP 200)');
    assert.match(explanation(healthy.id) ?? '', /^The homeserver reached the appservice in \d+ ms\.$/);
    assert.strictEqual(outcome(down.id), 'failed: HTTP 502 M_CONNECTION_FAILED');
    assert.strictEqual(explanation(down.id), 'The homeserver could not connect to the appservice (M_CONNECTION_FAILED).');
    assert.strictEqual(outcome(broken.id), 'failed: HTTP 502 M_BAD_STATUS');
    assert.strictEqual(explanation(broken.id), 'The appservice answered the homeserver with HTTP 500 (M_BAD_STATUS).');
    assert.strictEqual(outcome(receiveOnly.id), 'failed: HTTP 400 M_URL_NOT_SET');
    assert.strictEqual(outcome(orphan.id), 'not sent');
    assert.strictEqual(explanation(orphan.id), 'No homeserver is chosen for this appservice.');
    assert.match(field(lastBlock(api, pingHead(orphan.id), from), 'next step') ?? '', /Choose Homeserver for Appservice/);

    // Each item in the tree shows its own last result; the skipped one stays "never pinged".
    assert.match((await renderedItemFor(api, items[0])).description ?? '', /· ok \d+ ms$/);
    assert.match((await renderedItemFor(api, items[1])).description ?? '', /· M_CONNECTION_FAILED$/);
    assert.match((await renderedItemFor(api, items[2])).description ?? '', /· M_BAD_STATUS$/);
    assert.strictEqual((await renderedItemFor(api, items[4])).description, 'no homeserver chosen · never pinged');
  });

  it('says "N ok, 0 failing" as information when everything answers', async () => {
    const hs = await homeserver();
    const dir = testFolder(api, 'ping-all-ok');
    await setSetting('matrixDevtools.registrationGlob', `${path.basename(dir)}/**/*registration*.yaml`);
    const regs = [registration('ok-a', null), registration('ok-b', null)];
    const items = [];
    for (const reg of regs) {
      reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
      hs.registerAppservice(reg);
      const item = await addRegistration(api, dir, reg, `${reg.id}-registration.yaml`);
      await useHomeserver(api, item, hs);
      items.push(item);
    }
    await settle(api, () => api.appservices.catalog.items().length === 2, 'the catalog lists exactly the two files of this test');
    const prompts = await scriptPrompts();

    await runCommand('matrixDevtools.pingAllAppservices');

    assert.deepStrictEqual(prompts.notifications, [{ kind: 'info', message: '2 ok, 0 failing — see output', actions: ['Show Output'] }]);
  });
});
