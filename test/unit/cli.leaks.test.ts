// The CLI's whole life with one account and one appservice, then a scan of
// everything it printed for every token it ever held: every access and refresh
// token the homeserver issued (rotated-away ones too), the appservice's
// as_token and hs_token. Only `token` may print a token, and only on stdout,
// because that is what it is for. The store stays mode 0600 throughout.
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { startFakeAppservice } from '../support/appservice';
import { CLI, runCli, type CliRun } from '../support/cliProcess';
import { TestHomeserver } from '../support/homeserver';
import { recordFigures } from '../support/reliabilityFigures';

const ROTATIONS = 3;

describe('CLI: no token in anything it prints, over a whole session', function () {
  this.timeout(60_000);

  it('login, several rotations, whoami, token, ping, doctor, check-appservice, accounts, logout: zero hits', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run compile" first (npm test does).`);
    const hs = await TestHomeserver.start();
    const as = await startFakeAppservice({ hsToken: 'hs-leakscan-3f9c1d7e5a' });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-cli-leaks-'));
    try {
      const store = path.join(dir, 'sessions.json');
      const reg = {
        id: 'leakscan',
        url: as.url,
        as_token: 'as-leakscan-8b2e4f6a1c',
        hs_token: 'hs-leakscan-3f9c1d7e5a',
        sender_localpart: 'leakscan_bot',
        namespaces: { users: [{ exclusive: true, regex: '@leakscan_.*:localhost' }] },
      };
      hs.registerAppservice(reg);
      const file = path.join(dir, 'leakscan-registration.yaml');
      await fs.writeFile(file, stringify(reg));

      const printed: Array<{ what: string; run: CliRun }> = [];
      const modes: number[] = [];
      const cli = async (args: string[], input?: string) => {
        const run = await runCli([...args, '--store', store], { input, env: { LEAKSCAN_AS: reg.as_token } });
        assert.ok(run.code === 0 || (args[0] === 'doctor' && run.code === 1), `${args.join(' ')}: exit ${run.code}: ${run.stderr}`);
        printed.push({ what: args.join(' '), run });
        if (existsSync(store)) modes.push((await fs.stat(store)).mode & 0o777);
        return run;
      };
      const login = ['login', '--homeserver', hs.baseUrl, '--user', 'alice', '--password-stdin'];
      await cli([...login, '--json', '--verbose'], 'wonderland\n');
      for (let i = 0; i < ROTATIONS; i++) await cli(['refresh', ...(i === 0 ? ['--verbose'] : [])]);
      await cli(['whoami', '--json', '--verbose']);
      const token = await cli(['token']);
      await cli(['ping', '--registration', file, '--homeserver', hs.baseUrl, '--verbose']);
      await cli(['ping', '--id', 'leakscan', '--as-token-env', 'LEAKSCAN_AS', '--homeserver', hs.baseUrl, '--json']);
      await cli(['doctor', '--registration', file, '--homeserver', hs.baseUrl, '--json']);
      await cli(['doctor', '--registration', file, '--homeserver', hs.baseUrl]);
      await cli(['check-appservice', '--registration', file, '--homeserver', hs.baseUrl, '--verbose']);
      await cli(['accounts', '--json']);
      await cli(['logout', '--verbose']);

      const secrets = [...hs.issuedTokens(), reg.as_token, reg.hs_token];
      assert.ok(hs.issuedTokens().length >= 2 * (ROTATIONS + 1), `only ${hs.issuedTokens().length} tokens issued`);
      assert.equal(hs.count('POST', /\/refresh$/), ROTATIONS, 'the rotations did not happen');
      assert.ok(as.calls.length >= 2, 'the appservice was never reached: ping and check-appservice did not run');
      const printedToken = token.stdout.trim();
      assert.ok(hs.issuedTokens().includes(printedToken), '`token` did not print an issued token');

      const leaks: string[] = [];
      for (const { what, run } of printed) {
        for (const secret of secrets) {
          if (run.stderr.includes(secret)) leaks.push(`${what} (stderr): ${secret.slice(0, 8)}…`);
          if (what !== 'token' && run.stdout.includes(secret)) leaks.push(`${what} (stdout): ${secret.slice(0, 8)}…`);
        }
      }
      assert.equal(token.stdout, `${printedToken}\n`, '`token` printed more than the token');
      // The scan can see what it looks for: the one place a token belongs is found.
      assert.ok(
        secrets.some((x) => token.stdout.includes(x)),
        'the scan would not see a printed token',
      );
      assert.ok(
        printed.some(({ what, run }) => what.startsWith('refresh --verbose') && /POST \S+\/refresh 200/.test(run.stderr)),
        'the --verbose request log was not scanned',
      );
      recordFigures({ leakScans: 1, leaks: leaks.length });
      assert.deepEqual(leaks, []);
      assert.ok(modes.length > 0 && modes.every((m) => m === 0o600), `store modes seen: ${modes.map((m) => m.toString(8))}`);
      const left = await fs.readFile(store, 'utf8');
      assert.deepEqual(
        secrets.filter((s) => left.includes(s)).map((s) => s.slice(0, 8)),
        [],
        'logout left a token in the store',
      );
    } finally {
      await as.stop();
      await hs.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
