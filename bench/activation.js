// One Node process that loads dist/extension.js with the stub VS Code API
// (bench/support/vscodeStub.js) and runs activate().
//   node bench/activation.js activate             exit as soon as that is done (timed by the parent)
//   node bench/activation.js harness              load the stub only and exit: what the harness itself costs
//   node bench/activation.js warm                 activate, stay until the code cache is written (BENCH_GLOBAL_STORAGE)
//   node bench/activation.js check                JSON: what activation loaded and connected to, before and after the views are drawn
//   node bench/activation.js setup <hsUrl> <n>    add n password accounts through Add Account, save the stub's state
'use strict';
const path = require('node:path');
const stub = require('./support/vscodeStub');

const mode = process.argv[2] ?? 'activate';
const dist = path.resolve(__dirname, '../dist');
let connects = 0;
if (mode === 'check') {
  // Only here: loading node:net (and the streams it brings) would otherwise be timed as ours.
  const net = require('node:net');
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    connects++;
    return connect.apply(this, args);
  };
}
stub.__bench.install();
if (mode === 'harness') process.exit(0);
const extension = require(path.join(dist, 'extension.js'));
const context = stub.__bench.createContext();
const api = extension.activate(context);
if (mode === 'activate') process.exit(0);

// The bundles dist/extension.js has loaded (src/boot/codeCache.ts): the
// activation bundle and the chunks loaded on first use (esbuild.js lazyChunks).
const chunks = () =>
  Object.keys(api.codeCache())
    .filter((f) => f !== 'extensionMain.js')
    .map((f) => f.slice(0, -3));
const settle = (ms) => new Promise((r) => setTimeout(r, ms));

// `warm`: stay until the code caches are written, as a window that stays open: the activation
// bundle's right after activation, chunks' (if any loaded by then) 3 s after the last one.
if (mode === 'warm') {
  settle(300)
    .then(() => settle(chunks().length > 0 ? 4000 : 0))
    .then(() => {
      process.stdout.write(JSON.stringify(api.codeCache()) + '\n');
      process.exit(0);
    });
  return;
}

async function check() {
  const atActivate = { chunks: chunks(), connects };
  await settle(300);
  const afterIdle = { chunks: chunks(), connects, context: Object.fromEntries(stub.__bench.recorded.context) };
  const tree = stub.__bench.recorded.treeViews.get('matrixDevtools.appservices').options.treeDataProvider;
  const items = await tree.getChildren();
  const accounts = stub.__bench.recorded.treeViews.get('matrixDevtools.accounts').options.treeDataProvider;
  const accountItems = await accounts.getChildren();
  process.stdout.write(
    JSON.stringify({
      atActivate,
      afterIdle,
      appservices: items.length,
      accounts: accountItems.length,
      afterViews: { chunks: chunks(), connects },
    }) + '\n',
  );
  process.exit(0);
}

async function setup(url, n) {
  const { ScriptedPrompts } = require('../out/test/support/scriptedPrompts');
  const prompts = new ScriptedPrompts();
  api.prompts.current = prompts;
  for (let i = 0; i < n; i++) {
    prompts.inputs.push(url, `user${i}`, 'bench-password');
    prompts.picks.push('Sign in with a password');
    await stub.commands.executeCommand('matrixDevtools.addAccount');
  }
  const listed = api.accounts.listAccounts();
  if (listed.length !== n) throw new Error(`added ${listed.length} accounts, wanted ${n}: ${JSON.stringify(prompts.notifications)}`);
  context.save();
  process.exit(0);
}

(mode === 'check' ? check() : setup(process.argv[3], Number(process.argv[4]))).catch((e) => {
  console.error(e);
  process.exit(1);
});
