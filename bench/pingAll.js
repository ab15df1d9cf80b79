// Ping All scaling: the extension's AppservicePingService (the code behind
// "Ping All Appservices", run on plain Node like its unit tests) over 1, 10 and
// 100 registrations, each pinged through the test homeserver to one appservice
// that answers every ping after 50 ms. The homeserver and the appservice run in
// a process of their own (bench/support/pingAllServers.js), as they do for a
// user. Wall time vs the ideal ceil(n / concurrency) × 50 ms. And the doctor:
// Diagnose All (AppserviceDoctorService) over 20 of them vs 20 pings one after
// the other.
'use strict';
const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { times } = require('./support/format');

const out = (m) => require(path.resolve(__dirname, '../out', m));
const DELAY_MS = 50;
const CONCURRENCY = 4; // the matrixDevtools.pingAllConcurrency default

/** A fresh homeserver and slow appservice in their own process, and a way to ask it things. */
async function servers(oneWayMs = 0) {
  const child = fork(path.join(__dirname, 'support/pingAllServers.js'), [], {
    env: { ...process.env, BENCH_DELAY_MS: String(DELAY_MS), BENCH_ONE_WAY_MS: String(oneWayMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 0;
  child.on('message', ({ id, ok, value, error }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (ok) p.resolve(value);
    else p.reject(new Error(error));
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the servers' process exited (${code})`));
    pending.clear();
  });
  const ask = (op, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });
  const { homeserverUrl, appserviceUrl } = await ask('start');
  return {
    baseUrl: homeserverUrl,
    appserviceUrl,
    registerAppservice: (reg) => ask('register', { reg }),
    requestCount: async () => (await ask('requests')).count,
    stop: () => ask('stop'),
  };
}

/** n registrations on a fresh homeserver, as files in a catalog, and the service that pings them. */
async function world(tmp, n, oneWayMs = 0) {
  const { registrationYaml } = out('test/support/registrationYaml');
  const { InMemoryMemento, InMemorySecretStorage } = out('test/support/memoryStorage');
  const { AppserviceCatalog } = out('src/vscode/appservices/catalog');
  const { AppservicePingService } = out('src/vscode/appservices/pingService');
  const { HttpClient } = out('src/core/http');
  const dir = fs.mkdtempSync(path.join(tmp, `pingall-${n}-`));
  const hs = await servers(oneWayMs);
  const catalog = new AppserviceCatalog(dir);
  const targets = [];
  const regs = [];
  for (let i = 0; i < n; i++) {
    const reg = {
      id: `scale${i}`,
      url: hs.appserviceUrl,
      as_token: `scale_as_${i}`,
      hs_token: `scale_hs_${i}`,
      sender_localpart: `scale${i}bot`,
      namespaces: { users: [{ exclusive: true, regex: `@scale${i}_.*:localhost` }] },
    };
    await hs.registerAppservice(reg);
    regs.push(reg);
    const file = path.join(dir, `scale${i}-registration.yaml`);
    fs.writeFileSync(file, registrationYaml(reg));
    catalog.setFile(file, fs.readFileSync(file, 'utf8'));
    targets.push({ item: catalog.get(`file:${file}`), homeserver: hs.baseUrl });
  }
  const lines = [];
  const sink = { info: (l) => lines.push(l), warn: (l) => lines.push(l), reveal: () => undefined };
  // A window's service: it remembers what discovery found, so its second Ping All sends
  // its first pings while discovery runs again. `newWindow()` is one that remembers nothing.
  const newWindow = () =>
    new AppservicePingService({
      http: () => http1,
      readText: (f) => fs.promises.readFile(f, 'utf8'),
      secrets: InMemorySecretStorage.standalone(),
      state: new InMemoryMemento(),
      output: sink,
      settings: () => ({ pingTimeoutMs: 10_000, concurrency: CONCURRENCY, revealOnFailure: false }),
      knownParse: (file, text) => catalog.parsedIfSame(file, text), // as src/vscode/appservices/index.ts wires it
    });
  const service = newWindow();
  const http1 = new HttpClient();
  const { AppserviceDoctorService } = out('src/vscode/appservices/doctorService');
  const doctor = new AppserviceDoctorService({
    http: () => http1,
    readText: (f) => fs.promises.readFile(f, 'utf8'),
    catalog,
    output: sink,
    settings: () => ({ pingTimeoutMs: 10_000, concurrency: CONCURRENCY, revealOnFailure: false }),
    displayPath: (f) => path.basename(f),
  });
  return { hs, dir, targets, service, newWindow, doctor, lines, floor: rawPings(hs.baseUrl, regs) };
}

/** [wall time in ms, result] of an async call. */
async function timed(fn) {
  const started = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - started) / 1e6, result];
}

/** A Ping All over the world's n targets through `service` (a window), which must find every one OK. */
async function pingAllOk(w, service, n) {
  const summary = await service.pingAll(w.targets);
  if (summary.ok !== n) throw new Error(`Ping All over ${n}: ${summary.ok} ok\n${w.lines.slice(-8).join('\n')}`);
  return summary;
}

/** Diagnose All over 20 registrations (concurrency 4) vs the same 20 pinged one after the other. */
async function doctorVsPings(tmp, runs, row, median) {
  const n = 20;
  const w = await world(tmp, n);
  try {
    const targets = w.targets.map(({ item, homeserver }) => ({ item, homeserver }));
    await w.doctor.diagnoseAll(targets); // warm
    const ratios = [];
    for (let r = 0; r < runs; r++) {
      const [pings] = await timed(async () => {
        for (const t of w.targets) if ((await w.service.ping(t.item, t.homeserver)).outcome !== 'ok') throw new Error('ping failed');
      });
      const [diagnose] = await timed(async () => {
        const done = await w.doctor.diagnoseAll(targets);
        if (done.length !== n) throw new Error(`diagnosed ${done.length} of ${n}`);
      });
      ratios.push(diagnose / pings);
    }
    row(
      'doctor',
      `Diagnose All over ${n} registrations (concurrency ${CONCURRENCY}) / ${n} sequential pings`,
      `${median(ratios).toFixed(2)}×`,
    );
  } finally {
    await w.hs.stop();
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
}

/**
 * The floor for the same pings: one bare http.request per appservice to the
 * homeserver's ping endpoint, `CONCURRENCY` at a time, with a kept-alive agent.
 * Measured in the same rounds as Ping All, so machine load cancels out of the ratio.
 */
function rawPings(hsUrl, regs) {
  const agent = new http.Agent({ keepAlive: true });
  const one = (reg) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ transaction_id: `floor-${Math.random()}` });
      const req = http.request(
        `${hsUrl}/_matrix/client/v1/appservice/${reg.id}/ping`,
        { method: 'POST', agent, headers: { Authorization: `Bearer ${reg.as_token}`, 'Content-Type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`floor ping ${reg.id}: ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return async () => {
    let next = 0;
    const worker = async () => {
      while (next < regs.length) await one(regs[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, regs.length) }, worker));
  };
}

/**
 * A workspace with 100 registration files, read one by one as the file watcher
 * reports them: each file changes the conflicts between all of them (same id,
 * tokens, overlapping exclusive namespaces). Against parsing the same files
 * alone. Fresh ids in every round, so no round reuses another's answers.
 */
function catalogScale(runs, row, median) {
  const { AppserviceCatalog } = out('src/vscode/appservices/catalog');
  const { parseRegistration } = out('src/core/registration/parse');
  const { registrationYaml } = out('test/support/registrationYaml');
  const n = 100;
  const texts = (round) =>
    Array.from({ length: n }, (_, i) =>
      registrationYaml({
        id: `r${round}as${i}`,
        url: 'http://127.0.0.1:9',
        as_token: `as_${round}_${i}`,
        hs_token: `hs_${round}_${i}`,
        sender_localpart: `r${round}as${i}bot`,
        namespaces: { users: [{ exclusive: true, regex: `@r${round}as${i}_.*:localhost` }] },
      }),
    );
  const ms = (fn) => {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const ratios = [];
  for (let r = 0; r <= runs; r++) {
    const files = texts(r);
    const parse = ms(() => files.forEach((text) => parseRegistration(text)));
    const catalog = new AppserviceCatalog('/');
    const scan = ms(() => files.forEach((text, i) => catalog.setFile(`/ws/as${i}-registration.yaml`, text)));
    if (r > 0) ratios.push(scan / parse); // round 0 warms the parser and the valid-id automata
  }
  row('catalog', `${n} registration files read one by one (conflicts after each) / parsing them alone`, `${median(ratios).toFixed(2)}×`);

  // One file saved again in a workspace of n (what each save in the editor costs): all its conflicts checked again.
  const files = texts('saved');
  const catalog = new AppserviceCatalog('/');
  catalog.replaceFiles(files.map((text, i) => [`/ws/as${i}-registration.yaml`, text]));
  const saves = [];
  for (let r = 0; r <= runs; r++) {
    const picked = Array.from({ length: 10 }, (_, k) => (r * 10 + k) % n);
    const parse = ms(() => picked.forEach((i) => parseRegistration(files[i])));
    const save = ms(() => picked.forEach((i) => catalog.setFile(`/ws/as${i}-registration.yaml`, files[i])));
    if (r > 0) saves.push(save / parse);
  }
  row('catalog', `one registration file saved among ${n} (its conflicts checked again) / parsing it alone`, `${median(saves).toFixed(2)}×`);
}

/**
 * What remembering discovery is for: a homeserver that is not on this machine.
 * Through a proxy that holds each direction ONE_WAY_MS, the second Ping All of
 * a window (its pings sent while discovery runs again) against the first
 * (discovery, then the pings), in alternating order.
 */
async function farHomeserver(tmp, runs, row, median) {
  const oneWayMs = 10;
  const n = 1;
  const w = await world(tmp, n, oneWayMs);
  try {
    const wall = async (service) => (await timed(() => pingAllOk(w, service, n)))[0];
    await wall(w.service); // warm, and remembers the homeserver
    const ratios = [];
    for (let r = 0; r < runs; r++) {
      const fresh = w.newWindow();
      if (r % 2) {
        const again = await wall(w.service);
        ratios.push(again / (await wall(fresh)));
      } else {
        const first = await wall(fresh);
        ratios.push((await wall(w.service)) / first);
      }
    }
    row(
      'ping all',
      `1 appservice on a homeserver ${2 * oneWayMs} ms away (a proxy holding each direction ${oneWayMs} ms): a window's second Ping All / its first`,
      `${median(ratios).toFixed(2)}×`,
    );
  } finally {
    await w.hs.stop();
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
}

module.exports = async function pingAll({ tmp, runs, row, median }) {
  catalogScale(runs, row, median);
  await doctorVsPings(tmp, runs, row, median);
  await farHomeserver(tmp, runs, row, median);
  for (const n of [1, 10, 100]) {
    const w = await world(tmp, n);
    try {
      const ideal = Math.ceil(n / CONCURRENCY) * DELAY_MS;
      await w.service.pingAll(w.targets); // warm: discovery, /versions, first connections
      await w.floor();
      const requestsBefore = await w.hs.requestCount();
      const ratios = [];
      const overFloor = [];
      const firstInWindow = [];
      let firstRequests = 0;
      for (let r = 0; r < runs; r++) {
        const [floorMs] = await timed(w.floor);
        const [ms] = await timed(() => pingAllOk(w, w.service, n));
        ratios.push(ms / ideal);
        overFloor.push(ms / floorMs);
        // The first Ping All of a window: nothing remembered, so its first pings wait for discovery.
        const fresh = w.newWindow();
        const before = await w.hs.requestCount();
        const [firstMs] = await timed(() => pingAllOk(w, fresh, n));
        firstRequests += (await w.hs.requestCount()) - before;
        firstInWindow.push(firstMs / ideal);
      }
      const ratio = median(ratios);
      // Why a ping costs more than its 50 ms: every request the homeserver saw for one ping (the floor's: 1).
      const perPing = (((await w.hs.requestCount()) - requestsBefore - firstRequests - runs * n) / (runs * n)).toFixed(1);
      row(
        'ping all',
        `${n} appservice${n === 1 ? '' : 's'}: Ping All / the same pings as bare http.request calls, ${CONCURRENCY} at a time (same rounds)`,
        `${median(overFloor).toFixed(2)}×`,
      );
      row(
        'ping all',
        `${n} appservice${n === 1 ? '' : 's'} answering after ${DELAY_MS} ms, concurrency ${CONCURRENCY}: wall / ceil(n/${CONCURRENCY})×${DELAY_MS} ms (${ideal} ms)`,
        `${times(ratio, 1.2)} (${perPing} homeserver requests per ping)`,
        '≤ 1.2×',
        ratio <= 1.2,
      );
      const first = median(firstInWindow);
      row(
        'ping all',
        `${n} appservice${n === 1 ? '' : 's'}, the first Ping All of a window (discovery before the first pings): wall / ${ideal} ms`,
        `${times(first, 1.2)} (${(firstRequests / (runs * n)).toFixed(1)} homeserver requests per ping)`,
        '≤ 1.2×',
        first <= 1.2,
      );
    } finally {
      await w.hs.stop();
      fs.rmSync(w.dir, { recursive: true, force: true });
    }
  }
};
