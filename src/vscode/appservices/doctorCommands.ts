// Diagnose Appservice, Diagnose All Appservices and Which Appservice Owns…:
// ask what is missing, run the core doctor / matcher, sum up in one
// notification; the details go to the "Matrix Appservices" output.
import * as vscode from 'vscode';
import { claimsOf, CHECK_IDS, countChecks, formatDoctorSummary, namespaceKindOf, NamespaceClaim } from '../../core/doctor';
import type { DoctorCommandId } from './doctorCommandIds';
import type { DoctorRun, AppserviceDoctorService } from './doctorService';
import { t } from '../../core/l10n';
import type { PromptService } from '../prompts';
import type { AppserviceCatalog, AppserviceItem } from './catalog';
import { effectiveHomeserver, HomeserverMemory } from './homeservers';
import type { OutputSink } from './ports';
import type { ProgressReporter } from '../progress';
import type { AppserviceTreeNode } from './tree';
import { displayPath } from './workspaceSources';

type Arg = AppserviceTreeNode | undefined;

export interface DoctorCommandContext {
  catalog: AppserviceCatalog;
  doctor: AppserviceDoctorService;
  memory: HomeserverMemory;
  prompts: PromptService;
  output: OutputSink;
  pickItem(arg: Arg, placeHolder: string, filter: (i: AppserviceItem) => boolean): Promise<AppserviceItem | undefined>;
  homeserverFor(item: AppserviceItem, ask: boolean): Promise<string | undefined>;
  withCancellableProgress<T>(title: string, task: (signal: AbortSignal, progress: ProgressReporter) => Promise<T>): Promise<T>;
  /** Offers "Show Output" on a notification. */
  notify(kind: 'info' | 'warning', message: string): void;
}

const hasFile = (i: AppserviceItem): i is AppserviceItem & { file: string } => !!i.file;

function notifyRun(c: DoctorCommandContext, run: DoctorRun): void {
  const n = countChecks(run.report);
  c.notify(n.fail || n.warn ? 'warning' : 'info', formatDoctorSummary(run.report));
}

export function doctorCommands(c: DoctorCommandContext): Record<DoctorCommandId, (arg: Arg) => unknown> {
  return {
    'matrixDevtools.diagnoseAppservice': async (arg) => {
      const item = await c.pickItem(arg, t('Appservice to diagnose'), hasFile);
      if (!item || !hasFile(item)) return undefined;
      const homeserver = await c.homeserverFor(item, true);
      if (!homeserver) return undefined;
      const run = await c.withCancellableProgress(t('Diagnosing "{0}"…', item.id), (signal, progress) =>
        c.doctor.diagnose(item, homeserver, {
          signal,
          onCheck: (check) => progress.report({ increment: 100 / CHECK_IDS.length, message: check.id }),
        }),
      );
      notifyRun(c, run);
      return run;
    },
    'matrixDevtools.diagnoseAllAppservices': async () => {
      const items = c.catalog.items().filter(hasFile);
      if (items.length === 0) {
        void c.prompts.info(
          t(
            'No registration files found. Add them to the workspace or list them (registrationFile) in the matrixDevtools.appservices setting.',
          ),
        );
        return undefined;
      }
      const targets = items.map((item) => ({ item, homeserver: effectiveHomeserver(item, c.memory)?.input }));
      const runs = await c.withCancellableProgress(t('Diagnosing {0} appservices…', targets.length), (signal, progress) =>
        c.doctor.diagnoseAll(targets, signal, (done, total, run) =>
          progress.report({
            increment: 100 / total,
            message: t('{0}/{1}: {2}', done, total, run ? formatDoctorSummary(run.report) : t('cancelled')),
          }),
        ),
      );
      const failing = runs.filter((r) => countChecks(r.report).fail > 0).length;
      const warning = runs.filter((r) => countChecks(r.report).fail === 0 && countChecks(r.report).warn > 0).length;
      const parts = [t('{0} ok', runs.length - failing - warning)];
      if (warning) parts.push(t('{0} with warnings', warning));
      if (failing) parts.push(t('{0} failing', failing));
      if (runs.length < targets.length) parts.push(t('{0} cancelled', targets.length - runs.length));
      c.notify(
        failing || warning || runs.length < targets.length ? 'warning' : 'info',
        t('Diagnosed {0} appservices: {1} — see output', runs.length, parts.join(', ')),
      );
      return runs;
    },
    'matrixDevtools.whichAppserviceOwns': async () => {
      const registrations = c.catalog
        .items()
        .flatMap((i) => (i.registration && i.file ? [{ source: i.file, registration: i.registration }] : []));
      if (registrations.length === 0) {
        void c.prompts.info(
          t(
            'No usable registration files found. Add them to the workspace or list them (registrationFile) in the matrixDevtools.appservices setting.',
          ),
        );
        return undefined;
      }
      const typed = await c.prompts.inputBox({
        title: t('Which Appservice Owns…'),
        prompt: t(
          'A user id (@user:server), room alias (#alias:server) or room id (!room:server), matched the way the homeserver does (from the start of the id).',
        ),
        placeHolder: '@telegram_123:example.org',
        ignoreFocusOut: true,
        validateInput: (value) =>
          namespaceKindOf(value.trim()) && value.trim().length > 1 ? undefined : t('Start with @ (user), # (room alias) or ! (room id).'),
      });
      const id = typed?.trim();
      if (!id) return undefined;
      const claims = claimsOf(id, registrations);
      c.output.info(t('Which appservice owns {0}: {1}', id, claims.length ? t('{0} claim(s)', claims.length) : t('none')));
      for (const claim of claims) c.output.info(`    ${describeClaim(claim)} — ${displayPath(claim.source)}`);
      if (claims.length === 0) {
        void c.prompts.info(t('No registration in the workspace or settings claims {0}.', id));
        return claims;
      }
      const picked = await c.prompts.quickPick(
        claims.map((claim) => ({
          label: claim.appserviceId,
          description: describeClaim(claim),
          detail: displayPath(claim.source),
          claim,
        })),
        {
          placeHolder: t('{0} is claimed by {1} namespace(s): pick one to open its registration', id, claims.length),
          matchOnDescription: true,
          matchOnDetail: true,
        },
      );
      if (picked) await vscode.window.showTextDocument(vscode.Uri.file(picked.claim.source));
      return claims;
    },
  };
}

function describeClaim(claim: NamespaceClaim): string {
  if (claim.isSender) return t('its sender');
  return claim.exclusive
    ? t('{0}[{1}] exclusive: {2}', claim.kind, claim.index, claim.regex)
    : t('{0}[{1}] shared: {2}', claim.kind, claim.index, claim.regex);
}
