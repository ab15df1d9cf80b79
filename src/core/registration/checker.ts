// Shared by the key checks: problem collection, type names and the
// YAML 1.1 boolean leniency that matches Synapse.
import { t } from '../l10n';
import { keyOf as keyName, Path, problem, RegistrationSource } from './source';
import { RegistrationProblem, RegistrationProblemCode, SourceRange } from './types';

export type Record_ = Record<string, unknown>;

export function isPlainMapping(value: unknown): value is Record_ {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export function has(map: Record_, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

/** What a value is, in words that fit "must be a string, not {0}". */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return t('null');
  if (typeof value === 'boolean') return t('a boolean');
  if (typeof value === 'number' || typeof value === 'bigint') return t('a number');
  if (typeof value === 'string') return t('a string');
  if (Array.isArray(value)) return t('a list');
  if (value instanceof Uint8Array) return t('binary data');
  if (value instanceof Date) return t('a date');
  if (value instanceof Set) return t('a set');
  return t('a mapping');
}

// YAML 1.1 booleans: Synapse's PyYAML reads `exclusive: yes` as true, while
// YAML 1.2 loaders (and the yaml package) read the text "yes".
const YAML11_BOOLEANS: Record<string, boolean> = Object.fromEntries([
  ...['yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((w) => [w, true] as const),
  ...['no', 'No', 'NO', 'off', 'Off', 'OFF'].map((w) => [w, false] as const),
]);

export class FieldChecker {
  readonly problems: RegistrationProblem[] = [];

  constructor(private readonly source: RegistrationSource) {}

  error(code: RegistrationProblemCode, message: string, path: Path, at = this.source.locate(path)): void {
    this.problems.push(problem('error', code, message, at, path));
  }

  warn(code: RegistrationProblemCode, message: string, path: Path, at = this.source.locate(path)): void {
    this.problems.push(problem('warning', code, message, at, path));
  }

  locateKey(path: Path): SourceRange {
    return this.source.locate(path, 'key');
  }

  missing(message: string, path: Path): void {
    this.error('missing-key', message, path, this.source.locate(path.slice(0, -1)));
  }

  /** A boolean, accepting a plain YAML 1.1 yes/no/on/off with a warning. */
  boolean(value: unknown, path: Path): boolean | undefined {
    if (typeof value === 'boolean') return value;
    const node = this.source.nodeAt(path) as { type?: string } | undefined;
    if (typeof value === 'string' && has(YAML11_BOOLEANS, value) && node?.type === 'PLAIN') {
      this.warn(
        'yaml11-boolean',
        t(
          '{0} is written as {1}, which Synapse reads as a boolean but YAML 1.2 loaders read as text: write true or false.',
          keyName(path),
          value,
        ),
        path,
      );
      return YAML11_BOOLEANS[value];
    }
    return undefined;
  }
}
