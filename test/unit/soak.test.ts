// A soak test: 20 accounts whose access tokens live 2 s, rotating continuously
// (both windows' timers on) while 50 concurrent callers make requests through
// two windows and each window runs Refresh Accounts every second, against the
// test homeserver on loopback. Counted: every request succeeded, exactly one
// /refresh per rotation (no refresh token refreshed twice, none refused), no
// session lost, and nothing left running after the windows are disposed.
// MATRIX_DEVTOOLS_SOAK_MS makes it run longer (default 8 s, to stay within
// ~20 s in `npm test`).
import * as assert from 'node:assert/strict';
import { whoami } from '../../src/core/session';
import { CountingTimers } from '../support/countingTimers';
import { TestHomeserver } from '../support/homeserver';
import { assertOneSentence, recordFigures } from '../support/reliabilityFigures';
import { TestWindow, TestWorld } from './accountsHarness';

const ACCOUNTS = 20;
const CALLERS = 50;
const LIFETIME_MS = 2_000;
const SOAK_MS = Number(process.env.MATRIX_DEVTOOLS_SOAK_MS ?? 8_000);
const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;

/** Timers, sockets, file requests... this process has open, by kind. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

describe('soak: short-lived tokens rotating under load', function () {
  this.timeout(SOAK_MS + 40_000);

  it(`${ACCOUNTS} accounts with ${LIFETIME_MS / 1000}-s tokens, ${CALLERS} concurrent callers and Refresh Accounts every second in two windows`, async () => {
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
    try {
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
      const refreshesBefore = hs.count('POST', REFRESH);

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
      const started = Date.now();
      const running = [...Array.from({ length: CALLERS }, (_, n) => caller(n)), ...windows.map(refreshAccounts)];
      await new Promise((r) => setTimeout(r, SOAK_MS));
      stop = true;
      const [refreshRuns] = (await Promise.all(running)).slice(CALLERS) as number[];
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
      recordFigures({ requests: ok + failures.length, rotations, sessionsLost: lost });
    } finally {
      process.off('warning', onWarning);
      await world.dispose();
      await hs.stop();
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
