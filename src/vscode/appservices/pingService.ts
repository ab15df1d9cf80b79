// Ping one appservice, or all of them, through its homeserver; check one
// directly. Tokens are read from the registration file (or the secret store)
// at the moment they are needed and go nowhere else. Every report is written
// to the output as one block; nothing here is ever retried.
import { DirectCheckResult, checkAppserviceDirectly, compareDirectAndPing } from '../../core/appserviceDirect';
import { PingResult, choosePingEndpoint, pingAppservice } from '../../core/appservicePing';
import { describeError } from '../../core/errors';
import { discoverHomeserver, DiscoveredHomeserver } from '../../core/homeserver';
import type { HttpClient } from '../../core/http';
import { t } from '../../core/l10n';
import { redact, registerSecret } from '../../core/redact';
import { AppserviceRegistration, parseRegistration } from '../../core/registration';
import type { AppserviceItem } from './catalog';
import { runWithConcurrency } from './concurrency';
import { formatDirectBlock, formatPingBlock } from './format';
import { Emitter, KeyValueStore, OutputSink, SecretStore } from './ports';

const LAST_PING_KEY = 'matrixDevtools.appservices.lastPing';

export type PingOutcome = 'ok' | 'failed' | 'cancelled' | 'skipped';

export interface PingReport {
  appserviceKey: string;
  appserviceId: string;
  /** When the ping started (ms since epoch). */
  at: number;
  /** What the user configured: a server name or URL. */
  homeserverInput?: string;
  outcome: PingOutcome;
  /** False when it stopped before the ping request (no token, no ping support, homeserver unreachable…). */
  sent: boolean;
  result: PingResult;
}

/** What the tree remembers about the last ping (no tokens, no bodies). */
export interface LastPing {
  ok: boolean;
  at: number;
  durationMs?: number;
  roundTripMs?: number;
  errcode?: string;
  status?: number;
  summary: string;
}

export interface PingAllSummary {
  ok: number;
  failing: number;
  skipped: number;
  cancelled: number;
  reports: PingReport[];
}

export interface DirectReport {
  appserviceKey: string;
  appserviceId: string;
  at: number;
  url?: string | null;
  /** Set when the check could not start (no file, url: null, no hs_token). */
  notChecked?: string;
  direct?: DirectCheckResult;
  ping?: PingReport;
  verdict?: string;
}

export interface PingSettings {
  pingTimeoutMs: number;
  concurrency: number;
  revealOnFailure: boolean;
}

export interface PingServiceDeps {
  http: () => HttpClient;
  readText: (file: string) => Promise<string>;
  secrets: SecretStore;
  state: KeyValueStore;
  output: OutputSink;
  settings: () => PingSettings;
  now?: () => number;
}

export function asTokenSecretKey(appserviceId: string): string {
  return `matrixDevtools.appservice.asToken:${appserviceId}`;
}

export class AppservicePingService {
  private readonly changed = new Emitter<string>();
  /** Fires with the appservice key whose last result changed. */
  readonly onDidChangeResult = this.changed.event;

  constructor(private readonly deps: PingServiceDeps) {}

