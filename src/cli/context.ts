// What every CLI command receives, and the usage error main.ts turns into exit code 2.
import type { HttpRequester } from '../core/http';
import type { CliStore } from './store';

export class UsageError extends Error {}

export interface CliContext {
  options: Record<string, string | boolean | undefined>;
  /** Every value of options that may repeat (`--registration a --registration b`). */
  lists: Record<string, string[] | undefined>;
  positionals: string[];
  http: HttpRequester;
  store: CliStore;
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export type Command = (ctx: CliContext) => Promise<number>;

export function need(ctx: CliContext, name: string): string {
  const v = ctx.options[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}
