// The CLI as users run it: the bundled dist/cli.js in its own Node process.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

export const CLI = path.resolve(__dirname, '../../../dist/cli.js');
/** The CLI's code cache (src/boot/cli.ts) for test runs: not the user's ~/.cache. */
export const CLI_TEST_CACHE_HOME = path.join(os.tmpdir(), 'matrix-devtools-test-cache');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `onStderr` sees each stderr line as it comes (a device code to enter while the CLI waits);
 * `timeoutMs` kills a run that takes longer.
 */
export function runCli(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; onStderr?: (line: string) => void; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, XDG_CACHE_HOME: CLI_TEST_CACHE_HOME, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill(), opts.timeoutMs);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      stderr += c;
      if (opts.onStderr) for (const line of String(c).split('\n')) if (line) opts.onStderr(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