  lastPing(appserviceKey: string): LastPing | undefined {
    return this.allLast()[appserviceKey];
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
    this.write(formatPingBlock(report), report.outcome !== 'ok');
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
    const reports = await runWithConcurrency(
      targets,
      this.deps.settings().concurrency,
      async ({ item, homeserver }) => {
        const report = await this.pingQuietly(item, homeserver, signal);
        this.write(formatPingBlock(report), report.outcome !== 'ok');
        await this.remember(report);
        onProgress?.(++done, targets.length, report);
        return report;
      },
      ({ item, homeserver }) => {
        const report = this.notSent(item, homeserver, 'cancelled', t('Not pinged: Ping All was cancelled before this appservice\'s turn.'));
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
    const at = this.now();
    const base = { appserviceKey: item.key, appserviceId: item.id, at };
    const loaded = await this.loadRegistration(item);
    let report: DirectReport;
    if ('problem' in loaded) {
      report = { ...base, notChecked: loaded.problem };
    } else if (loaded.registration.url === null) {
      report = { ...base, url: null, notChecked: t('The registration has url: null: the homeserver never contacts this appservice (receive-only), so there is nothing to check.') };
    } else if (!loaded.registration.url) {
      report = { ...base, notChecked: t('The registration has no url.') };
    } else if (!loaded.registration.hsToken) {
      report = { ...base, url: loaded.registration.url, notChecked: t('The registration has no hs_token, so the homeserver\'s request cannot be reproduced.') };
    } else {
      const direct = await checkAppserviceDirectly(this.deps.http(), { url: loaded.registration.url, hsToken: loaded.registration.hsToken, signal });
      const ping = homeserver && !signal?.aborted ? await this.ping(item, homeserver, signal) : undefined;
      const verdict = ping?.sent ? compareDirectAndPing(direct, ping.result) : undefined;
      report = { ...base, url: loaded.registration.url, direct, ping, verdict };
    }
    const failed = !!report.notChecked || !report.direct?.reachable || report.direct.acceptsHsToken !== true || report.ping?.outcome === 'failed';
    this.write(formatDirectBlock(report, new Date(at)), failed);
    this.deps.output.reveal();
    return report;
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async pingQuietly(item: AppserviceItem, homeserver: string | undefined, signal?: AbortSignal): Promise<PingReport> {
    if (!homeserver) {
      return this.notSent(item, undefined, 'skipped', t('No homeserver is chosen for this appservice.'), t('Run "Choose Homeserver for Appservice", or set homeserver in the matrixDevtools.appservices setting.'));
    }
    try {
      const token = await this.asToken(item);
      if ('problem' in token) return this.notSent(item, homeserver, 'failed', token.problem, token.nextStep);
      let server: DiscoveredHomeserver;
      try {
        server = await discoverHomeserver(this.deps.http(), homeserver, signal);
      } catch (e) {
        if (signal?.aborted) return this.notSent(item, homeserver, 'cancelled', t('Cancelled before the ping was sent.'));
        return this.notSent(item, homeserver, 'failed', t('Could not reach the homeserver {0}: {1}', homeserver, describeError(e)), t('Check the homeserver name or URL and that the homeserver is running.'));
      }
      if (!choosePingEndpoint(server.versions)) {
        const newest = server.versions.versions.filter((v) => /^v\d+\.\d+$/.test(v)).sort(compareSpecVersions).pop() ?? '?';
        const report = this.notSent(item, homeserver, 'failed',
          t('{0} does not support appservice ping: its /versions lists spec versions up to {1} and advertises neither fi.mau.msc2659.stable nor fi.mau.msc2659, so no ping was sent.', server.baseUrl, newest),
          t('Appservice ping needs Matrix v1.7 (Synapse 1.84 or later); upgrade the homeserver, or use "Check Appservice Directly" to test the appservice from this machine.'));
        return { ...report, result: { ...report.result, homeserverUrl: server.baseUrl } };
      }
      const at = this.now();
      const result = await pingAppservice(this.deps.http(), {
        homeserverUrl: server.baseUrl,
        appserviceId: token.registrationId ?? item.id,
        asToken: token.asToken,
        versions: server.versions,
        timeoutMs: this.deps.settings().pingTimeoutMs,
        signal,
      });
      const outcome: PingOutcome = result.ok ? 'ok' : signal?.aborted ? 'cancelled' : 'failed';
      return { appserviceKey: item.key, appserviceId: item.id, at, homeserverInput: homeserver, outcome, sent: true, result };
    } catch (e) {
      // pingAppservice never throws; this is for the unexpected (a file system error, a bug).
      return this.notSent(item, homeserver, 'failed', t('The ping could not be prepared: {0}', describeError(e)));
    }
  }

  private notSent(item: AppserviceItem, homeserver: string | undefined, outcome: PingOutcome, summary: string, nextStep?: string): PingReport {
    return {
      appserviceKey: item.key,
      appserviceId: item.id,
      at: this.now(),
      homeserverInput: homeserver,
      outcome,
      sent: false,
      result: { ok: false, appserviceId: item.registration?.id ?? item.id, homeserverUrl: homeserver ?? '', transactionId: '', summary, nextStep },
    };
  }

  private async asToken(item: AppserviceItem): Promise<{ asToken: string; registrationId?: string } | { problem: string; nextStep?: string }> {
    if (item.source === 'settings') {
      const token = await this.deps.secrets.get(asTokenSecretKey(item.id));
      if (!token) {
        return { problem: t('No as_token is set for "{0}" (it has no registration file).', item.id), nextStep: t('Run "Set Appservice Token" and paste the as_token from the appservice\'s registration.') };
      }
      registerSecret(token);
      return { asToken: token };
    }
    const loaded = await this.loadRegistration(item);
    if ('problem' in loaded) return loaded;
    if (!loaded.registration.asToken) {
      return { problem: t('The registration file has no as_token.'), nextStep: t('Add the as_token the homeserver was given for this appservice to the file.') };
    }
    return { asToken: loaded.registration.asToken, registrationId: loaded.registration.id || undefined };
  }

  /** Reads the file now: the tokens used are the ones on disk at this moment. */
  private async loadRegistration(item: AppserviceItem): Promise<{ registration: AppserviceRegistration } | { problem: string; nextStep?: string }> {
    if (!item.file) {
      return { problem: t('"{0}" has no registration file; only a homeserver ping is possible for it.', item.id), nextStep: t('Add registrationFile to its entry in the matrixDevtools.appservices setting.') };
    }
    let text: string;
    try {
      text = await this.deps.readText(item.file);
    } catch (e) {
      return { problem: t('Could not read the registration file {0}: {1}', item.file, describeError(e)), nextStep: t('Check that the file exists and is readable.') };
    }
    const { registration, problems } = parseRegistration(text, item.file);
    if (registration) {
      registerSecret(registration.asToken);
      registerSecret(registration.hsToken);
      return { registration };
    }
    const first = problems.find((p) => p.severity === 'error') ?? problems[0];
    return {
      problem: first ? t('The registration file cannot be used: {0} (line {1}).', first.message, first.line) : t('The registration file cannot be used.'),
      nextStep: t('Fix the problems shown for the file in the Problems panel.'),
    };
  }

  private write(lines: string[], failed: boolean): void {
    const [head, ...rest] = lines;
    const out = this.deps.output;
    (failed ? out.warn : out.info).call(out, redact(head));
    for (const line of rest) out.info(redact(line));
  }

  private async remember(report: PingReport): Promise<void> {
    if (report.outcome !== 'ok' && report.outcome !== 'failed') return;
    const r = report.result;
    const last: LastPing = { ok: r.ok, at: report.at, durationMs: r.durationMs, roundTripMs: r.roundTripMs, errcode: r.errcode, status: r.status, summary: r.summary };
    await this.deps.state.update(LAST_PING_KEY, { ...this.allLast(), [report.appserviceKey]: last });
    this.changed.fire(report.appserviceKey);
  }

  private allLast(): Record<string, LastPing> {
    const value = this.deps.state.get<Record<string, LastPing>>(LAST_PING_KEY);
    return value && typeof value === 'object' ? value : {};
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function compareSpecVersions(a: string, b: string): number {
  const [a1, a2] = a.slice(1).split('.').map(Number);
  const [b1, b2] = b.slice(1).split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
