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
import { TestHomeserver } from '../support/homeserver';
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

  it('ignores a damaged stored value instead of failing to start', () => {
    const state = new InMemoryMemento();
    void state.update('matrixDevtools.doctor.lastRuns', [{ appserviceKey: 'x' }, 'garbage', null]);
    const s = service(new AppserviceCatalog(dir), state);
    assert.equal(s.last('x'), undefined);
    void state.update('matrixDevtools.doctor.lastRuns', { not: 'a list' });
    assert.equal(service(new AppserviceCatalog(dir), state).last('x'), undefined);
  });
});
