// The appservice commands: pick what to act on, ask what is missing, run the
// model under withProgress, and sum up in one notification.
import * as vscode from 'vscode';
import { serverInputProblem } from '../../core/homeserver';
import { t } from '../../core/l10n';
import type { AccountsFeature } from '../accounts';
import { StaleSecretStoreError } from '../coherentSecrets';
import type { PromptService } from '../prompts';
import type { AppserviceCatalog, AppserviceItem } from './catalog';
import { DOCTOR_COMMAND_IDS, type DoctorCommandId } from './doctorCommandIds';
import type * as DoctorCommands from './doctorCommands';
import type { AppserviceDoctorService } from './doctorService';
import { describeOutcome, formatPingAllSummary } from './format';
import { describeHomeserver, effectiveHomeserver, homeserverChoices, HomeserverMemory, pingAllTargets } from './homeservers';
import type { AppservicePingService } from './pingService';
import type { OutputSink } from './ports';
import { notificationProgress, type ProgressReporter } from '../progress';
import type { AppserviceTreeNode } from './tree';
import { noAppservicesMessage, pickAppservice, type AppservicePickerDeps } from './picker';
import { displayPath } from './workspaceSources';

export interface AppserviceCommandContext {
  catalog: AppserviceCatalog;
  pings: AppservicePingService;
  memory: HomeserverMemory;
  accounts: AccountsFeature;
  prompts: PromptService;
  doctor: AppserviceDoctorService;
  output: OutputSink;
  showLog(): void;
  rescan(): Promise<void>;
  /** The first scan of the registration files (done once; later calls return at once). */
  ready(): Promise<void>;
  repaintTree(): void;
}

type Arg = AppserviceTreeNode | undefined;

