// The blocks a ping and a direct check write to the "Matrix Appservices"
// output. Loaded with the first ping or check (pingService.ts; esbuild.js
// emits dist/pingBlocks.js), not at activation. Only ids, URLs, codes and
// explanations: the callers never pass tokens in.
import { pingPath } from '../../core/ping';
import { t } from '../../core/l10n';
import { describeOutcome } from './format';
import type { DirectReport, PingReport } from './reports';

const INDENT = '    ';

export function formatPingBlock(report: PingReport): string[] {
  const r = report.result;
  const lines = [t('Ping appservice "{0}" at {1}', report.appserviceId, new Date(report.at).toISOString())];
  const add = (label: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') lines.push(`${INDENT}${label}: ${value}`);
  };
  add(t('homeserver'), describeHomeserverLine(report));
  if (r.endpoint) {
    add(t('endpoint'), `${r.endpoint === 'stable' ? t('stable') : t('MSC2659 (unstable)')} — POST ${pingPath(r.endpoint, r.appserviceId)}`);
  }
  if (report.sent) add(t('transaction id'), r.transactionId);
  add(t('outcome'), describeOutcome(report));
  if (r.durationMs !== undefined) {
    add(t('duration_ms'), t('{0} ms (homeserver → appservice → homeserver, measured by the homeserver)', r.durationMs));
  }
  if (r.roundTripMs !== undefined) add(t('client round trip'), t('{0} ms (this machine → homeserver → appservice → back)', r.roundTripMs));
  if (r.serverError) add(t('homeserver said'), r.serverError);
  if (r.appserviceStatus !== undefined) {
    add(
      t('appservice answered the homeserver'),
      r.appserviceBody ? `HTTP ${r.appserviceStatus}: ${oneLine(r.appserviceBody)}` : `HTTP ${r.appserviceStatus}`,
    );
  }
  add(t('explanation'), r.summary);
  add(t('next step'), r.nextStep);
  if (report.droppedEarlyPing) {
    add(
      t('early ping'),
      t(
        'sent to {0}, where the homeserver was found last time, and dropped: the homeserver is found elsewhere or advertises another ping endpoint now. It may still have reached the appservice.',
        report.droppedEarlyPing,
      ),
    );
  }
  return lines;
}

export function formatDirectBlock(report: DirectReport, at: Date): string[] {
  const lines = [t('Check appservice "{0}" directly at {1}', report.appserviceId, at.toISOString())];
  const add = (label: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') lines.push(`${INDENT}${label}: ${value}`);
  };
  add(t('url'), report.url === null ? 'null' : report.url);
  if (report.notChecked) {
    add(t('outcome'), t('not checked'));
    add(t('explanation'), report.notChecked);
    return lines;
  }
  const d = report.direct;
  if (!d) return lines;
  if (d.urlNote) add(t('url note'), d.urlNote);
  add(t('reachable from this machine'), d.reachable ? t('yes') : t('no'));
  add(t('hs_token accepted'), d.acceptsHsToken === undefined ? t('unknown') : d.acceptsHsToken ? t('yes') : t('no'));
  if (d.acceptsWrongToken) add(t('a wrong hs_token accepted too'), t('yes'));
  if (d.status !== undefined) add(t('HTTP status'), d.status);
  if (d.roundTripMs !== undefined) add(t('round trip'), `${d.roundTripMs} ms`);
  add(t('explanation'), d.summary);
  add(t('next step'), d.nextStep);
  if (report.ping) add(t('homeserver ping'), `${describeOutcome(report.ping)} — ${report.ping.result.summary}`);
  else add(t('homeserver ping'), t('not run (no homeserver chosen for this appservice)'));
  add(t('verdict'), report.verdict);
  return lines;
}

function describeHomeserverLine(report: PingReport): string | undefined {
  const url = report.result.homeserverUrl;
  const input = report.homeserverInput;
  if (!url) return input;
  if (!input || input.replace(/\/+$/, '') === url) return url;
  return `${url} (${input})`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}
