// Diagnose Appservice in the extension: read the registration now, run the
// core doctor (the same code as `matrix-devtools doctor`) with the other
// workspace registrations to compare with, write one block to the output and
// remember the report for the tree. Reports hold no tokens.
import { DoctorCheck, DoctorReport, formatDoctorBlock, hasFailure, runDoctor } from '../../core/doctor';
import type { HttpClient } from '../../core/http';
import type { AppserviceRegistration, ParsedRegistration, RegistrationProblem } from '../../core/registration';
import { loadRegistrationForPing } from '../../core/registrationFile';
import type { AppserviceCatalog, AppserviceItem } from './catalog';
import { runWithConcurrency } from './concurrency';
import type { PingSettings } from './pingService';
import { OutputSink, writeBlock } from './ports';
import { Emitter } from '../ports';

/** Problems that come from another file, not from the file itself. */
const CONFLICT_CODES = new Set(['duplicate-id', 'duplicate-as-token', 'duplicate-hs-token', 'namespace-overlap']);

export interface DoctorRun {
  appserviceKey: string;
  at: number;
  report: DoctorReport;
}

export interface DoctorServiceDeps {
  http: () => HttpClient;
  readText: (file: string) => Promise<string>;
  catalog: AppserviceCatalog;
  output: OutputSink;
  settings: () => PingSettings;
  /** Shown next to other files' ids in sentences (a workspace-relative path). */
  displayPath: (file: string) => string;
  now?: () => number;
}

export class AppserviceDoctorService {
  private readonly runs = new Map<string, DoctorRun>();
  private readonly changed = new Emitter<string>();
  /** Fires with the appservice key whose diagnosis changed. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: DoctorServiceDeps) {}

  last(appserviceKey: string): DoctorRun | undefined {
    return this.runs.get(appserviceKey);
  }

  /** Runs every check for a file-backed item; `homeserver` undefined skips the homeserver's checks. */
  async diagnose(
    item: AppserviceItem & { file: string },
    homeserver: string | undefined,
    signal?: AbortSignal,
    onCheck?: (check: DoctorCheck) => void,
  ): Promise<DoctorRun> {
    const at = (this.deps.now ?? Date.now)();
    const loaded = await loadRegistrationForPing(this.deps.readText, item.file);
    const parsed: ParsedRegistration = 'unreadable' in loaded ? { problems: [unreadable(loaded.problem)] } : loaded.parsed;
    const conflicts = this.deps.catalog.problemsForFile(item.file).filter((p) => CONFLICT_CODES.has(p.code));
    const others = this.deps.catalog
      .items()
      .filter(
        (i): i is AppserviceItem & { registration: AppserviceRegistration; file: string } =>
          i.key !== item.key && !!i.registration && !!i.file,
      )
      .map((i) => ({ source: this.deps.displayPath(i.file), registration: i.registration }));
    const report = await runDoctor(this.deps.http(), {
      source: this.deps.displayPath(item.file),
      parsed,
      conflicts,
      others,
      homeserver,
      pingTimeoutMs: this.deps.settings().pingTimeoutMs,
      signal,
      onCheck,
    });
    const run = { appserviceKey: item.key, at, report };
    this.runs.set(item.key, run);
    writeBlock(
      this.deps.output,
      formatDoctorBlock(report, new Date(at)),
      report.checks.some((c) => c.status === 'fail' || c.status === 'warn'),
    );
    this.changed.fire(item.key);
    return run;
  }

  /** Diagnoses several with bounded concurrency; cancelling stops those not started yet. Reveals the output once when one failed. */
  async diagnoseAll(
    targets: ReadonlyArray<{ item: AppserviceItem & { file: string }; homeserver: string | undefined }>,
    signal?: AbortSignal,
    onProgress?: (done: number, total: number, run: DoctorRun | undefined) => void,
  ): Promise<DoctorRun[]> {
    let done = 0;
    const runs = await runWithConcurrency(
      targets,
      this.deps.settings().concurrency,
      async ({ item, homeserver }) => {
        const run = await this.diagnose(item, homeserver, signal);
        onProgress?.(++done, targets.length, run);
        return run;
      },
      () => {
        onProgress?.(++done, targets.length, undefined);
        return undefined;
      },
      signal,
    );
    const finished = runs.filter((r): r is DoctorRun => r !== undefined);
    if (finished.some((r) => hasFailure(r.report)) && this.deps.settings().revealOnFailure) this.deps.output.reveal();
    return finished;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function unreadable(message: string): RegistrationProblem {
  return { severity: 'error', code: 'unreadable', message, line: 1, column: 1, endLine: 1, endColumn: 1 };
}
