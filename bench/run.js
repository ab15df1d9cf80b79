#!/usr/bin/env node
// npm run bench: every benchmark, one table. Each figure is a ratio against a
// baseline measured in the same run: runs of the variants are interleaved (the
// order rotates every round), each ratio is the median of the per-round ratios.
// Everything talks to the repo's test homeserver on loopback.
//
//   node bench/run.js [--runs N] [--readme]
//     --runs N   rounds per comparison (default 9; more for quieter figures)
//     --readme   also write the table into README.md between the bench markers
//     --only a,b only these sections: size, activation, cli, session, oauth, pingall, memory
// Expects `node esbuild.js --production --metafile` and `tsc -p .` first (npm run bench does both).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const esbuild = require('esbuild');
const { times } = require('./support/format');
const { slowLink } = require('./support/slowLink');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** The test homeserver (out/, from `tsc -p .`); loaded when a section needs it. */
const testHomeserver = () => require(path.join(ROOT, 'out/test/support/homeserver')).TestHomeserver;
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) > 0 && args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 9;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'matrix-bench-'));
const rows = [];

function row(section, what, value, goal, ok) {
  rows.push({ section, what, value, goal: goal ?? '', verdict: ok === undefined ? '' : ok ? 'met' : '**missed**' });
  process.stderr.write(`  ${section} | ${what} | ${value}${goal ? ` (goal ${goal}: ${ok ? 'met' : 'MISSED'})` : ''}\n`);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Wall time of one whole process, in ms; rejects when it exits non-zero. */
function timeProcess([cmd, ...argv], env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${[cmd, ...argv].join(' ')} exited ${code}: ${err.slice(0, 400)}`));
    });
  });
}

/** Runs a process to its end without blocking this one (the homeserver lives here); resolves its stdout. */
function output([cmd, ...argv], { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${[cmd, ...argv].join(' ')} exited ${code}: ${err.slice(0, 400)}`)),
    );
    child.stdin.end(input ?? '');
  });
}

/**
 * Runs every variant RUNS times, interleaved; returns per variant the median
 * wall time and the median of its per-round ratio to `variants[0]`.
 */
async function compare(variants) {
  const samples = variants.map(() => []);
  for (let i = 0; i < Math.min(2, variants.length); i++) await timeProcess(variants[i].cmd, variants[i].env); // warm the file cache
  for (let r = 0; r < RUNS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (k + r) % variants.length;
      samples[v].push(await timeProcess(variants[v].cmd, variants[v].env));
    }
  }
  return variants.map((v, i) => ({
    ...v,
    samples: samples[i],
    ms: median(samples[i]),
    ratio: median(samples[i].map((t, r) => t / samples[0][r])),
  }));
}

function bundle(entry, outfile) {
  // The settings esbuild.js uses for dist/, minus our lazy chunks.
  esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'cjs',
    minify: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  return fs.statSync(outfile).size;
}

