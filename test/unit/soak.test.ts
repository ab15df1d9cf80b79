// A soak test: 20 accounts whose access tokens live 2 s, rotating continuously
// (both windows' timers on) while 50 concurrent callers make requests through
// two windows, each window runs Refresh Accounts every second, and each
// window starts a Ping All every second (the command's core: every appservice
// of the window's catalog through the homeserver the accounts are on, a fake
// appservice on loopback answering the homeserver's half of each ping), all
// against the test homeserver on loopback. Counted: every request succeeded,
// exactly one /refresh per rotation (no refresh token refreshed twice, none
// refused), every Ping All came back with a result for every appservice, no
// session lost, and nothing left running after the windows are disposed.
// MATRIX_DEVTOOLS_SOAK_MS makes it run longer (default 8 s, to stay within
// ~20 s in `npm test`).
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { whoami } from '../../src/core/session';
import { AppserviceCatalog } from '../../src/vscode/appservices/catalog';
import { homeserverChoices, HomeserverMemory, pingAllTargets } from '../../src/vscode/appservices/homeservers';
import { AppservicePingService, type PingAllSummary } from '../../src/vscode/appservices/pingService';
import { type FakeAppservice, startFakeAppservice } from '../support/appservice';
import { CountingTimers } from '../support/countingTimers';
import { type RegistrationObject, TestHomeserver } from '../support/homeserver';
import { InMemoryMemento } from '../support/memoryStorage';
import { registrationYaml } from '../support/registrationYaml';
import { assertOneSentence, recordFigures } from '../support/reliabilityFigures';
import { TestWindow, TestWorld } from './accountsHarness';
import { RecordingOutput } from './appserviceFixtures';

const ACCOUNTS = 20;
const CALLERS = 50;
const LIFETIME_MS = 2_000;
const SOAK_MS = Number(process.env.MATRIX_DEVTOOLS_SOAK_MS ?? 8_000);
const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
/** Registration files in the workspace; the rest are settings entries whose as_token is in the secret store. */
const APPSERVICE_FILES = 4;
const APPSERVICE_ENTRIES = 2;
const APPSERVICES = APPSERVICE_FILES + APPSERVICE_ENTRIES;
const PING_ALL_EVERY_MS = 1_000;
const PING = /^\/_matrix\/client\/v1\/appservice\/[^/]+\/ping$/;

/** One window's Appservices feature, wired as src/vscode/appservices/index.ts wires it. */
interface PingWindow {
  catalog: AppserviceCatalog;
  memory: HomeserverMemory;
  pings: AppservicePingService;
  output: RecordingOutput;
}

async function openAppservices(w: TestWindow, dir: string, regs: RegistrationObject[]): Promise<PingWindow> {
  const catalog = new AppserviceCatalog(dir);
  const workspaceState = new InMemoryMemento();
  const memory = new HomeserverMemory(workspaceState);
  const output = new RecordingOutput();
  const pings = new AppservicePingService({
    http: () => w.http,
    readText: (f) => fs.readFile(f, 'utf8'),
    secrets: w.secrets,
    state: workspaceState,
    output,
    settings: () => ({ pingTimeoutMs: 10_000, concurrency: 4, revealOnFailure: true }),
  });
  const files = regs.slice(0, APPSERVICE_FILES);
  catalog.replaceFiles(
    await Promise.all(
      files.map(async (r): Promise<[string, string]> => [
        path.join(dir, `${r.id}.yaml`),
        await fs.readFile(path.join(dir, `${r.id}.yaml`), 'utf8'),
      ]),
    ),
  );
  catalog.setEntries(regs.slice(APPSERVICE_FILES).map((r) => ({ id: r.id })));
  // The homeserver each one is pinged through: the one the signed-in accounts are on, as the command's picker offers it.
  const signedIn = w.manager
    .accounts()
    .filter((a) => a.displayState !== 'signedOut' && a.displayState !== 'needsSignIn')
    .map((a) => ({ userId: a.userId, homeserverUrl: a.homeserverUrl }));
  const choices = homeserverChoices(signedIn);
  assert.equal(choices.length, 1, `homeserver choices: ${JSON.stringify(choices)}`);
  for (const item of catalog.items()) await memory.remember(item.key, choices[0].homeserverUrl);
  return { catalog, memory, pings, output };
}

