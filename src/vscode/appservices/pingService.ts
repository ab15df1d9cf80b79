// Ping one appservice, or all of them, through its homeserver; check one
// directly. Tokens are read from the registration file (or the secret store)
// at the moment they are needed and go nowhere else. Every report is written
// to the output as one block; nothing here is ever retried. What a ping does
// and the sentences it reports are in src/core/appserviceChecks.ts.
import {
  AsToken,
  checkDirectlyAndCompare,
  directRunNeedsAttention,
  notSentRun,
  NotUsable,
  PingOutcome,
  prepareAndPing,
} from '../../core/ping';
import { discoverHomeserver, discoveryPerBatch, DiscoveryMemory } from '../../core/homeserver';
import type { HttpRequester } from '../../core/http';
import { t } from '../../core/l10n';
import { registerSecret } from '../../core/redact';
import { AppserviceRegistration } from '../../core/registration';
import { asTokenOf, KnownParse, loadRegistrationForPing } from '../../core/registrationFile';
import type { AppserviceItem } from './catalog';
import { readingAhead, runWithConcurrency } from '../../core/concurrency';
import type * as PingBlocks from './pingBlocks';
import type { DirectReport, LastPing, PingAllSummary, PingReport } from './reports';
import { OutputSink, writeBlock } from './ports';
import { Emitter, MementoLike, SecretStorageLike } from '../ports';

export type { DirectReport, LastPing, PingAllSummary, PingOutcome, PingReport } from './reports';

/**
 * Each appservice's last result under a key of its own: one map for all of
 * them was read, copied and written whole on every ping (VS Code clones a
 * value on update), O(n) per ping in a Ping All over n.
 */
const lastPingKey = (appserviceKey: string) => `matrixDevtools.appservices.lastPing:${appserviceKey}`;

export interface PingSettings {
  pingTimeoutMs: number;
  concurrency: number;
  revealOnFailure: boolean;
}

export interface PingServiceDeps {
  http: () => HttpRequester;
  readText: (file: string) => Promise<string>;
  secrets: SecretStorageLike;
  state: MementoLike;
  output: OutputSink;
  settings: () => PingSettings;
  now?: () => number;
  /** The catalog's parse of a file when the text read for a ping is the same (`AppserviceCatalog.parsedIfSame`). */
  knownParse?: KnownParse;
}

let pingBlocks: typeof PingBlocks | undefined;
/** The output blocks, loaded with the first ping (esbuild.js emits dist/pingBlocks.js). */
function blocks(): typeof PingBlocks {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (pingBlocks ??= require('./pingBlocks') as typeof PingBlocks);
}

export function asTokenSecretKey(appserviceId: string): string {
  return `matrixDevtools.appservice.asToken:${appserviceId}`;
}

export class AppservicePingService {
  private readonly changed = new Emitter<string>();
  /** Fires with the appservice key whose last result changed. */
  readonly onDidChangeResult = this.changed.event;
  /** Each homeserver's last discovery: a ping is sent there while discovery runs again (prepareAndPing's `recalled`). */
  private readonly discoveries = new DiscoveryMemory();

  constructor(private readonly deps: PingServiceDeps) {}

  lastPing(appserviceKey: string): LastPing | undefined {
    const value = this.deps.state.get<LastPing>(lastPingKey(appserviceKey));
    return value && typeof value === 'object' ? value : undefined;
  }

  async setAsToken(appserviceId: string, token: string): Promise<void> {
    registerSecret(token);
    await this.deps.secrets.store(asTokenSecretKey(appserviceId), token);
  }

  async hasAsToken(appserviceId: string): Promise<boolean> {
    return !!(await this.deps.secrets.get(asTokenSecretKey(appserviceId)));
  }

  /** One ping, reported in the output. `homeserver` undefined = none chosen: reported, not sent. */
  async ping(item: AppserviceItem, homeserver: string | undefined, signal?: AbortSignal): Promise<PingReport> {
    const report = await this.pingQuietly(item, homeserver, signal);
    writeBlock(this.deps.output, blocks().formatPingBlock(report), report.outcome !== 'ok');
    await this.remember(report);
    if (report.outcome === 'failed' && this.deps.settings().revealOnFailure) this.deps.output.reveal();
    return report;
  }

