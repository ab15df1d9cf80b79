// Memory, in a child process with --expose-gc: the heap after adding 100
// password accounts (through Add Account, with automatic rotation on) and 100
// appservices, and running Ping All over them 10 times; then after removing
// every account and registration. Against the heap before any of it, in the
// same process: what is left behind should be about nothing. The homeserver
// and the appservice run in the parent (bench/run.js), so that their records
// are not counted here.
//   node --expose-gc bench/memory.js <hsUrl> <setup.json>   → one JSON line
// setup.json: { users: [localpart], password, registrations: [registration object] }
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const out = (m) => require(path.resolve(__dirname, '../out', m));

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

  const [hsUrl, setupFile] = process.argv.slice(2);
  const setup = JSON.parse(fs.readFileSync(setupFile, 'utf8'));
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
      w.prompts.inputs.push(hsUrl, setup.users[i], setup.password);
      w.prompts.picks.push('Sign in with a password');
      await w.flows.addAccount();
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

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
