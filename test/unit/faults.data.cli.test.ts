// Corrupted and foreign data in the CLI's session store: a truncated file,
// garbage, a file from a newer matrix-devtools, one damaged entry among good
// ones, and the token-holding temp file of a writer that died. Each time the
// user reads one sentence saying what happened and what to do, the other
// sessions keep working against the test homeserver, and nothing the CLI
// could not read is overwritten without a copy.
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, runCli, type CliRun } from '../support/cliProcess';
import { TestHomeserver } from '../support/homeserver';
import { assertOneSentence, recordFault } from '../support/reliabilityFigures';

const PRELOAD = path.resolve(__dirname, '../support/crashPoints.js');
const ALICE = '@alice:localhost';
const BOB = '@bob:localhost';

/** The single line the CLI wrote to stderr, without its "matrix-devtools: " prefix. */
function sentence(run: CliRun): string {
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${run.stderr}`);
  const text = lines[0].replace(/^matrix-devtools: /, '');
  assertOneSentence(text);
  return text;
}

describe('faults: damaged and foreign data in the CLI store', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let dir: string;
  let store: string;
  const s = () => ['--store', store];
  const login = (user: 'alice' | 'bob') =>
    runCli(['login', '--homeserver', hs.baseUrl, '--user', user, '--password-stdin', ...s()], {
      input: user === 'alice' ? 'wonderland\n' : 'builder\n',
    });

  before(function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
  });
  beforeEach(async () => {
    hs = await TestHomeserver.start({
      users: [
        { localpart: 'alice', password: 'wonderland' },
        { localpart: 'bob', password: 'builder' },
      ],
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-data-'));
    store = path.join(dir, 'sessions.json');
  });
  afterEach(async () => {
    await hs.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Every command refuses with one sentence and the file stays byte for byte what it was. */
  async function assertRefusedUntouched(text: string, pattern: RegExp): Promise<void> {
    for (const args of [['whoami'], ['refresh'], ['accounts'], ['logout']]) {
      const run = await runCli([...args, ...s()]);
      assert.equal(run.code, 1, `${args[0]}: ${run.stderr}`);
      assert.match(sentence(run), pattern, args[0]);
      assert.equal(run.stdout, '');
    }
    const relogin = await login('alice');
    assert.equal(relogin.code, 1, 'login must not write over a store it cannot read');
    assert.match(sentence(relogin), pattern);
    assert.equal(await fs.readFile(store, 'utf8'), text, 'the store was changed');
    assert.deepEqual(
      (await fs.readdir(dir)).filter((f) => f !== '.locks'),
      ['sessions.json'],
      'no other file appeared',
    );
  }

  it('a truncated store: every command says so, nothing is written', async () => {
    assert.equal((await login('alice')).code, 0);
    const full = await fs.readFile(store, 'utf8');
    const cut = full.slice(0, Math.floor(full.length / 2));
    await fs.writeFile(store, cut, { mode: 0o600 });
    await assertRefusedUntouched(cut, /session store .*sessions\.json is damaged .*left untouched.*matrix-devtools login/);
    recordFault('data', 'CLI store truncated');
  });

  it('garbage and wrong types at the top level: the same sentence, nothing written', async () => {
    for (const junk of ['\u0000\u00ff\u0001binary', '[1,2,3]', '{"version":1,"accounts":"alice"}', 'null']) {
      await fs.writeFile(store, junk, { mode: 0o600 });
      const run = await runCli(['whoami', ...s()]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(sentence(run), /is damaged .*left untouched/);
      assert.equal(await fs.readFile(store, 'utf8'), junk);
    }
    recordFault('data', 'CLI store garbage / wrong types');
  });

  it('a store from a newer matrix-devtools: refused, named as such, never rewritten', async () => {
    assert.equal((await login('alice')).code, 0);
    const data = JSON.parse(await fs.readFile(store, 'utf8'));
    data.version = 2;
    data.accounts[ALICE].tokens = { format: 'sealed', blob: 'opaque' };
    const text = JSON.stringify(data);
    await fs.writeFile(store, text, { mode: 0o600 });
    await assertRefusedUntouched(
      text,
      /written by a newer matrix-devtools \(store version 2; this one knows version 1\).*left untouched.*upgrade/,
    );
    recordFault('data', 'CLI store from a future version');
  });

  it('one damaged entry: the other session keeps working, the damaged one is kept as it was, login keeps a copy', async () => {
    assert.equal((await login('alice')).code, 0);
    assert.equal((await login('bob')).code, 0);
    const data = JSON.parse(await fs.readFile(store, 'utf8'));
    const damaged = { ...data.accounts[ALICE], tokens: { accessToken: 42 } };
    data.accounts[ALICE] = damaged;
    data.defaultAccount = BOB;
    await fs.writeFile(store, JSON.stringify(data), { mode: 0o600 });

    const bob = await runCli(['refresh', '--account', BOB, ...s()]);
    assert.equal(bob.code, 0, bob.stderr);
    assert.equal((await runCli(['whoami', ...s()])).code, 0, 'the default (bob) works');
    const afterBob = JSON.parse(await fs.readFile(store, 'utf8'));
    assert.deepEqual(afterBob.accounts[ALICE], damaged, 'the damaged entry was written back as it was');
    assert.ok(hs.isAccessTokenKnown(afterBob.accounts[BOB].tokens.accessToken));

    const alice = await runCli(['whoami', '--account', ALICE, ...s()]);
    assert.equal(alice.code, 1);
    assert.match(
      sentence(alice),
      /stored session of @alice:localhost .* is damaged \(tokens missing\).*left untouched.*matrix-devtools login/,
    );
    const listed = await runCli(['accounts', '--json', ...s()]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).unreadable, [ALICE]);

    const relogin = await login('alice');
    assert.equal(relogin.code, 0, relogin.stderr);
    assert.match(
      relogin.stderr,
      /old, unreadable entry of @alice:localhost was replaced; a copy is kept in .*sessions\.json\.unreadable-.*\.json/,
    );
    const backupName = (await fs.readdir(dir)).find((f) => f.includes('.unreadable-'));
    assert.ok(backupName, 'no backup file');
    const backup = path.join(dir, backupName);
    assert.equal((await fs.stat(backup)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await fs.readFile(backup, 'utf8')).accounts[ALICE], damaged);
    assert.equal((await runCli(['whoami', '--account', ALICE, ...s()])).code, 0);
    assert.equal((await runCli(['whoami', '--account', BOB, ...s()])).code, 0);
    recordFault('data', 'CLI store entry damaged');
  });

  it('a temp file left by a crash between the two writes is 0600 and is removed by the next run', async () => {
    assert.equal((await login('alice')).code, 0);
    const crashed = await runCli(['refresh', ...s()], {
      env: { NODE_OPTIONS: `--require ${PRELOAD}`, MATRIX_DEVTOOLS_TEST_CRASH: 'before-rename' },
    });
    assert.equal(crashed.code, 137, crashed.stderr);
    const temps = (await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'));
    assert.equal(temps.length, 1, 'the crash left no temp file to clean up');
    const temp = path.join(dir, temps[0]);
    assert.equal((await fs.stat(temp)).mode & 0o777, 0o600, 'a temp file holding tokens is readable by others');
    assert.match(await fs.readFile(temp, 'utf8'), /"refreshToken"/, 'the temp file holds the rotated tokens');

    const next = await runCli(['accounts', ...s()]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      (await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'the temp file is still there',
    );
    assert.equal((await runCli(['whoami', ...s()])).code, 0);
    recordFault('data', 'CLI temp file left by a crash');
  });
});
