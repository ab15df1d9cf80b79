// Bundles the extension and the CLI. One context, two entry points:
// `--production` minifies and drops source maps, `--watch` rebuilds on change.
const esbuild = require('esbuild');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints build errors in the `file:line:col` form VS Code's problem matcher reads. */
const problemMatcherPlugin = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

/**
 * Code that only some commands need, each emitted as its own file in dist/ and
 * loaded with a lazy `require` on first use, so that activating the extension
 * reads none of it: `yaml` (115 KB) and the registration checks only when a
 * registration file is read (src/core/registration.ts, .../registration/source.ts).
 * Each is a request
 * from our sources that resolves to the chunk next to the bundle instead.
 * A chunk carries its own copy of the core modules it imports: module state
 * that must be shared lives on globalThis (core/l10n.ts), and the error classes
 * recognise each other's instances (core/errors.ts).
 */
const lazyChunks = [
  { chunk: 'yaml', request: 'yaml', entry: require.resolve('yaml') },
  { chunk: 'registration', request: './registration/parse', entry: 'src/core/registration/parse.ts' },
  // The doctor's checks only when a diagnosis runs (src/core/doctor.ts), the
  // OAuth 2.0 sign-in and sign-out steps only when one starts (src/core/oauth.ts).
  { chunk: 'doctor', request: './doctor/run', entry: 'src/core/doctor/run.ts' },
  { chunk: 'oauth', request: './oauth/flows', entry: 'src/core/oauth/flows.ts' },
  // Pinging and checking appservices only when one is pinged (src/core/ping.ts).
  { chunk: 'ping', request: './appserviceChecks', entry: 'src/core/appserviceChecks.ts' },
  // The extension's doctor commands, on the first one run (src/vscode/appservices/commands.ts).
  { chunk: 'doctorCommands', request: './doctorCommands', entry: 'src/vscode/appservices/doctorCommands.ts' },
  // The output blocks of a ping or a direct check, with the first one (src/vscode/appservices/pingService.ts).
  { chunk: 'pingBlocks', request: './pingBlocks', entry: 'src/vscode/appservices/pingBlocks.ts' },
  // Add Account and Sign In Again with every way to sign in, on the first one run (src/vscode/accounts/flows.ts).
  { chunk: 'signInFlows', request: './signInFlows', entry: 'src/vscode/accounts/signInFlows.ts' },
  // The other account commands' dialogs, on the first one run (same file).
  { chunk: 'accountDialogs', request: './accountDialogs', entry: 'src/vscode/accounts/accountDialogs.ts' },
  // Signing in and out and checking sessions, with the first account command that needs them (src/vscode/accounts/index.ts).
  { chunk: 'accountActions', request: './actions', entry: 'src/vscode/accounts/actions.ts' },
];

const lazyChunkPlugin = {
  name: 'lazy-chunks',
  setup(build) {
    const src = path.join(__dirname, 'src');
    for (const { chunk, request } of lazyChunks) {
      const filter = new RegExp(`^${request.replace(/[.\-/]/g, '\\$&')}$`);
      build.onResolve({ filter }, (args) => {
        if (args.kind !== 'require-call' || !args.importer.startsWith(src)) return undefined;
        return { path: `./${chunk}.js`, external: true };
      });
    }
  },
};

// extension.js and cli.js (package.json "main" and "bin") are small entry
// points that load extensionMain.js and cliMain.js, and the chunks, through
// V8's code cache (src/boot/codeCache.ts).
const entryPoints = {
  extension: 'src/boot/extension.ts',
  extensionMain: 'src/extension.ts',
  cli: 'src/boot/cli.ts',
  cliMain: 'src/cli/main.ts',
  ...Object.fromEntries(lazyChunks.map(({ chunk, entry }) => [chunk, entry])),
};

/**
 * A chunk that is no longer built must not linger in dist/ (and in the .vsix).
 * Removed after the build, not before: `npm run bench` reads dist/meta.json of
 * its own `--metafile` build while `vsce package` rebuilds without one.
 */
function removeStaleOutputs() {
  const fs = require('fs');
  const dist = path.join(__dirname, 'dist');
  const built = new Set(Object.keys(entryPoints).flatMap((n) => [`${n}.js`, `${n}.js.map`]));
  built.add('meta.json');
  for (const name of fs.readdirSync(dist)) {
    if (!built.has(name) || (production && name.endsWith('.map'))) fs.rmSync(path.join(dist, name), { recursive: true, force: true });
  }
}

/**
 * `import * as vscode from 'vscode'` in a CommonJS bundle gives every importing
 * module its own `__toESM(require('vscode'))`, a copy of the whole API object's
 * properties (13 copies at activation; one copy of its ~200 properties still
 * costs about 0.7 ms). Our sources import one module instead that reads, once,
 * only the properties they name (`vscode.window`, `vscode.Uri`, ...: the API's
 * top-level members are fixed namespaces, classes and enums). Names that are
 * only types (`vscode.QuickPickItem`) are left out by the API's typings. A
 * runtime name used some other way than `vscode.name` would build as undefined:
 * the vscode host tests would fail at once.
 */
function vscodeNamesUsed(dir) {
  const fs = require('fs');
  // The API's runtime members: the top-level `export class|enum|namespace|...` lines of its typings.
  const typings = fs.readFileSync(require.resolve('@types/vscode/index.d.ts'), 'utf8');
  const runtime = new Set([...typings.matchAll(/^\texport (?:class|enum|namespace|const|let|function) ([\w$]+)/gm)].map((m) => m[1]));
  const files = fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.ts'));
  const names = new Set();
  for (const f of files) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bvscode\.([A-Za-z_$][\w$]*)/g)) {
      if (runtime.has(m[1])) names.add(m[1]);
    }
  }
  return { names: [...names].sort(), files: files.map((f) => path.join(dir, f)) };
}

const vscodeOnceShim = {
  name: 'vscode-once',
  setup(build) {
    const src = path.join(__dirname, 'src');
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.importer.startsWith(src) ? { path: 'vscode', namespace: 'vscode-once' } : { path: 'vscode', external: true },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-once' }, () => {
      const { names, files } = vscodeNamesUsed(src);
      return {
        contents: `const api = require('vscode');\n${names.map((n) => `export const ${n} = api.${n};`).join('\n')}\n`,
        loader: 'js',
        resolveDir: __dirname,
        watchFiles: files,
      };
    });
  },
};

async function main() {
  const ctx = await esbuild.context({
    entryPoints,
    bundle: true,
    format: 'cjs',
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    platform: 'node',
    target: 'node20',
    outdir: 'dist',
    external: ['vscode'],
    logLevel: 'silent',
    plugins: [lazyChunkPlugin, vscodeOnceShim, problemMatcherPlugin],
    metafile: process.argv.includes('--metafile'),
  });
  if (watch) {
    await ctx.watch();
  } else {
    const result = await ctx.rebuild();
    await ctx.dispose();
    removeStaleOutputs();
    // `--metafile`: what each output is made of, for `npm run bench` and esbuild's analyzer.
    if (result.metafile) require('fs').writeFileSync(path.join(__dirname, 'dist', 'meta.json'), JSON.stringify(result.metafile));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
