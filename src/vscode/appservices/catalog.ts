// Which appservices exist: registration files found in the workspace plus the
// `matrixDevtools.appservices` setting, merged into one list. Holds parse
// results (with their problems) but never hands tokens to anything that keeps
// them: pings read the file again when they run, and reuse the parse kept here
// when the file still says the same.
import * as path from 'node:path';
import { AppserviceRegistration, ParsedRegistration, RegistrationProblem, findConflicts, parseRegistration } from '../../core/registration';
import { t } from '../../core/l10n';
import { Emitter } from '../ports';

export interface AppserviceSettingsEntry {
  id: string;
  homeserver?: string;
  registrationFile?: string;
}

export type AppserviceSource = 'file' | 'settings';

export interface AppserviceItem {
  /** Stable identity: `file:<absolute path>` or `settings:<id>`. */
  key: string;
  /** The registration's id (or the settings id, or the file name when the file has none). */
  id: string;
  source: AppserviceSource;
  /** Absolute path of the registration file, when there is one. */
  file?: string;
  /** Parsed registration (from the last time the file was read); tokens inside are for nothing but pings. */
  registration?: AppserviceRegistration;
  /** Problems of the file (parse, validation, duplicate ids) and of the settings entry. */
  problems: RegistrationProblem[];
  /** `homeserver` from the settings entry, when one names this appservice. */
  configuredHomeserver?: string;
  /** Listed in the settings (with or without a file). */
  inSettings: boolean;
}

/** `text` is what `parsed` was parsed from (in memory only, like the tokens in `parsed`); none when the parser crashed. */
type FileState = { parsed: ParsedRegistration; text?: string } | { unreadable: string };

export class AppserviceCatalog {
  private readonly files = new Map<string, FileState>();
  private entries: AppserviceSettingsEntry[] = [];
  private duplicates = new Map<string, RegistrationProblem[]>();
  /** The merged list, built on first need after each change (the tree, pickers and `get` ask often). */
  private merged?: { items: readonly AppserviceItem[]; byKey: ReadonlyMap<string, AppserviceItem> };
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  /** @param baseDir resolves relative `registrationFile` paths (the first workspace folder). */
  constructor(private baseDir?: string) {}

  setBaseDir(dir: string | undefined): void {
    this.baseDir = dir;
    this.merged = undefined;
  }

  /** Replace every file at once (a full rescan). */
  replaceFiles(files: Iterable<[string, string | { unreadable: string }]>): void {
    this.files.clear();
    for (const [file, content] of files) this.files.set(path.resolve(file), toState(file, content));
    this.afterChange();
  }

  setFile(file: string, content: string | { unreadable: string }): void {
    this.files.set(path.resolve(file), toState(file, content));
    this.afterChange();
  }

  removeFile(file: string): void {
    if (this.files.delete(path.resolve(file))) this.afterChange();
  }

  setEntries(entries: readonly AppserviceSettingsEntry[]): void {
    this.entries = entries.filter((e) => e && typeof e.id === 'string' && e.id.trim() !== '').map((e) => ({ ...e, id: e.id.trim() }));
    this.afterChange();
  }

  /** Files the settings point at, resolved; the host must load them even when the glob misses them. */
  settingsFiles(): string[] {
    return this.entries.flatMap((e) => (e.registrationFile ? [this.resolve(e.registrationFile)] : []));
  }

  /**
   * The last parse of `file` when it was of exactly `text`: a ping reads the
   * file again (the tokens on disk now) and need not parse it again. Shared,
   * like the items: read it, do not change it.
   */
  parsedIfSame(file: string, text: string): ParsedRegistration | undefined {
    const state = this.files.get(path.resolve(file));
    return state && 'parsed' in state && state.text === text ? state.parsed : undefined;
  }

  knownFiles(): string[] {
    return [...this.files.keys()];
  }

  /** Problems to show on a file in the Problems panel (empty array = clear them). */
  problemsForFile(file: string): RegistrationProblem[] {
    const key = path.resolve(file);
    const state = this.files.get(key);
    if (!state) return [];
    const own = 'parsed' in state ? state.parsed.problems : [];
    return [...own, ...(this.duplicates.get(key) ?? [])];
  }

