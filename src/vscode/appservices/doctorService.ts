// Diagnose Appservice in the extension: read the registration now, run the
// core doctor (the same code as `matrix-devtools doctor`) with the other
// workspace registrations to compare with, write one block to the output and
// remember the report for the tree (across reloads, in workspaceState) with a
// fingerprint of the registration it diagnosed, so that the tree can say when
// the file changed since. Reports hold no tokens; the fingerprint is a hash.
import { DoctorCheck, DoctorReport, formatDoctorBlock, hasFailure, runDoctor } from '../../core/doctor';
import type { HttpClient } from '../../core/http';
import type { AppserviceRegistration, ParsedRegistration, RegistrationProblem } from '../../core/registration';
import { loadRegistrationForPing } from '../../core/registrationFile';
import type { AppserviceCatalog, AppserviceItem } from './catalog';
import { discoveryPerBatch, type Discover } from '../../core/homeserver';
import { runWithConcurrency } from '../../core/concurrency';
import type { PingSettings } from './pingService';
import { OutputSink, writeBlock } from './ports';
import { redact } from '../../core/redact';
import { Emitter, type MementoLike } from '../ports';
import { nodeCrypto } from '../../core/nodeModules';

/** Problems that come from another file, not from the file itself. */
const CONFLICT_CODES = new Set(['duplicate-id', 'duplicate-as-token', 'duplicate-hs-token', 'namespace-overlap']);

export interface DoctorRun {
  appserviceKey: string;
  at: number;
  report: DoctorReport;
  /** Hash of the registration as diagnosed (see fingerprintOf). */
  fingerprint: string;
}

const RUNS_KEY = 'matrixDevtools.doctor.lastRuns';
/** More diagnoses than this are not kept across reloads (oldest dropped). */
const MAX_KEPT = 100;

/**
 * What a diagnosis depends on in the file: the registration as parsed, or
 * the file's own errors when it has none. Hashed: it holds tokens.
 */
export function fingerprintOf(registration: AppserviceRegistration | undefined, problems: readonly RegistrationProblem[]): string {
  const own = problems.filter((p) => p.severity === 'error' && !CONFLICT_CODES.has(p.code)).map((p) => [p.code, p.line, p.column]);
  return nodeCrypto()
    .createHash('sha256')
    .update(JSON.stringify(registration ?? own))
    .digest('hex')
    .slice(0, 16);
}

export interface DoctorServiceDeps {
  http: () => HttpClient;
  readText: (file: string) => Promise<string>;
  catalog: AppserviceCatalog;
  output: OutputSink;
  settings: () => PingSettings;
  /** Shown next to other files' ids in sentences (a workspace-relative path). */
  displayPath: (file: string) => string;
  /** workspaceState: the last diagnoses survive a reload. */
  state?: MementoLike;
  now?: () => number;
}

export class AppserviceDoctorService {
  private readonly runs = new Map<string, DoctorRun>();
  private readonly changed = new Emitter<string>();
  /** Fires with the appservice key whose diagnosis changed. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: DoctorServiceDeps) {
    const kept = deps.state?.get<DoctorRun[]>(RUNS_KEY);
    if (Array.isArray(kept)) {
      for (const run of kept) if (isDoctorRun(run)) this.runs.set(run.appserviceKey, run);
    }
  }

  last(appserviceKey: string): DoctorRun | undefined {
    return this.runs.get(appserviceKey);
  }

  /** The item's registration changed since its last diagnosis (or it was never diagnosed: false). */
  isStale(item: AppserviceItem): boolean {
    const run = this.runs.get(item.key);
    return !!run && run.fingerprint !== fingerprintOf(item.registration, item.problems);
  }

  /**
   * Runs every check for a file-backed item; `homeserver` undefined skips the homeserver's checks.
   * `onCheck` sees each check as it finishes; `discover` shares discovery across a batch.
   */
  async diagnose(
    item: AppserviceItem & { file: string },
    homeserver: string | undefined,
    { signal, onCheck, discover }: { signal?: AbortSignal; onCheck?: (check: DoctorCheck) => void; discover?: Discover } = {},
  ): Promise<DoctorRun> {
    const at = (this.deps.now ?? Date.now)();
    const loaded = await loadRegistrationForPing(this.deps.readText, item.file, (file, text) => this.deps.catalog.parsedIfSame(file, text));
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
      discover,
    });
    const run: DoctorRun = { appserviceKey: item.key, at, report, fingerprint: fingerprintOf(parsed.registration, parsed.problems) };
    this.runs.delete(item.key);
    this.runs.set(item.key, run);
    await this.keep();
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
    const discover = discoveryPerBatch(this.deps.http());
    const runs = await runWithConcurrency(
      targets,
      this.deps.settings().concurrency,
      async ({ item, homeserver }) => {
        const run = await this.diagnose(item, homeserver, { signal, discover });
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

  private async keep(): Promise<void> {
    if (!this.deps.state) return;
    // Redacted once more on the way out: no sentence in a report should hold a token, and none will.
    const runs = [...this.runs.values()].slice(-MAX_KEPT).map((run) => ({
      ...run,
      report: {
        ...run.report,
        checks: run.report.checks.map((c) => ({
          ...c,
          message: redact(c.message),
          next: c.next === undefined ? undefined : redact(c.next),
        })),
      },
    }));
    await this.deps.state.update(RUNS_KEY, runs);
  }
}

function isDoctorRun(v: unknown): v is DoctorRun {
  const r = v as Partial<DoctorRun> | null;
  return (
    !!r &&
    typeof r.appserviceKey === 'string' &&
    typeof r.at === 'number' &&
    typeof r.fingerprint === 'string' &&
    !!r.report &&
    Array.isArray(r.report.checks)
  );
}

function unreadable(message: string): RegistrationProblem {
  return { severity: 'error', code: 'unreadable', message, line: 1, column: 1, endLine: 1, endColumn: 1 };
}