  /**
   * Pings with at most `settings.concurrency` in flight. Cancelling stops new
   * pings and aborts running ones on this side (the homeserver may still
   * finish them). Reveals the output once at the end when something failed.
   */
  async pingAll(
    targets: ReadonlyArray<{ item: AppserviceItem; homeserver: string | undefined }>,
    signal?: AbortSignal,
    onProgress?: (done: number, total: number, report: PingReport) => void,
  ): Promise<PingAllSummary> {
    let done = 0;
    const discover = this.discoveries.remembering(discoveryPerBatch(this.deps.http()));
    const concurrency = this.deps.settings().concurrency;
    // Each lane reads its next registration file while its ping waits on the
    // homeserver. Otherwise that read (open, stat, read and close, each a trip
    // through the thread pool, slow while the other lanes' answers arrive)
    // sits between one ping's answer and the lane's next ping (bench/pingAll.js).
    // A file is then read one ping early, not at the start of its own ping.
    const files = targets.flatMap(({ item }) => (item.file ? [item.file] : []));
    const readText = readingAhead(files, concurrency, this.deps.readText);
    const reports = await runWithConcurrency(
      targets,
      concurrency,
      async ({ item, homeserver }) => {
        const report = await this.pingQuietly(item, homeserver, signal, discover, readText);
        writeBlock(this.deps.output, blocks().formatPingBlock(report), report.outcome !== 'ok');
        await this.remember(report);
        onProgress?.(++done, targets.length, report);
        return report;
      },
      ({ item, homeserver }) => {
        const report = this.notSent(item, homeserver, 'cancelled', t("Not pinged: Ping All was cancelled before this appservice's turn."));
        onProgress?.(++done, targets.length, report);
        return report;
      },
      signal,
    );
    const count = (o: PingOutcome) => reports.filter((r) => r.outcome === o).length;
    const summary = { ok: count('ok'), failing: count('failed'), skipped: count('skipped'), cancelled: count('cancelled'), reports };
    if (summary.failing > 0 && this.deps.settings().revealOnFailure) this.deps.output.reveal();
    return summary;
  }

  /**
   * Sends the homeserver's request (`POST {url}/_matrix/app/v1/ping` with the
   * hs_token) from here and, when a homeserver is known, pings through it too,
   * then says what the two together mean.
   */
  async checkDirectly(item: AppserviceItem, homeserver: string | undefined, signal?: AbortSignal): Promise<DirectReport> {
    let ping: PingReport | undefined;
    const run = await checkDirectlyAndCompare(this.deps.http(), {
      registration: await this.loadRegistration(item),
      ping: homeserver ? async () => (ping = await this.ping(item, homeserver, signal)) : undefined,
      signal,
      now: () => this.now(),
    });
    const report: DirectReport = {
      ...run,
      appserviceKey: item.key,
      appserviceId: item.id,
      ping,
      needsAttention: directRunNeedsAttention(run),
    };
    writeBlock(this.deps.output, blocks().formatDirectBlock(report, new Date(run.at)), report.needsAttention);
    this.deps.output.reveal();
    return report;
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async pingQuietly(
    item: AppserviceItem,
    homeserver: string | undefined,
    signal?: AbortSignal,
    discover = this.discoveries.remembering((input, s) => discoverHomeserver(this.deps.http(), input, s)),
    readText = this.deps.readText,
  ): Promise<PingReport> {
    const run = await prepareAndPing(this.deps.http(), {
      discover,
      recalled: homeserver === undefined ? undefined : this.discoveries.recall(homeserver),
      appserviceId: item.id,
      registrationId: item.registration?.id,
      homeserver,
      asToken: () => this.asToken(item, readText),
      timeoutMs: this.deps.settings().pingTimeoutMs,
      signal,
      now: () => this.now(),
    });
    return { ...run, appserviceKey: item.key };
  }

  private notSent(item: AppserviceItem, homeserver: string | undefined, outcome: PingOutcome, summary: string): PingReport {
    const target = { appserviceId: item.id, registrationId: item.registration?.id, homeserver, at: this.now() };
    return { ...notSentRun(target, outcome, summary), appserviceKey: item.key };
  }

  private async asToken(item: AppserviceItem, readText = this.deps.readText): Promise<AsToken | NotUsable> {
    if (item.source === 'settings') {
      const token = await this.deps.secrets.get(asTokenSecretKey(item.id));
      if (!token) {
        return {
          problem: t('No as_token is set for "{0}" (it has no registration file).', item.id),
          nextStep: t('Run "Set Appservice Token" and paste the as_token from the appservice\'s registration.'),
        };
      }
      registerSecret(token);
      return { asToken: token };
    }
    return asTokenOf(await this.loadRegistration(item, readText));
  }

  private async loadRegistration(
    item: AppserviceItem,
    readText = this.deps.readText,
  ): Promise<{ registration: AppserviceRegistration } | NotUsable> {
    if (!item.file) {
      return {
        problem: t('"{0}" has no registration file; only a homeserver ping is possible for it.', item.id),
        nextStep: t('Add registrationFile to its entry in the matrixDevtools.appservices setting.'),
      };
    }
    return loadRegistrationForPing(readText, item.file, this.deps.knownParse);
  }

  private async remember(report: PingReport): Promise<void> {
    if (report.outcome !== 'ok' && report.outcome !== 'failed') return;
    const r = report.result;
    const last: LastPing = {
      ok: r.ok,
      at: report.at,
      durationMs: r.durationMs,
      roundTripMs: r.roundTripMs,
      errcode: r.errcode,
      status: r.status,
      summary: r.summary,
    };
    await this.deps.state.update(lastPingKey(report.appserviceKey), last);
    this.changed.fire(report.appserviceKey);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