  /** Every appservice, sorted by id. The items are shared: read them, do not change them. */
  items(): AppserviceItem[] {
    return [...this.mergedList().items];
  }

  private mergedList(): NonNullable<AppserviceCatalog['merged']> {
    if (!this.merged) {
      const items = this.merge();
      const byKey = new Map<string, AppserviceItem>();
      for (const i of items) if (!byKey.has(i.key)) byKey.set(i.key, i);
      this.merged = { items, byKey };
    }
    return this.merged;
  }

  private merge(): AppserviceItem[] {
    const byFile = new Map<string, AppserviceItem>();
    for (const [file, state] of this.files) {
      const registration = 'parsed' in state ? state.parsed.registration : undefined;
      const writtenId = 'parsed' in state ? state.parsed.id?.value : undefined;
      const problems = 'parsed' in state ? this.problemsForFile(file) : [unreadableProblem(state.unreadable)];
      byFile.set(file, {
        key: `file:${file}`,
        id: registration?.id || writtenId || path.basename(file),
        source: 'file',
        file,
        registration,
        problems,
        inSettings: false,
      });
    }
    const settingsOnly: AppserviceItem[] = [];
    for (const entry of this.entries) {
      const target = entry.registrationFile
        ? byFile.get(this.resolve(entry.registrationFile))
        : [...byFile.values()].find((i) => i.registration?.id === entry.id);
      if (target) {
        target.inSettings = true;
        target.configuredHomeserver ??= nonEmpty(entry.homeserver);
        if (target.registration && target.registration.id !== entry.id) {
          target.problems = [
            ...target.problems,
            entryProblem(
              t('The setting lists id "{0}" but the file says "{1}"; pings use the file\'s id.', entry.id, target.registration.id),
              'settings-id-mismatch',
              'warning',
            ),
          ];
        }
        continue;
      }
      if (entry.registrationFile) {
        // Listed with a file that is not (yet) loaded or does not exist.
        const file = this.resolve(entry.registrationFile);
        settingsOnly.push({
          key: `file:${file}`,
          id: entry.id,
          source: 'file',
          file,
          problems: [entryProblem(t('Registration file {0} was not found.', file), 'file-not-found', 'error')],
          configuredHomeserver: nonEmpty(entry.homeserver),
          inSettings: true,
        });
        continue;
      }
      if (settingsOnly.some((i) => i.key === `settings:${entry.id}`)) continue;
      settingsOnly.push({
        key: `settings:${entry.id}`,
        id: entry.id,
        source: 'settings',
        problems: [],
        configuredHomeserver: nonEmpty(entry.homeserver),
        inSettings: true,
      });
    }
    return [...byFile.values(), ...settingsOnly].sort((a, b) => a.id.localeCompare(b.id) || a.key.localeCompare(b.key));
  }

  get(key: string): AppserviceItem | undefined {
    return this.mergedList().byKey.get(key);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private resolve(file: string): string {
    return path.resolve(this.baseDir ?? process.cwd(), file);
  }

  private afterChange(): void {
    const parsed = [...this.files].flatMap(([file, state]) => ('parsed' in state ? [{ file, parsed: state.parsed }] : []));
    this.duplicates = findConflicts(parsed);
    this.merged = undefined;
    this.changed.fire();
  }
}

function toState(file: string, content: string | { unreadable: string }): FileState {
  if (typeof content !== 'string') return content;
  try {
    return { parsed: parseRegistration(content, path.basename(file)), text: content };
  } catch (e) {
    // The parser promises not to throw; if it ever does, the file still gets a diagnostic.
    return {
      parsed: {
        problems: [
          {
            ...entryProblem(
              t('Could not parse the registration: {0}', e instanceof Error ? e.message : String(e)),
              'parser-crash',
              'error',
            ),
          },
        ],
      },
    };
  }
}

function unreadableProblem(reason: string): RegistrationProblem {
  return entryProblem(t('Could not read the registration file: {0}', reason), 'unreadable', 'error');
}

function entryProblem(message: string, code: string, severity: RegistrationProblem['severity']): RegistrationProblem {
  return { severity, message, line: 1, column: 1, endLine: 1, endColumn: 1, code };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s && s.trim() ? s.trim() : undefined;
}
