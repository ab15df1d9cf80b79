// Diagnose Appservice's memory: the last diagnosis survives a reload (in
// workspaceState, without tokens) and says when the registration changed
// since. The doctor runs for real against a file on disk; with no homeserver
// its homeserver checks are skipped, and `url: null` skips the direct ones.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClient } from '../../src/core/http';
import { AppserviceCatalog } from '../../src/vscode/appservices/catalog';
import { AppserviceDoctorService } from '../../src/vscode/appservices/doctorService';
import { startFakeAppservice } from '../support/appservice';
import { TestHomeserver } from '../support/homeserver';
import { CHECK_IDS } from '../../src/core/doctor/types';
import { InMemoryMemento } from '../support/memoryStorage';
import { RecordingOutput, registrationYaml } from './appserviceFixtures';

describe('AppserviceDoctorService memory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'doctor-service-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  function service(catalog: AppserviceCatalog, state: InMemoryMemento): AppserviceDoctorService {
    return new AppserviceDoctorService({
      http: () => new HttpClient(),
      readText: (file) => fs.readFile(file, 'utf8'),
      catalog,
      output: new RecordingOutput(),
      settings: () => ({ pingTimeoutMs: 2_000, concurrency: 2, revealOnFailure: false }),
      displayPath: (file) => path.relative(dir, file),
      state,
    });
  }

  it('keeps the last diagnosis across a reload, without tokens, and marks it stale once the file changes', async () => {
    const file = path.join(dir, 'bridge.yaml');
    const asToken = 'as_secret_keep_out_of_state_0123456789';
    await fs.writeFile(file, registrationYaml({ id: 'bridge', url: null, asToken }));
    const catalog = new AppserviceCatalog(dir);
    catalog.setFile(file, await fs.readFile(file, 'utf8'));
    const item = catalog.get(`file:${file}`);
    assert.ok(item?.file);
    const state = new InMemoryMemento();
    const first = service(catalog, state);
    const run = await first.diagnose({ ...item, file: item.file }, undefined);
    assert.equal(first.isStale(item), false);
    first.dispose();

    const reloaded = service(catalog, state);
    assert.deepEqual(reloaded.last(item.key), run, 'the diagnosis did not survive the reload');
    assert.equal(reloaded.isStale(item), false);
    assert.ok(!state.dump().includes(asToken) && !state.dump().includes('hs_secret_bridge'), 'a token reached workspaceState');

    await fs.writeFile(file, registrationYaml({ id: 'bridge', url: null, asToken, senderLocalpart: 'otherbot' }));
    catalog.setFile(file, await fs.readFile(file, 'utf8'));
    const changed = catalog.get(`file:${file}`);
    assert.ok(changed);
    assert.equal(reloaded.isStale(changed), true);

    // Breaking the file also makes the diagnosis of the working one stale.
    catalog.setFile(file, 'id: [broken');
    assert.equal(reloaded.isStale(catalog.get(`file:${file}`)!), true);
  });

  it('Diagnose All finds the homeserver once for all registrations, and each diagnosis still pings it', async () => {
    const hs = await TestHomeserver.start();
    try {
      const catalog = new AppserviceCatalog(dir);
      const targets = [];
      for (let i = 0; i < 4; i++) {
        const file = path.join(dir, `bridge${i}.yaml`);
        const text = registrationYaml({ id: `bridge${i}`, url: null, userRegex: `@bridge${i}_.*:localhost` });
        await fs.writeFile(file, text);
        hs.registerAppservice(file);
        catalog.setFile(file, text);
        targets.push({ item: { ...catalog.get(`file:${file}`)!, file }, homeserver: hs.baseUrl });
      }
      const runs = await service(catalog, new InMemoryMemento()).diagnoseAll(targets);
      assert.equal(runs.length, 4);
      for (const run of runs) {
        assert.equal(run.report.checks.find((c) => c.id === 'as-token')?.status, 'ok', JSON.stringify(run.report.checks));
      }
      assert.equal(hs.count('POST', /\/ping$/), 4, 'every diagnosis pings');
      assert.equal(hs.count('GET', '/_matrix/client/versions'), 1, 'one /versions for the batch, none again for its pings');
    } finally {
      await hs.stop();
    }
  });

  it('checks the appservice from here while the homeserver pings it, and reports the checks in order', async () => {
    const hs = await TestHomeserver.start();
    const hsToken = 'hs_secret_parallel_0123456789';
    const fake = await startFakeAppservice({ hsToken });
    try {
      const file = path.join(dir, 'parallel.yaml');
      const text = registrationYaml({ id: 'parallel', url: fake.url, hsToken, userRegex: '@parallel_.*:localhost' });
      await fs.writeFile(file, text);
      hs.registerAppservice(file);
      const catalog = new AppserviceCatalog(dir);
      catalog.setFile(file, text);
      // The homeserver holds our ping 300 ms before it pings the appservice.
      hs.delay(/\/ping$/, 300);
      const run = await service(catalog, new InMemoryMemento()).diagnose({ ...catalog.get(`file:${file}`)!, file }, hs.baseUrl);
      const status = Object.fromEntries(run.report.checks.map((c) => [c.id, c.status]));
      assert.deepEqual(
        run.report.checks.map((c) => c.id),
        [...CHECK_IDS],
        'every check once, in order',
      );
      for (const id of ['as-token', 'appservice-id', 'homeserver-ping', 'direct-ping', 'transactions']) {
        assert.equal(status[id], 'ok', `${id}: ${JSON.stringify(run.report.checks)}`);
      }
      // Our direct ping and the wrong-token probe reached the appservice before the homeserver's ping did.
      assert.deepEqual(
        fake.calls.map((c) =>
          c.authorization === `Bearer ${hsToken}`
            ? 'hs_token'
            : c.authorization?.startsWith('Bearer mdt_wrong_')
              ? 'wrong'
              : c.authorization,
        ),
        ['hs_token', 'wrong', 'hs_token'],
      );
      assert.equal(fake.transactions.length, 1);
      assert.match(
        run.report.checks.find((c) => c.id === 'direct-ping')!.message,
        /homeserver/i,
        'the direct check compared with the ping',
      );
    } finally {
      await fake.stop();
      await hs.stop();
    }
  });

  it('ignores a damaged stored value instead of failing to start', () => {
    const state = new InMemoryMemento();
    void state.update('matrixDevtools.doctor.lastRuns', [{ appserviceKey: 'x' }, 'garbage', null]);
    const s = service(new AppserviceCatalog(dir), state);
    assert.equal(s.last('x'), undefined);
    void state.update('matrixDevtools.doctor.lastRuns', { not: 'a list' });
    assert.equal(service(new AppserviceCatalog(dir), state).last('x'), undefined);
  });
});