/** Timers, sockets, file requests... this process has open, by kind. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

describe('soak: short-lived tokens rotating under load', function () {
  this.timeout(SOAK_MS + 40_000);

  it(`${ACCOUNTS} accounts with ${LIFETIME_MS / 1000}-s tokens, ${CALLERS} concurrent callers, Refresh Accounts and Ping All (${APPSERVICES} appservices) every second in two windows`, async () => {
    // After one turn: mocha arms this test's own timeout timer again once the function returned its promise.
    await new Promise((r) => setImmediate(r));
    const before = activeResources();
    // MaxListenersExceededWarning and the like: 20 accounts once put 20
    // listeners on Refresh Accounts' one cancellation signal.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const users = Array.from({ length: ACCOUNTS }, (_, i) => ({ localpart: `soak${i}`, password: `pw-${i}-soak` }));
    const hs = await TestHomeserver.start({ users, accessTokenLifetimeMs: LIFETIME_MS });
    const world = await TestWorld.create();
    const timers = new CountingTimers();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-soak-'));
    const fakes: FakeAppservice[] = [];
    const pingWindows: PingWindow[] = [];
    try {
      const regs: RegistrationObject[] = [];
      for (let i = 0; i < APPSERVICES; i++) {
        const id = `soakbridge${i}`;
        const hsToken = `hs_soak_${randomBytes(12).toString('hex')}`;
        const fake = await startFakeAppservice({ hsToken });
        fakes.push(fake);
        const reg: RegistrationObject = {
          id,
          url: fake.url,
          as_token: `as_soak_${randomBytes(12).toString('hex')}`,
          hs_token: hsToken,
          sender_localpart: `${id}bot`,
          namespaces: { users: [{ exclusive: true, regex: `@${id}_.*:localhost` }] },
        };
        hs.registerAppservice(reg);
        if (i < APPSERVICE_FILES) await fs.writeFile(path.join(dir, `${id}.yaml`), registrationYaml(reg));
        regs.push(reg);
      }

      const windows: TestWindow[] = [
        await world.openWindow({ autoRotate: true, timers }),
        await world.openWindow({ autoRotate: true, timers }),
      ];
      const ids: string[] = [];
      for (const u of users) {
        const w = windows[ids.length % 2];
        w.prompts.inputs.push(hs.baseUrl, u.localpart, u.password);
        w.prompts.picks.push('password');
        const view = await w.flows.addAccount();
        assert.ok(view, JSON.stringify(w.prompts.notifications));
        ids.push(view.id);
      }
      for (const w of windows) pingWindows.push(await openAppservices(w, dir, regs));
      // Set Appservice Token for the settings entries: secret writes into the keychain the rotations write to.
      for (const r of regs.slice(APPSERVICE_FILES)) await pingWindows[1].pings.setAsToken(r.id, r.as_token);
      const refreshesBefore = hs.count('POST', REFRESH);
      const pingsBefore = hs.count('POST', PING);

      let stop = false;
      let ok = 0;
      const failures: string[] = [];
      const caller = async (n: number) => {
        for (let i = n; !stop; i += CALLERS) {
          const w = windows[i % 2];
          const id = ids[(i * 7) % ACCOUNTS];
          try {
            await w.manager.withAccessToken(id, (tk) => whoami(w.http, hs.baseUrl, tk));
            ok++;
          } catch (e) {
            failures.push(e instanceof Error ? e.message : String(e));
          }
        }
      };
      const refreshAccounts = async (w: TestWindow) => {
        let runs = 0;
        while (!stop) {
          await w.flows.recheckAccounts();
          runs++;
          await new Promise((r) => setTimeout(r, 1_000));
        }
        return runs;
      };
      /** One Ping All started every second (right away when the last one took longer). */
      const pingAllEverySecond = async (p: PingWindow) => {
        const summaries: PingAllSummary[] = [];
        while (!stop) {
          const began = Date.now();
          summaries.push(await p.pings.pingAll(pingAllTargets(p.catalog.items(), p.memory)));
          await new Promise((r) => setTimeout(r, Math.max(0, PING_ALL_EVERY_MS - (Date.now() - began))));
        }
        return summaries;
      };
      const started = Date.now();
      const calling = Promise.all(Array.from({ length: CALLERS }, (_, n) => caller(n)));
      const refreshing = Promise.all(windows.map(refreshAccounts));
      const pinging = Promise.all(pingWindows.map(pingAllEverySecond));
      await new Promise((r) => setTimeout(r, SOAK_MS));
      stop = true;
      const [, [refreshRuns], pingAlls] = await Promise.all([calling, refreshing, pinging]);
      const elapsed = Date.now() - started;

      const refreshes = hs.requests.filter((r) => r.method === 'POST' && REFRESH.test(r.path)).slice(refreshesBefore);
      const rotations = refreshes.length;
      for (const f of failures) assertOneSentence(f);
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} requests failed`);
      assert.ok(ok >= CALLERS, `only ${ok} requests in ${elapsed} ms`);
      assert.ok(refreshRuns >= Math.max(1, Math.floor(SOAK_MS / 3_000)), `Refresh Accounts ran ${refreshRuns} times`);
      assert.deepEqual(
        refreshes.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.errcode ?? ''}`),
        [],
        'a /refresh was refused: two rotations raced',
      );
      assert.equal(hs.repeatedRefreshes(), 0, 'a refresh token was refreshed twice: one rotation sent two /refresh');
      // Rotated at half the lifetime (usableMargin), not on every call: about one rotation per account per second.
      const seconds = elapsed / 1000;
      assert.ok(rotations >= ACCOUNTS * Math.floor(seconds / 2), `${rotations} rotations in ${seconds} s: tokens expired unrotated`);
      assert.ok(rotations <= ACCOUNTS * (Math.ceil(seconds) + 2), `${rotations} rotations in ${seconds} s: rotated far more than needed`);

      // Every Ping All answered for every appservice, each ping sent once and answered by its appservice.
      const summaries = pingAlls.flat();
      const incomplete = pingAlls.flatMap((runs, w) =>
        runs.flatMap((s, n) => {
          const where = `window ${w + 1}, Ping All ${n + 1}`;
          const keys = new Set(s.reports.map((r) => r.appserviceKey));
          const notOk = s.reports
            .filter((r) => r.outcome !== 'ok')
            .map((r) => `${where}: "${r.appserviceId}" ${r.outcome}: ${r.result.summary}`);
          return keys.size === APPSERVICES && s.reports.length === APPSERVICES
            ? notOk
            : [`${where}: ${s.reports.length} results for ${keys.size} of ${APPSERVICES} appservices`, ...notOk];
        }),
      );
      assert.deepEqual(incomplete, [], 'a Ping All did not come back with a good result for every appservice');
      for (const runs of pingAlls) {
        assert.ok(
          runs.length >= Math.floor(SOAK_MS / PING_ALL_EVERY_MS) - 1,
          `a window ran Ping All ${runs.length} times in ${elapsed} ms`,
        );
      }
      const pings = summaries.reduce((n, s) => n + s.reports.length, 0);
      assert.equal(hs.count('POST', PING) - pingsBefore, pings, 'pings sent ≠ results reported');
      assert.equal(
        fakes.reduce((n, f) => n + f.calls.length, 0),
        pings,
        'the appservices were not called once per ping',
      );
      const prompts = windows.flatMap((w) => w.prompts.notifications.filter((n) => n.kind !== 'info'));
      assert.deepEqual(prompts, [], 'the user was warned about something');
      assert.deepEqual(
        windows.flatMap((w) => w.endedEvents),
        [],
        'a session ended',
      );

      // A reloaded window: every session still works.
      for (const w of windows) w.dispose();
      const reloaded = await world.openWindow({ timers });
      let lost = 0;
      for (const id of ids) {
        try {
          await reloaded.manager.withAccessToken(id, (tk) => whoami(reloaded.http, hs.baseUrl, tk));
        } catch {
          lost++;
        }
      }
      assert.equal(lost, 0, `${lost} sessions lost`);
      recordFigures({ requests: ok + failures.length, rotations, pingAllRuns: summaries.length, pings, sessionsLost: lost });
    } finally {
      process.off('warning', onWarning);
      for (const p of pingWindows) {
        p.pings.dispose();
        p.catalog.dispose();
      }
      await world.dispose();
      await hs.stop();
      await Promise.all(fakes.map((f) => f.stop()));
      await fs.rm(dir, { recursive: true, force: true });
    }
    assert.deepEqual(warnings, [], 'Node warned while the soak ran');
    // The model's own timers (rotation schedule, waits): none may outlive dispose,
    // including a wait an event handler asks for while the window is going away.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(timers.pending(), [], 'timers of the account model left after dispose');

    // Nothing the windows started may still be pending: no timer, no lock
    // heartbeat, no socket. Closed sockets leave the list a few ticks after the
    // server closed them, so this waits a little; a 1-s wait started after
    // dispose (what an earlier run found: Waits.wait from onSecretChanged) would not.
    const grown = () =>
      [...activeResources()]
        .filter(([kind, n]) => n > (before.get(kind) ?? 0))
        .map(([kind, n]) => `${kind}: ${before.get(kind) ?? 0} → ${n}`);
    // Polled with setImmediate: a setTimeout here would count itself.
    for (const until = Date.now() + 300; Date.now() < until && grown().length > 0;) await new Promise((r) => setImmediate(r));
    assert.deepEqual(grown(), [], 'handles left after dispose');
  });
});
