// Console output for the harness scripts: one prefix per script, and timed steps so
// a slow run shows where the time went.
import { performance } from 'node:perf_hooks';

/** @param {number} ms */
export function formatDuration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * @typedef {object} Logger
 * @property {(...args: unknown[]) => void} info
 * @property {(...args: unknown[]) => void} warn
 * @property {(...args: unknown[]) => void} error
 * @property {<T>(title: string, fn: () => Promise<T>) => Promise<T>} step
 *   Runs `fn`, printing the title before and the duration after (or the failure).
 */

/**
 * @param {string} prefix e.g. "test-host"
 * @returns {Logger}
 */
export function createLogger(prefix) {
  const tag = `[${prefix}]`;
  const info = (...args) => console.log(tag, ...args);
  const warn = (...args) => console.warn(tag, 'warning:', ...args);
  const error = (...args) => console.error(tag, 'error:', ...args);
  async function step(title, fn) {
    const started = performance.now();
    info(`${title} ...`);
    try {
      const result = await fn();
      info(`${title}: done in ${formatDuration(performance.now() - started)}`);
      return result;
    } catch (e) {
      error(`${title}: failed after ${formatDuration(performance.now() - started)}`);
      throw e;
    }
  }
  return { info, warn, error, step };
}
