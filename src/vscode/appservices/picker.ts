// Which appservice a command acts on when it was not run from a tree item:
// the only candidate without a question, otherwise a quick pick with id,
// homeserver and last ping result; with none, one sentence that says why and
// where to add one. Also the palette's context keys for appservice commands.
import { t } from '../../core/l10n';
import { CONTEXT_KEYS, type ContextKey } from '../contextKeys';
import type { Prompts } from '../prompts';
import type { AppserviceItem } from './catalog';
import { describeLastPing } from './format';
import type { LastPing } from './reports';

export interface AppservicePickerDeps {
  items(): AppserviceItem[];
  prompts: Prompts;
  /** The homeserver pings go through, as the user reads it; undefined when none is chosen yet. */
  homeserverOf(item: AppserviceItem): string | undefined;
  lastPing(item: AppserviceItem): LastPing | undefined;
  /** Where the appservice comes from: a workspace-relative file, or the settings. */
  origin(item: AppserviceItem): string;
  /** Opens the settings where appservices and the registration glob are configured. */
  openSettings(): Thenable<unknown>;
}

export interface PickAppserviceRequest {
  placeHolder: string;
  /** Which appservices the command can act on (default: all). */
  filter?: (item: AppserviceItem) => boolean;
  /** Said when appservices exist but none passes the filter. */
  noneFitting?: string;
}

export interface AppservicePickItem {
  label: string;
  description: string;
  detail: string;
  item: AppserviceItem;
}

export function appservicePickItem(deps: AppservicePickerDeps, item: AppserviceItem): AppservicePickItem {
  return {
    label: item.id,
    description: deps.homeserverOf(item) ?? t('no homeserver chosen'),
    detail: t('Last ping: {0} · {1}', describeLastPing(deps.lastPing(item)), deps.origin(item)),
    item,
  };
}

export async function pickAppservice(deps: AppservicePickerDeps, request: PickAppserviceRequest): Promise<AppserviceItem | undefined> {
  const all = deps.items();
  const candidates = request.filter ? all.filter(request.filter) : all;
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    const openSettings = t('Open Settings');
    const message = all.length === 0 || !request.noneFitting ? noAppservicesMessage() : request.noneFitting;
    if ((await deps.prompts.info(message, openSettings)) === openSettings) await deps.openSettings();
    return undefined;
  }
  const picked = await deps.prompts.quickPick(
    candidates.map((item) => appservicePickItem(deps, item)),
    { placeHolder: request.placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.item;
}

export function noAppservicesMessage(): string {
  return t(
    'No appservices found. Put registration files (matching matrixDevtools.registrationGlob) in the workspace, or list them in the matrixDevtools.appservices setting.',
  );
}

export function appserviceContextKeys(items: readonly AppserviceItem[]): Partial<Record<ContextKey, boolean>> {
  return {
    [CONTEXT_KEYS.hasAppservices]: items.length > 0,
    [CONTEXT_KEYS.hasRegistrationFiles]: items.some((i) => !!i.file),
    [CONTEXT_KEYS.hasSettingsAppservices]: items.some((i) => i.source === 'settings'),
  };
}