async function sizes(sdkFlow) {
  const size = (f) => fs.statSync(path.join(DIST, f)).size;
  // extension.js and cli.js load extensionMain.js and cliMain.js through the code cache (src/boot/codeCache.ts).
  const ext = size('extension.js') + size('extensionMain.js');
  row(
    'size',
    'loaded at activation: dist/extension.js + extensionMain.js',
    `${kb(ext)} (${kb(size('extension.js'))} + ${kb(size('extensionMain.js'))})`,
    '≤ 105 KB',
    ext <= 105 * 1024,
  );
  row('size', 'dist/cli.js + cliMain.js', kb(size('cli.js') + size('cliMain.js')));
  const entries = ['extension.js', 'extensionMain.js', 'cli.js', 'cliMain.js'];
  const chunks = fs.readdirSync(DIST).filter((f) => f.endsWith('.js') && !entries.includes(f));
  row('size', `loaded on first use: ${chunks.join(' / ')}`, chunks.map((f) => kb(size(f))).join(' / '));
  const vsix = path.join(TMP, 'bench.vsix');
  execFileSync(
    process.execPath,
    [
      require.resolve('@vscode/vsce/vsce'),
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '--no-rewrite-relative-links',
      '--out',
      vsix,
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  row('size', '.vsix', kb(fs.statSync(vsix).size));
  const sdk = fs.statSync(sdkFlow).size;
  row('size', 'matrix-js-sdk flow bundle / what activation loads', `${times(sdk / ext, 10, 1)} (${kb(sdk)})`, '≥ 10×', sdk / ext >= 10);
  const meta = JSON.parse(fs.readFileSync(path.join(DIST, 'meta.json'), 'utf8'));
  const inputs = Object.entries(meta.outputs['dist/extensionMain.js'].inputs)
    .map(([f, v]) => [f.replace(/^src\//, ''), v.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  row(
    'size',
    'largest inputs of extensionMain.js (esbuild metafile)',
    inputs
      .slice(0, 3)
      .map(([f, n]) => `${f} ${kb(n)}`)
      .join(', '),
  );
}

async function activation(sdkFlow, hs) {
  // 5 accounts (added through Add Account against the test homeserver) and 5 registration files.
  const ws = path.join(TMP, 'workspace');
  fs.mkdirSync(ws);
  for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(ws, `bridge${i}-registration.yaml`), hs.registrationYaml(hs.registration(i)));
  const state = path.join(TMP, 'vscode-state.json');
  await timeProcess([process.execPath, path.join(__dirname, 'activation.js'), 'setup', hs.url, '5'], { BENCH_VSCODE_STATE: state });
  const five = { BENCH_VSCODE_STATE: state, BENCH_WORKSPACE: ws };
  const act = path.join(__dirname, 'activation.js');
  // VS Code keeps globalStorage, where the code cache is: one window that stayed open a few seconds wrote it.
  // Without BENCH_GLOBAL_STORAGE each process gets a new empty folder: the first start after installing or updating.
  const storage = (name, env) => {
    const dir = path.join(TMP, name);
    fs.mkdirSync(dir);
    return { ...env, BENCH_GLOBAL_STORAGE: dir };
  };
  const warm0 = storage('global-storage-0', {});
  const warm5 = storage('global-storage-5', five);
  for (const env of [warm0, warm5]) await output([process.execPath, act, 'warm'], { env });
  const results = await compare([
    { name: 'node -e ""', cmd: [process.execPath, '-e', ''] },
    { name: 'load + activate(), 0 accounts', cmd: [process.execPath, act, 'activate'], env: warm0, goal: true },
    { name: 'load + activate(), 5 accounts + 5 registration files', cmd: [process.execPath, act, 'activate'], env: warm5, goal: true },
    { name: 'first start (no code cache yet), 0 accounts', cmd: [process.execPath, act, 'activate'] },
    { name: 'first start (no code cache yet), 5 accounts + 5 registration files', cmd: [process.execPath, act, 'activate'], env: five },
    { name: 'load the matrix-js-sdk flow bundle', cmd: [process.execPath, sdkFlow, hs.url, 'x', 'x', '', 'load'] },
    // Counted in the rows above, and not ours: in VS Code the host makes the API object.
    {
      name: 'the harness alone (bench/activation.js and its stub VS Code API, no extension)',
      cmd: [process.execPath, act, 'harness'],
      env: five,
    },
  ]);
  row('activation', `node -e "" (baseline)`, `${results[0].ms.toFixed(0)} ms`);
  for (const r of results.slice(1)) {
    const goal = r.goal ? '≤ 1.10×' : undefined;
    row('activation', `${r.name} / node -e ""`, times(r.ratio, goal ? 1.1 : undefined), goal, goal ? r.ratio <= 1.1 : undefined);
  }
  const check = JSON.parse(await output([process.execPath, act, 'check'], { env: five }));
  const quiet = check.atActivate.connects === 0 && check.afterIdle.connects === 0 && !check.afterIdle.chunks.includes('yaml');
  const onlyForViews = ['yaml', 'registration'];
  const drawn = check.afterViews.chunks.filter((c) => !onlyForViews.includes(c));
  row(
    'activation',
    'requests / lazy files loaded in the 300 ms after activate(), views not drawn (5 + 5)',
    `${check.afterIdle.connects} / ${check.afterIdle.chunks.join(', ') || 'none'}`,
    'no request, no yaml',
    quiet,
  );
  // Not reading the files must not hide the palette's appservice commands: the keys come from the file names.
  const keys = ['matrixDevtools.hasAppservices', 'matrixDevtools.hasRegistrationFiles'];
  const keysRight = keys.every((k) => check.afterIdle.context[k] === true) && check.appservices === 5;
  row(
    'activation',
    'hasAppservices / hasRegistrationFiles in those 300 ms; appservices when the view is drawn (5 + 5)',
    `${keys.map((k) => String(check.afterIdle.context[k])).join(' / ')}; ${check.appservices}`,
    'true / true; 5',
    keysRight,
  );
  row(
    'activation',
    'lazy files loaded once both views are drawn (5 + 5): beyond yaml/registration',
    drawn.join(', ') || 'none',
    'none (doctor, ping, oauth on first use)',
    drawn.length === 0,
  );
}

/** Heap left behind by 100 accounts and 100 appservices (bench/memory.js, in its own process; homeserver and appservice stay here). */
async function memory(hs) {
  const n = 100;
  const users = Array.from({ length: n }, (_, i) => `memuser${i}`);
  for (const u of users) hs.server.addUser(u, 'bench-password');
  const registrations = Array.from({ length: n }, (_, i) => hs.registration(1000 + i));
  for (const reg of registrations) hs.server.registerAppservice(reg);
  const setup = path.join(TMP, 'memory-setup.json');
  fs.writeFileSync(setup, JSON.stringify({ users, password: 'bench-password', registrations }));
  const runs = [];
  for (let r = 0; r < 3; r++) {
    runs.push(JSON.parse(await output([process.execPath, '--expose-gc', path.join(__dirname, 'memory.js'), hs.url, setup])));
  }
  const m = runs.sort((a, b) => a.after / a.before - b.after / b.before)[1];
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  row(
    'memory',
    `heap with ${m.accounts} accounts and ${n} appservices after 10 Ping All / heap before adding them`,
    `${(m.full / m.before).toFixed(2)}× (${mb(m.full)})`,
  );
  row(
    'memory',
    'heap after removing them all / heap before adding them (second cycle; median of 3 processes)',
    `${times(m.after / m.before, 1.05)} (${m.after >= m.before ? `${mb(m.after - m.before)} more, mostly compiled code` : `${mb(m.before - m.after)} less`}; ${m.left} accounts left)`,
    '≤ 1.05×',
    m.after / m.before <= 1.05 && m.left === 0,
  );
  // A week of rotations of one account (the first user, signed in again in a fresh process), JIT off: data only.
  const jitOff = ['--no-opt', '--no-sparkplug', '--no-flush-bytecode'];
  const rotationsArgv = [process.execPath, '--expose-gc', ...jitOff, path.join(__dirname, 'memory.js'), hs.url, setup, 'rotations'];
  const rotations = [];
  for (let r = 0; r < 3; r++) rotations.push(JSON.parse(await output(rotationsArgv)));
  const rot = rotations.sort((a, b) => a.bytesPerRotation - b.bytesPerRotation)[1];
  row(
    'memory',
    `heap growth per token rotation over ${rot.rotations} rotations of one account (a week of 5-minute tokens; least-squares slope of reachable bytes in heap snapshots; optimising compilers and bytecode flushing off; median of 3 processes)`,
    `${rot.bytesPerRotation.toFixed(0)} B (${mb(rot.first)} → ${mb(rot.last)})`,
    '≤ 32 B',
    rot.bytesPerRotation <= 32,
  );
}

async function cli(sdkWhoami, hs) {
  const store = path.join(TMP, 'cli-store.json');
  const cliJs = path.join(DIST, 'cli.js');
  // The CLI's code cache (src/boot/cli.ts) in a folder of this run, written by the first run of each command;
  // the rows "without the code cache" turn it off, as a first run after installing or updating is.
  const cache = { XDG_CACHE_HOME: path.join(TMP, 'xdg-cache') };
  const noCache = { MATRIX_DEVTOOLS_CODE_CACHE: '0' };
  await output([process.execPath, cliJs, 'login', '--homeserver', hs.url, '--user', 'alice', '--password-stdin', '--store', store], {
    input: 'wonderland\n',
  });
  const token = (await output([process.execPath, cliJs, 'token', '--store', store])).trim();
  await output([process.execPath, cliJs, 'whoami', '--store', store], { env: cache });
  const whoamiUrl = `${hs.url}/_matrix/client/v3/account/whoami`;
  const floor = path.join(__dirname, 'floor');
  const variants = [
    { name: 'http.request script', cmd: [process.execPath, path.join(floor, 'http-request.js'), 'GET', whoamiUrl, token] },
    { name: 'matrix-devtools whoami', cmd: [process.execPath, cliJs, 'whoami', '--store', store], env: cache },
    { name: 'global fetch script', cmd: [process.execPath, path.join(floor, 'global-fetch.js'), 'GET', whoamiUrl, token] },
    { name: 'matrix-js-sdk script (bundled)', cmd: [process.execPath, sdkWhoami, hs.url, token] },
  ];
  let curl = true;
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    curl = false;
  }
  if (curl)
    variants.push({ name: 'curl (reference)', cmd: ['curl', '-sf', '-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, whoamiUrl] });
  variants.push({ name: 'matrix-devtools whoami without the code cache', cmd: variants[1].cmd, env: noCache });
  const results = await compare(variants);
  row('cli', 'whoami: http.request floor (baseline)', `${results[0].ms.toFixed(0)} ms`);
  for (const r of results.slice(1)) {
    const goal = r.name === 'matrix-devtools whoami' ? '≤ 1.15×' : undefined;
    row('cli', `whoami: ${r.name} / floor`, times(r.ratio, goal ? 1.15 : undefined), goal, goal ? r.ratio <= 1.15 : undefined);
  }
  const ours = results[1];
  const sdk = results.find((r) => r.name.startsWith('matrix-js-sdk'));
  // Paired like every other ratio: each round's matrix-js-sdk process over the same round's whoami.
  const sdkOverOurs = median(sdk.samples.map((t, r) => t / ours.samples[r]));
  row('cli', 'whoami: matrix-js-sdk script / matrix-devtools whoami (same rounds)', times(sdkOverOurs, 3), '≥ 3×', sdkOverOurs >= 3);

  const reg = path.join(TMP, 'ping-registration.yaml');
  fs.writeFileSync(reg, hs.registrationYaml(hs.registration(0)));
  const pingUrl = `${hs.url}/_matrix/client/v1/appservice/bridge0/ping`;
  const pings = [
    {
      name: 'http.request script',
      cmd: [process.execPath, path.join(floor, 'http-request.js'), 'POST', pingUrl, hs.registration(0).as_token, '{}'],
    },
    // Given what the floor is given: the id and the as_token (from an environment variable).
    {
      name: 'matrix-devtools ping --id --as-token-env',
      cmd: [process.execPath, cliJs, 'ping', '--id', 'bridge0', '--as-token-env', 'BENCH_AS_TOKEN', '--homeserver', hs.url],
      env: { BENCH_AS_TOKEN: hs.registration(0).as_token, ...cache },
      goal: true,
    },
    // Also reads and checks the registration YAML (the yaml chunk), which the floor does not.
    {
      name: 'matrix-devtools ping --registration',
      cmd: [process.execPath, cliJs, 'ping', '--registration', reg, '--homeserver', hs.url],
      env: cache,
      goal: true,
    },
  ];
  pings.push(
    ...pings.slice(1).map((v) => ({ ...v, name: `${v.name} without the code cache`, env: { ...v.env, ...noCache }, goal: false })),
  );
  // The same three requests ping --id makes (well-known and /versions at once, then the ping), bare.
  pings.push({
    name: 'http.request script doing the same discovery + ping',
    cmd: [process.execPath, path.join(floor, 'http-discover-ping.js'), hs.url, 'bridge0', hs.registration(0).as_token],
  });
  // And what ping --registration does on top: read the file, parse it with require('yaml').
  pings.push({
    name: 'http.request script reading the file with yaml, then the same discovery + ping',
    cmd: [process.execPath, path.join(floor, 'http-discover-ping.js'), hs.url, '--registration', reg],
  });
  const ping = await compare(pings);
  row('cli', 'ping: http.request floor (baseline)', `${ping[0].ms.toFixed(0)} ms`);
  const sameWork = ping.find((r) => r.name.includes('same discovery'));
  const sameWorkYaml = ping.find((r) => r.name.includes('with yaml'));
  row(
    'cli',
    'ping: matrix-devtools ping --id / the bare script doing the same discovery + ping',
    `${(ping[1].ratio / sameWork.ratio).toFixed(2)}×`,
  );
  row(
    'cli',
    'ping: matrix-devtools ping --registration / the bare script reading the file with yaml, then the same requests',
    `${(ping[2].ratio / sameWorkYaml.ratio).toFixed(2)}×`,
  );
  // 20 ms from the homeserver (10 ms each way; its .well-known names the far URL): ping --registration
  // reads and checks the file while discovery is out (core/appserviceChecks.ts), the bare script after it.
  const link = await slowLink(10);
  const farServer = await testHomeserver().start({ publicBaseUrl: link.url, appservices: [hs.registration(0)] });
  link.to(farServer.baseUrl);
  try {
    const far = await compare([
      { name: 'bare script', cmd: [process.execPath, path.join(floor, 'http-discover-ping.js'), link.url, '--registration', reg] },
      { name: 'ping --registration', cmd: [process.execPath, cliJs, 'ping', '--registration', reg, '--homeserver', link.url], env: cache },
    ]);
    row(
      'cli',
      'ping, 20 ms from the homeserver: matrix-devtools ping --registration / the bare script reading the file with yaml, then the same requests',
      `${far[1].ratio.toFixed(2)}×`,
    );
  } finally {
    await farServer.stop();
    await link.stop();
  }
  for (const r of ping.slice(1)) {
    const note = r.name.includes('--registration')
      ? ' (also parses the YAML)'
      : r.name.startsWith('matrix-devtools')
        ? ' (discovery + ping)'
        : '';
    row(
      'cli',
      `ping: ${r.name} / floor${note}`,
      times(r.ratio, r.goal ? 1.15 : undefined),
      r.goal ? '≤ 1.15×' : undefined,
      r.goal ? r.ratio <= 1.15 : undefined,
    );
  }
}

/** The test homeserver with alice, user0…4 and five appservices, and one appservice process answering every ping at once. */
async function startServers() {
  const { registrationYaml } = require(path.join(ROOT, 'out/test/support/registrationYaml'));
  const appservice = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise((r) => appservice.listen(0, '127.0.0.1', r));
  const asUrl = `http://127.0.0.1:${appservice.address().port}`;
  const registration = (i) => ({
    id: `bridge${i}`,
    url: asUrl,
    as_token: `bench_as_token_${i}`,
    hs_token: `bench_hs_token_${i}`,
    sender_localpart: `bridge${i}bot`,
    namespaces: { users: [{ exclusive: true, regex: `@bridge${i}_.*:localhost` }] },
  });
  const users = [
    { localpart: 'alice', password: 'wonderland' },
    ...[0, 1, 2, 3, 4].map((i) => ({ localpart: `user${i}`, password: 'bench-password' })),
  ];
  const server = await testHomeserver().start({ users, appservices: [0, 1, 2, 3, 4].map(registration) });
  return {
    server,
    url: server.baseUrl,
    registration,
    registrationYaml,
    stop: async () => {
      await server.stop();
      appservice.close();
    },
  };
}

function table() {
  const lines = ['| | figure | goal | |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.section} | ${r.what}: **${r.value}** | ${r.goal} | ${r.verdict} |`);
  return lines.join('\n');
}

async function main() {
  const cpus = os.cpus();
  const header = `Node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}; ${RUNS} interleaved rounds per comparison, medians of per-round ratios.`;
  process.stderr.write(`${header}\n`);
  const sdkFlow = path.join(TMP, 'sdk-flow.js');
  const sdkWhoami = path.join(TMP, 'sdk-whoami.js');
  bundle(path.join(__dirname, 'sdk/flow.mjs'), sdkFlow);
  bundle(path.join(__dirname, 'sdk/whoami.mjs'), sdkWhoami);
  const hs = await startServers();
  try {
    const only = args.includes('--only')
      ? args[args.indexOf('--only') + 1].split(',')
      : ['size', 'activation', 'cli', 'session', 'oauth', 'pingall', 'memory'];
    if (only.includes('size')) await sizes(sdkFlow);
    if (only.includes('activation')) await activation(sdkFlow, hs);
    if (only.includes('cli')) await cli(sdkWhoami, hs);
    if (only.includes('session')) await require('./session')({ hs, tmp: TMP, runs: RUNS, row, median });
    if (only.includes('oauth')) await require('./oauth')({ hs, runs: RUNS, row, median });
    if (only.includes('pingall')) await require('./pingAll')({ tmp: TMP, runs: RUNS, row, median });
    if (only.includes('memory')) await memory(hs);
  } finally {
    await hs.stop();
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const text = `${header}\n\n${table()}\n`;
  process.stdout.write(`\n${text}`);
  if (args.includes('--readme')) writeReadme(text);
}

function writeReadme(text) {
  const readme = path.join(ROOT, 'README.md');
  const begin = '<!-- bench:begin (generated by `npm run bench -- --readme`; do not edit) -->';
  const end = '<!-- bench:end -->';
  const current = fs.readFileSync(readme, 'utf8');
  const block = `${begin}\n${text}${end}`;
  const i = current.indexOf(begin.slice(0, 16));
  const j = current.indexOf(end);
  const next =
    i !== -1 && j > i
      ? current.slice(0, i) + block + current.slice(j + end.length)
      : `${current.trimEnd()}\n\n## Performance\n\n${block}\n`;
  fs.writeFileSync(readme, next);
  process.stderr.write('README.md: Performance section written.\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
