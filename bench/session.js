// Session-layer benchmarks, in this process against the test homeserver:
// an authenticated request through the rotation layer vs the same request sent
// raw, and 1,000 concurrent callers on an expired access token.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { times } = require('./support/format');

const core = (m) => require(path.resolve(__dirname, '../out/src/core', m));

/** Tokens in memory, as SecretStorage would hold them. */
function memoryStore() {
  const data = new Map();
  return { get: async (id) => data.get(id), set: async (id, tokens) => void data.set(id, tokens), data };
}

module.exports = async function session({ hs, tmp, runs, row, median }) {
  const { HttpClient } = core('http');
  const { loginWithPassword, whoami } = core('session');
  const { TokenRotator } = core('rotation');
  const { FileLock } = core('fileLock');
  const http = new HttpClient();
  const login = await loginWithPassword(http, hs.url, { user: 'alice', password: 'wonderland' });
  const store = memoryStore();
  const account = { id: 'bench-alice', homeserverUrl: hs.url };
  await store.set(account.id, login.tokens ?? login);
  const lockDir = path.join(tmp, 'locks');
  fs.mkdirSync(lockDir, { recursive: true });
  const rotator = new TokenRotator({ http, store, lock: new FileLock(lockDir) });
  const token = (await store.get(account.id)).accessToken;

  const batch = async (fn, n = 100) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const raw = () => whoami(http, hs.url, token);
  const layered = () => rotator.withAccessToken(account, (t) => whoami(http, hs.url, t));
  await batch(raw, 20);
  await batch(layered, 20);
  const ratios = [];
  for (let r = 0; r < runs; r++) {
    // Alternate which goes first, so that neither always meets a warmer server.
    const first = r % 2 ? layered : raw;
    const a = await batch(first);
    const b = await batch(first === raw ? layered : raw);
    ratios.push(first === raw ? b / a : a / b);
  }
  const overhead = median(ratios);
  row(
    'session',
    'whoami through the rotation layer / raw whoami (same HttpClient, 100 sequential, one process)',
    times(overhead, 1.1),
    '≤ 1.1×',
    overhead <= 1.1,
  );

  // 1,000 callers at once on an access token that is past its expiry.
  const callers = 1000;
  const refreshesBefore = hs.server.count('POST', '/_matrix/client/v3/refresh');
  const current = await store.get(account.id);
  await store.set(account.id, { ...current, expiresAt: Date.now() - 1000 });
  const started = process.hrtime.bigint();
  const answers = await Promise.all(Array.from({ length: callers }, () => layered()));
  const allMs = Number(process.hrtime.bigint() - started) / 1e6;
  const refreshes = hs.server.count('POST', '/_matrix/client/v3/refresh') - refreshesBefore;
  const served = answers.filter((a) => a && a.userId).length;
  row(
    'session',
    `${callers} concurrent callers on an expired token: /refresh calls, callers served`,
    `${refreshes}, ${served}`,
    'exactly 1, all',
    refreshes === 1 && served === callers,
  );

  // The floor for the same work: one refresh, then the same number of raw requests at once.
  const floorStarted = process.hrtime.bigint();
  const fresh = await rotator.rotate(account);
  await Promise.all(Array.from({ length: callers }, () => whoami(http, hs.url, fresh.accessToken)));
  const floorMs = Number(process.hrtime.bigint() - floorStarted) / 1e6;
  row(
    'session',
    `the ${callers} callers / one refresh + ${callers} concurrent raw whoami`,
    `${times(allMs / floorMs, 1.2)} (${allMs.toFixed(0)} ms)`,
    '≤ 1.2×',
    allMs / floorMs <= 1.2,
  );
};
