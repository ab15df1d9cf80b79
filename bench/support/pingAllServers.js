// The other side of bench/pingAll.js, in its own process as in real use: the
// test homeserver and one appservice process answering every ping after
// DELAY_MS. Ping All's client work and the servers' work then run on their own
// threads (the machine has 2 cores), and neither one's CPU time is charged to
// the other. Driven over the fork IPC channel:
//   { op: 'start' }                     → { homeserverUrl, appserviceUrl }
//       With BENCH_ONE_WAY_MS, homeserverUrl is a TCP proxy that holds every
//       chunk that long in each direction (a homeserver that far away), and the
//       homeserver's .well-known names the proxy, as a real one names itself.
//   { op: 'register', reg }             → {}   (a registration the homeserver loads)
//   { op: 'requests' }                  → { count }   (every request the homeserver saw)
//   { op: 'stop' }                      → {}   and the process exits
'use strict';
const http = require('node:http');
const path = require('node:path');

const { slowLink } = require('./slowLink');
const { TestHomeserver } = require(path.resolve(__dirname, '../../out/test/support/homeserver'));
const DELAY_MS = Number(process.env.BENCH_DELAY_MS) || 50;
const ONE_WAY_MS = Number(process.env.BENCH_ONE_WAY_MS) || 0;

let hs;
let appservice;
let proxy;

async function start() {
  appservice = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'), DELAY_MS));
  });
  await new Promise((r) => appservice.listen(0, '127.0.0.1', r));
  const appserviceUrl = `http://127.0.0.1:${appservice.address().port}`;
  if (!ONE_WAY_MS) {
    hs = await TestHomeserver.start();
    return { homeserverUrl: hs.baseUrl, appserviceUrl };
  }
  proxy = await slowLink(ONE_WAY_MS);
  hs = await TestHomeserver.start({ publicBaseUrl: proxy.url });
  proxy.to(hs.baseUrl);
  return { homeserverUrl: proxy.url, appserviceUrl };
}

const ops = {
  start,
  register: async ({ reg }) => (hs.registerAppservice(reg), {}),
  requests: async () => ({ count: hs.requests.length }),
  stop: async () => {
    await hs.stop();
    await new Promise((r) => appservice.close(r));
    await proxy?.stop();
    return {};
  },
};

process.on('message', async ({ id, op, ...args }) => {
  try {
    process.send({ id, ok: true, value: await ops[op](args) }, () => op === 'stop' && process.exit(0));
  } catch (e) {
    process.send({ id, ok: false, error: e instanceof Error ? e.stack : String(e) });
  }
});
