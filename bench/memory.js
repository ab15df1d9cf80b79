// Memory, in a child process with --expose-gc: the heap after adding 100
// password accounts (through Add Account, with automatic rotation on) and 100
// appservices, and running Ping All over them 10 times; then after removing
// every account and registration. Against the heap before any of it, in the
// same process: what is left behind should be about nothing. The homeserver
// and the appservice run in the parent (bench/run.js), so that their records
// are not counted here.
//   node --expose-gc bench/memory.js <hsUrl> <setup.json>   → one JSON line
// setup.json: { users: [localpart], password, registrations: [registration object] }
//
// With `rotations` after them: one account (the first user) rotated again and
// again instead, a week of 5-minute access tokens, after enough rotations that
// whatever is kept per token (the secrets redaction remembers) is there already.
// The heap should not grow with the number of rotations. bench/run.js starts
// this one with the optimising compilers and bytecode flushing off, so that code
// compiled (up to 1 MB here, and noisy) or flushed (170 KB at once) during the
// run does not count: it measures data. Before redaction was bounded: 139-189 B
// per rotation; after: -19..1 B.
//   node --expose-gc --no-opt --no-sparkplug --no-flush-bytecode bench/memory.js <hsUrl> <setup.json> rotations
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const out = (m) => require(path.resolve(__dirname, '../out', m));
const ROTATIONS_FIRST = 1200;
const ROTATIONS = 2016; // 7 days of 5-minute tokens
const STEP = 288; // one day

/**
 * The bytes of every object a heap snapshot finds reachable: exact where
 * heapUsed, after the same collections, still moves by about 200 KB between
 * two samples here (memory V8 has not handed back, not objects).
 */
async function liveBytes() {
  await heap();
  const chunks = [];
  for await (const chunk of require('node:v8').getHeapSnapshot()) chunks.push(chunk);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const selfSize = fields.indexOf('self_size');
  let total = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i];
  return total;
}

/** Add Account with a password, as a user answers its prompts. */
async function addAccount(w, hsUrl, user, password) {
  w.prompts.inputs.push(hsUrl, user, password);
  w.prompts.picks.push('Sign in with a password');
  await w.flows.addAccount();
}

async function heap() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function main() {
  const { registrationYaml } = out('test/support/registrationYaml');
  const { TestWorld } = out('test/unit/accountsHarness');
  const { InMemoryMemento, InMemorySecretStorage } = out('test/support/memoryStorage');
  const { AppserviceCatalog } = out('src/vscode/appservices/catalog');
  const { AppservicePingService } = out('src/vscode/appservices/pingService');
  const { HttpClient } = out('src/core/http');

  const [hsUrl, setupFile, mode] = process.argv.slice(2);
  const setup = JSON.parse(fs.readFileSync(setupFile, 'utf8'));
  if (mode === 'rotations') return rotations(hsUrl, setup);
  const regs = setup.registrations;
  const N = regs.length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-memory-'));
  const world = await TestWorld.create();
  const w = await world.openWindow({ autoRotate: true });

  const files = regs.map((reg) => {
    const file = path.join(dir, `${reg.id}-registration.yaml`);
    fs.writeFileSync(file, registrationYaml(reg));
    return file;
  });
  const snapshot = (name) =>
    process.env.BENCH_SNAPSHOTS && require('node:v8').writeHeapSnapshot(path.join(process.env.BENCH_SNAPSHOTS, `${name}.heapsnapshot`));

  /** Add every account and appservice, Ping All 10 times, remove them all; the heap when all were there. */
  async function cycle() {
    for (let i = 0; i < N; i++) {
      await addAccount(w, hsUrl, setup.users[i], setup.password);
    }
    const pingHttp = new HttpClient();
    const catalog = new AppserviceCatalog(dir);
    const service = new AppservicePingService({
      http: () => pingHttp,
      readText: (f) => fs.promises.readFile(f, 'utf8'),
      secrets: InMemorySecretStorage.standalone(),
      state: new InMemoryMemento(),
      output: { info: () => undefined, warn: () => undefined, reveal: () => undefined },
      settings: () => ({ pingTimeoutMs: 10_000, concurrency: 4, revealOnFailure: false }),
    });
    for (const file of files) catalog.setFile(file, fs.readFileSync(file, 'utf8'));
    const targets = files.map((f) => ({ item: catalog.get(`file:${f}`), homeserver: hsUrl }));
    for (let r = 0; r < 10; r++) {
      const summary = await service.pingAll(targets);
      if (summary.ok !== N) throw new Error(`Ping All: ${summary.ok} of ${N} ok`);
    }
    const accounts = w.manager.accounts().length;
    const full = await heap();
    for (const a of w.manager.accounts()) {
      w.prompts.answers.push('Remove');
      await w.flows.dialogs.removeAccount(a.id);
    }
    for (const file of files) catalog.removeFile(file);
    service.dispose();
    // What the test harness itself records (log, prompts, session events) is not the product's.
    w.log.lines.length = 0;
    w.prompts.notifications.length = 0;
    w.prompts.inputBoxes.length = 0;
    w.prompts.quickPicks.length = 0;
    w.sessionChanges.length = 0;
    w.endedEvents.length = 0;
    return { accounts, full };
  }

  // The first cycle loads and compiles everything (modules, lazy chunks, JIT code, the
  // namespace answers kept in core/memo.ts); what a second one leaves behind is what leaks.
  const first = await cycle();
  const before = await heap();
  snapshot('before');
  const { accounts, full } = await cycle();
  const after = await heap();
  snapshot('after');
  void first;
  process.stdout.write(`${JSON.stringify({ before, full, after, accounts, left: w.manager.accounts().length })}\n`);
  await world.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The heap every STEP rotations over ROTATIONS rotations of one account's
 * tokens (after ROTATIONS_FIRST), and the growth per rotation: the slope of a
 * least-squares line through them, which a one-off change in the heap between
 * two samples moves much less than it moves their difference.
 */
async function rotations(hsUrl, setup) {
  const { TestWorld } = out('test/unit/accountsHarness');
  const world = await TestWorld.create();
  const w = await world.openWindow({ autoRotate: true });
  await addAccount(w, hsUrl, setup.users[0], setup.password);
  const id = w.manager.accounts()[0].id;
  const rotate = async (times) => {
    for (let i = 0; i < times; i++) await w.manager.rotateNow(id);
    // What the test harness itself records is not the product's.
    w.log.lines.length = 0;
    w.sessionChanges.length = 0;
  };
  await rotate(ROTATIONS_FIRST);
  // Taking a snapshot compiles code of its own, and the heap settles over the next
  // rotations after it: one more step before the first sample.
  await liveBytes();
  await rotate(STEP);
  const samples = [[0, await liveBytes()]];
  for (let done = STEP; done <= ROTATIONS; done += STEP) {
    await rotate(STEP);
    samples.push([done, await liveBytes()]);
  }
  const mean = (f) => samples.reduce((sum, p) => sum + f(p), 0) / samples.length;
  const mx = mean((p) => p[0]);
  const my = mean((p) => p[1]);
  const slope = mean((p) => (p[0] - mx) * (p[1] - my)) / mean((p) => (p[0] - mx) ** 2);
  const heaps = samples.map((p) => p[1]);
  process.stdout.write(`${JSON.stringify({ rotations: ROTATIONS, bytesPerRotation: slope, first: heaps[0], last: heaps.at(-1) })}\n`);
  await world.dispose();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