export function registerAppserviceCommands(c: AppserviceCommandContext): vscode.Disposable {
  const showOutput = t('Show Output');
  const afterNotification = (choice: string | undefined) => {
    if (choice === showOutput) c.showLog();
  };

  const picker: AppservicePickerDeps = {
    items: () => c.catalog.items(),
    prompts: c.prompts,
    homeserverOf: (item) => {
      const hs = effectiveHomeserver(item, c.memory);
      return hs ? describeHomeserver(hs.input) : undefined;
    },
    lastPing: (item) => c.pings.lastPing(item.key),
    origin: (item) => (item.file ? displayPath(item.file) : t('from settings')),
    openSettings: () => vscode.commands.executeCommand('workbench.action.openSettings', 'matrixDevtools.appservices'),
  };
  /** A tree item's appservice, or (palette, keybinding) the one the user settles on. */
  const pickItem = async (
    arg: Arg,
    placeHolder: string,
    filter?: (i: AppserviceItem) => boolean,
    noneFitting?: string,
  ): Promise<AppserviceItem | undefined> => {
    if (arg?.type === 'appservice') return c.catalog.get(arg.item.key) ?? arg.item;
    return pickAppservice(picker, { placeHolder, filter, noneFitting });
  };

  /** The homeserver to ping through; asks (and remembers) when none is known yet. */
  const homeserverFor = async (item: AppserviceItem, ask: boolean): Promise<string | undefined> => {
    const known = effectiveHomeserver(item, c.memory);
    if (known || !ask) return known?.input;
    const picked = await pickHomeserver(item);
    if (picked) {
      await c.memory.remember(item.key, picked);
      c.repaintTree();
    }
    return picked;
  };

  const pickHomeserver = async (item: AppserviceItem): Promise<string | undefined> => {
    const enter = t('Enter a homeserver name or URL…');
    const choices = homeserverChoices(c.accounts.list());
    let input: string | undefined;
    if (choices.length > 0) {
      const picked = await c.prompts.quickPick(
        [
          ...choices.map((ch) => ({
            label: describeHomeserver(ch.homeserverUrl),
            description: ch.homeserverUrl,
            detail: ch.userIds.join(', '),
            value: ch.homeserverUrl,
          })),
          { label: enter, value: undefined },
        ],
        { placeHolder: t('Which homeserver has the registration of "{0}" loaded?', item.id) },
      );
      if (!picked) return undefined;
      input = picked.value;
    }
    if (input) return input;
    const typed = await c.prompts.inputBox({
      title: t('Homeserver for appservice "{0}"', item.id),
      prompt: t('The homeserver that loaded this registration: a server name (example.org) or URL (http://localhost:8008).'),
      ignoreFocusOut: true,
      validateInput: serverInputProblem,
    });
    return typed?.trim() || undefined;
  };

  const withCancellableProgress = <T>(title: string, task: (signal: AbortSignal, progress: ProgressReporter) => Promise<T>): Promise<T> =>
    notificationProgress.run(title, task, { cancellable: true });

  // The doctor's commands (and the doctor's checks behind them) are loaded on the first one run.
  let doctorHandlers: Record<DoctorCommandId, (arg: Arg) => unknown> | undefined;
  const doctor = () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
    (doctorHandlers ??= (require('./doctorCommands') as typeof DoctorCommands).doctorCommands({
      ...c,
      pickItem,
      homeserverFor,
      withCancellableProgress,
      notify: (kind, message) => void (kind === 'info' ? c.prompts.info : c.prompts.warning)(message, showOutput).then(afterNotification),
    }));

  const commands: Array<[string, (arg: Arg) => unknown]> = [
    [
      'matrixDevtools.pingAppservice',
      async (arg) => {
        const item = await pickItem(arg, t('Appservice to ping'));
        if (!item) return undefined;
        const homeserver = await homeserverFor(item, true);
        if (!homeserver) return undefined;
        const report = await withCancellableProgress(t('Pinging "{0}" through {1}…', item.id, describeHomeserver(homeserver)), (signal) =>
          c.pings.ping(item, homeserver, signal),
        );
        if (report.outcome === 'ok') void c.prompts.info(t('"{0}": {1}', item.id, report.result.summary));
        else if (report.outcome === 'failed') {
          void c.prompts.warning(t('"{0}": {1}', item.id, report.result.summary), showOutput).then(afterNotification);
        }
        return report;
      },
    ],
    [
      'matrixDevtools.pingAllAppservices',
      async () => {
        const items = c.catalog.items();
        if (items.length === 0) {
          const openSettings = t('Open Settings');
          void c.prompts.info(noAppservicesMessage(), openSettings).then((choice) => choice === openSettings && picker.openSettings());
          return undefined;
        }
        const targets = pingAllTargets(items, c.memory);
        const summary = await withCancellableProgress(t('Pinging {0} appservices…', targets.length), (signal, progress) =>
          c.pings.pingAll(targets, signal, (done, total, report) =>
            progress.report({
              increment: 100 / total,
              message: t('{0}/{1}: "{2}" {3}', done, total, report.appserviceId, describeOutcome(report)),
            }),
          ),
        );
        const message = formatPingAllSummary(summary);
        const notify = summary.failing > 0 || summary.skipped > 0 ? c.prompts.warning : c.prompts.info;
        void notify(message, showOutput).then(afterNotification);
        return summary;
      },
    ],
    [
      'matrixDevtools.setAppserviceToken',
      async (arg) => {
        const item = await pickItem(
          arg,
          t('Appservice whose as_token to set'),
          (i) => i.source === 'settings',
          t(
            'Every appservice here takes its as_token from its registration file; Set Appservice Token is for appservices listed in the matrixDevtools.appservices setting without a file.',
          ),
        );
        if (!item) return undefined;
        if (item.source !== 'settings') {
          const open = t('Open Registration File');
          const choice = await c.prompts.info(
            t('"{0}" takes its as_token from its registration file at each ping; edit the file to change it.', item.id),
            open,
          );
          if (choice === open && item.file) await vscode.window.showTextDocument(vscode.Uri.file(item.file));
          return undefined;
        }
        const token = await c.prompts.inputBox({
          title: t('as_token for appservice "{0}"', item.id),
          prompt: t('The as_token from the registration the homeserver loaded. Kept in the secret store, never in settings.'),
          password: true,
          ignoreFocusOut: true,
          validateInput: (value) => (value.trim() ? undefined : t('Paste the as_token.')),
        });
        if (!token?.trim()) return undefined;
        try {
          await c.pings.setAsToken(item.id, token.trim());
        } catch (e) {
          if (!(e instanceof StaleSecretStoreError)) throw e;
          const reload = t('Reload Window');
          if ((await c.prompts.error(e.message, reload)) === reload) void vscode.commands.executeCommand('workbench.action.reloadWindow');
          return false;
        }
        c.repaintTree();
        void c.prompts.info(t('The as_token for "{0}" is stored in the secret store.', item.id));
        return true;
      },
    ],
    [
      'matrixDevtools.chooseAppserviceHomeserver',
      async (arg) => {
        const item = await pickItem(arg, t('Appservice to choose a homeserver for'));
        if (!item) return undefined;
        if (item.configuredHomeserver) {
          const openSettings = t('Open Settings');
          const choice = await c.prompts.info(
            t('"{0}" uses {1} from the matrixDevtools.appservices setting; change it there.', item.id, item.configuredHomeserver),
            openSettings,
          );
          if (choice === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', 'matrixDevtools.appservices');
          return undefined;
        }
        const picked = await pickHomeserver(item);
        if (!picked) return undefined;
        await c.memory.remember(item.key, picked);
        c.repaintTree();
        return picked;
      },
    ],
    [
      'matrixDevtools.openRegistrationFile',
      async (arg) => {
        const item = await pickItem(
          arg,
          t('Registration file to open'),
          (i) => !!i.file,
          t('No appservice here has a registration file; they all come from the matrixDevtools.appservices setting.'),
        );
        if (!item?.file) return undefined;
        await vscode.window.showTextDocument(vscode.Uri.file(item.file));
        return item.file;
      },
    ],
    [
      'matrixDevtools.checkAppserviceDirectly',
      async (arg) => {
        const item = await pickItem(
          arg,
          t('Appservice to check directly'),
          (i) => !!i.file,
          t('Check Appservice Directly needs the hs_token from a registration file, and no appservice here has one.'),
        );
        if (!item) return undefined;
        const homeserver = await homeserverFor(item, false);
        const report = await withCancellableProgress(t('Checking "{0}" directly…', item.id), (signal) =>
          c.pings.checkDirectly(item, homeserver, signal),
        );
        const message = report.notChecked ?? report.verdict ?? report.direct?.summary ?? '';
        void (report.needsAttention ? c.prompts.warning : c.prompts.info)(t('"{0}": {1}', item.id, message), showOutput).then(
          afterNotification,
        );
        return report;
      },
    ],
    [
      'matrixDevtools.refreshAppservices',
      async () => {
        await c.rescan();
        c.repaintTree();
      },
    ],
    ['matrixDevtools.showAppserviceLog', () => c.showLog()],
    ...DOCTOR_COMMAND_IDS.map((id): [string, (arg: Arg) => unknown] => [id, (arg) => doctor()[id](arg)]),
  ];
  // The registration files are read on first need: every command that reads them waits for that first
  // scan (Refresh Appservices is one itself).
  const needsCatalog = (id: string) => id !== 'matrixDevtools.showAppserviceLog' && id !== 'matrixDevtools.refreshAppservices';
  return vscode.Disposable.from(
    ...commands.map(([id, run]) =>
      vscode.commands.registerCommand(id, async (arg: Arg) => {
        if (needsCatalog(id)) await c.ready();
        return run(arg);
      }),
    ),
  );
}
