// Figures of the reliability suites (faults tried, inputs tried, requests,
// rotations, Ping All runs and pings, sessions lost, leaks found), counted by
// the tests as they run, never typed by hand, and written to
// MATRIX_DEVTOOLS_FIGURES_DIR (default out/reliability): by a unit run
// (`npm run test:unit`) when its process ends, by the host suite
// (`npm run test:vscode`, in a VS Code extension host) as they are counted.
// scripts/reliability-report.mjs sums the last full run of each into the
// README's "Reliability" section.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Figures {
  faults: string[];
  inputs: number;
  requests: number;
  rotations: number;
  /** Ping All runs under load, each with a result for every appservice. */
  pingAllRuns: number;
  /** Appservice pings those runs sent. */
  pings: number;
  sessionsLost: number;
  leaks: number;
  leakScans: number;
}

const figures: Figures = {
  faults: [],
  inputs: 0,
  requests: 0,
  rotations: 0,
  pingAllRuns: 0,
  pings: 0,
  sessionsLost: 0,
  leaks: 0,
  leakScans: 0,
};
/** The harness that started the extension host (test-host.mjs, test-electron.mjs, launch.json); unset in a unit run. */
const harness = process.env.MATRIX_DEVTOOLS_TEST_HARNESS;
let registered = false;

function write(): void {
  const dir = process.env.MATRIX_DEVTOOLS_FIGURES_DIR ?? path.resolve(__dirname, '../../reliability');
  fs.mkdirSync(dir, { recursive: true });
  // What the report needs to tell a full run from a run of a few tests: a unit run's arguments
  // (a full one names no test file: mocha takes the spec from .mocharc.json), the host suite's --grep.
  const run = harness
    ? { kind: 'host', harness, full: !process.env.MATRIX_DEVTOOLS_TEST_GREP, finishedAt: new Date().toISOString() }
    : { kind: 'unit', argv: process.argv.slice(2), finishedAt: new Date().toISOString() };
  const name = harness ? `host-${process.pid}` : `${path.basename(process.argv[1] ?? 'tests')}-${process.pid}`;
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ ...figures, run }, null, 2));
}

function changed(): void {
  // An extension host may be stopped without its exit event once the suite is done: write as the figures come.
  if (harness) return write();
  if (registered) return;
  registered = true;
  process.on('exit', write);
}

export function recordFault(area: string, name: string): void {
  figures.faults.push(`${area}: ${name}`);
  changed();
}

export function recordFigures(add: Partial<Omit<Figures, 'faults'>>): void {
  for (const [k, v] of Object.entries(add) as [keyof Omit<Figures, 'faults'>, number][]) figures[k] += v;
  changed();
}

/** What a user reads after a failure: one sentence, no raw library text. */
export function assertOneSentence(message: string): void {
  assert.ok(message.trim().length > 0, 'an empty message');
  assert.ok(!message.includes('\n'), `more than one line: ${message}`);
  assert.ok(message.length <= 400, `${message.length} characters: ${message}`);
  assert.doesNotMatch(
    message,
    /ssl3_|wrong version number|\[object |undefined|TypeError|SyntaxError|Unexpected token|^Error:|\n\s+at /,
    `raw library text: ${message}`,
  );
}
