// Every long-lived process the harness starts (code-server, the test homeserver,
// chromium) runs as the leader of its own process group, so one kill(-pgid)
// reaches the helpers it forks (code-server's extension host, pty host, file
// watcher; chromium's renderers). The groups are tracked here and stopped on
// success, failure, timeout and on SIGINT/SIGTERM/SIGHUP; nothing may outlive a run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {Map<number, string>} pgid -> name, for groups still believed alive */
const liveGroups = new Map();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];

/**
 * Members of a process group that are still running (zombies excluded: a container
 * whose PID 1 does not reap would otherwise make a stopped group look alive).
 * @param {number} pgid
 * @returns {{ pid: number, comm: string }[]}
 */
export function groupMembers(pgid) {
  if (process.platform !== 'linux') {
    try {
      process.kill(-pgid, 0);
      return [{ pid: pgid, comm: '?' }];
    } catch {
      return [];
    }
  }
  const members = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push({ pid: stat.pid, comm: stat.comm });
  }
  return members;
}

/** @param {number} pid */
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited while we were looking
  }
  // comm may contain spaces and parentheses: the fields we want follow the last ')'.
  const close = text.lastIndexOf(')');
  const [state, ppid, pgrp] = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

/**
 * Process groups led by direct children of this process: how the harness finds the
 * chromium that playwright spawned (playwright starts it detached, as a group leader).
 * @returns {number[]}
 */
export function childGroupLeaders() {
  if (process.platform !== 'linux') return [];
  const leaders = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === process.pid && stat.pgrp === stat.pid && stat.state !== 'Z') leaders.push(stat.pid);
  }
  return leaders;
}

/**
 * Running processes whose name (comm, 15 chars at most) starts with `prefix`.
 * @param {string} prefix
 * @returns {{ pid: number, pgid: number }[]}
 */
export function processesNamed(prefix) {
  if (process.platform !== 'linux') return [];
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.comm.startsWith(prefix) && stat.state !== 'Z') found.push({ pid: stat.pid, pgid: stat.pgrp });
  }
  return found;
}

/**
 * Tracks a process group this module did not spawn, so that it is killed on exit
 * and checked by {@link assertNothingLeft}.
 * @param {number} pgid
 * @param {string} name
 */
export function adoptGroup(pgid, name) {
  liveGroups.set(pgid, name);
}

/**
 * @typedef {object} ManagedProcess
 * @property {string} name
 * @property {number} pid  also the process group id
 * @property {import('node:child_process').ChildProcess} child
 * @property {Promise<{ code: number | null, signal: string | null }>} exited
 * @property {() => Promise<void>} stop  SIGTERM to the group, SIGKILL after a grace period
 */

/**
 * Spawns `command` as the leader of a new process group, with stdout/stderr
 * appended to `logFile` (and optionally passed line by line to `onStdoutLine`).
 * @param {string} command
 * @param {string[]} args
 * @param {{ name: string, cwd?: string, env?: NodeJS.ProcessEnv, logFile?: string,
 *           onStdoutLine?: (line: string) => void, graceMs?: number }} options
 * @returns {ManagedProcess}
 */
export function spawnGroup(command, args, options) {
  const { name, cwd, env, logFile, onStdoutLine, graceMs = 5000 } = options;
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Without a pid the spawn failed (ENOENT...): `exited` rejects with the reason.
  if (child.pid !== undefined) liveGroups.set(child.pid, name);
  const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
  let pending = '';
  child.stdout.on('data', (chunk) => {
    log?.write(chunk);
    if (!onStdoutLine) return;
    pending += chunk.toString('utf8');
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onStdoutLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  });
  child.stderr.on('data', (chunk) => log?.write(chunk));
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  exited.catch(() => {}).finally(() => log?.end());
  const managed = {
    name,
    pid: /** @type {number} */ (child.pid),
    child,
    exited,
    stop: () => (child.pid === undefined ? Promise.resolve() : stopGroup(child.pid, graceMs)),
  };
  return managed;
}

/**
 * @param {number} pgid
 * @param {number} [graceMs]
 */
export async function stopGroup(pgid, graceMs = 5000) {
  signalGroup(pgid, 'SIGTERM');
  if (!(await waitForEmptyGroup(pgid, graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    await waitForEmptyGroup(pgid, 3000);
  }
  if (groupMembers(pgid).length === 0) liveGroups.delete(pgid);
}

/** @param {number} pgid @param {NodeJS.Signals} signal */
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ESRCH') throw e;
  }
}

/** @param {number} pgid @param {number} ms */
async function waitForEmptyGroup(pgid, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (groupMembers(pgid).length === 0) return true;
    await sleep(100);
  }
  return groupMembers(pgid).length === 0;
}

/**
 * Checks every group this process started or adopted is gone.
 * @returns {string[]} descriptions of survivors (empty when clean)
 */
export function leftoverProcesses() {
  const survivors = [];
  for (const [pgid, name] of liveGroups) {
    const members = groupMembers(pgid);
    if (members.length === 0) liveGroups.delete(pgid);
    for (const m of members) survivors.push(`${name}: pid ${m.pid} (${m.comm}) in group ${pgid}`);
  }
  return survivors;
}

/**
 * Registers a cleanup step; steps run last-registered first.
 * @param {() => Promise<void> | void} fn
 */
export function onCleanup(fn) {
  cleanups.push(fn);
}

let cleaning;
/**
 * Runs all cleanup steps once (later calls wait for the first), then kills any
 * tracked group that survived them.
 * @param {(...args: unknown[]) => void} [warn]
 */
export function runCleanups(warn = console.warn) {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (e) {
        warn('cleanup step failed:', e instanceof Error ? e.message : e);
      }
    }
    for (const pgid of [...liveGroups.keys()]) await stopGroup(pgid, 2000);
  })();
  return cleaning;
}

/**
 * Makes SIGINT/SIGTERM/SIGHUP run the cleanups and exit 128+signal, and makes a
 * plain process exit SIGKILL whatever is still tracked (the synchronous last resort).
 * @param {(...args: unknown[]) => void} [warn]
 */
export function installSignalHandlers(warn = console.warn) {
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  for (const [signal, number] of Object.entries(numbers)) {
    process.on(signal, () => {
      if (cleaning) {
        warn(`${signal} again: killing everything now`);
        killAllNow();
        process.exit(128 + number);
      }
      warn(`${signal}: stopping everything started by this run`);
      runCleanups(warn).finally(() => {
        const left = leftoverProcesses();
        if (left.length) warn(`still running, killing:\n  ${left.join('\n  ')}`);
        else warn('all processes started by this run are gone');
        process.exit(128 + number);
      });
    });
  }
  process.on('exit', killAllNow);
}

function killAllNow() {
  for (const pgid of liveGroups.keys()) signalGroup(pgid, 'SIGKILL');
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
