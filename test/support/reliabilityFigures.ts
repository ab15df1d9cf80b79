// Figures of the reliability suites (faults tried, inputs tried, requests,
// rotations, Ping All runs and pings, sessions lost, leaks found), written when the test process ends
// to out/reliability/<process>.json; scripts/reliability-report.mjs sums them
// into the README's "Reliability" section. Counted by the tests as they run,
// never typed by hand.
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
let registered = false;

function dirty(): void {
  if (registered) return;
  registered = true;
  process.on('exit', () => {
    const dir = process.env.MATRIX_DEVTOOLS_FIGURES_DIR ?? path.resolve(__dirname, '../../reliability');
    fs.mkdirSync(dir, { recursive: true });
    // The arguments tell a full `npm run test:unit` (spec from .mocharc.json) from a run of a few files.
    const run = { argv: process.argv.slice(2), finishedAt: new Date().toISOString() };
    fs.writeFileSync(
      path.join(dir, `${path.basename(process.argv[1] ?? 'tests')}-${process.pid}.json`),
      JSON.stringify({ ...figures, run }, null, 2),
    );
  });
}

export function recordFault(area: string, name: string): void {
  dirty();
  figures.faults.push(`${area}: ${name}`);
}

export function recordFigures(add: Partial<Omit<Figures, 'faults'>>): void {
  dirty();
  for (const [k, v] of Object.entries(add) as [keyof Omit<Figures, 'faults'>, number][]) figures[k] += v;
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
