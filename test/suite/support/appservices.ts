// Helpers for the appservice host tests: registration files in a per-test
// folder of the workspace (removed afterwards), the catalog waited on until it
// has read them, homeservers remembered for an item, settings restored after
// the test, and the output block a ping or direct check wrote.
import * as assert from 'assert';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AppserviceItem } from '../../../src/vscode/appservices/catalog';
import type { AppserviceTreeNode } from '../../../src/vscode/appservices/tree';
import type { AppservicesTreeProvider } from '../../../src/vscode/appservices/tree';
import { type FakeAppservice, startFakeAppservice } from '../../support/appservice';
import type { RegistrationObject, TestHomeserver } from '../../support/homeserver';
export { registrationYaml } from '../../support/registrationYaml';
import { registrationYaml } from '../../support/registrationYaml';
import type { ScriptedPrompts } from '../../support/scriptedPrompts';
import { afterThisTest, type Api, workspaceFolder } from './host';

/** Distinct, recognisable secrets: a leak check looks for exactly these strings. */
export const secret = (kind: 'as' | 'hs') => `${kind}tok-${randomBytes(12).toString('hex')}`;

/** An id nobody else in the run uses (duplicate ids are a registration error). */
export const uniqueId = (label: string) => `t-${label}-${randomBytes(3).toString('hex')}`;

/** Every as_token/hs_token a test of this run wrote or typed, for the leak checks. */
export const usedSecrets = new Set<string>();

export function registration(label: string, url: string | null, overrides: Partial<RegistrationObject> = {}): RegistrationObject {
  const id = overrides.id ?? uniqueId(label);
  const reg: RegistrationObject = {
    id,
    url,
    as_token: secret('as'),
    hs_token: secret('hs'),
    sender_localpart: `${id.replace(/-/g, '_')}_bot`,
    namespaces: { users: [{ exclusive: true, regex: `@_${id.replace(/-/g, '_')}_.*` }], aliases: [], rooms: [] },
    rate_limited: false,
    ...overrides,
  };
  usedSecrets.add(reg.as_token);
  usedSecrets.add(reg.hs_token);
  return reg;
}

/** Written by hand, the way bridges generate them. */

/**
 * A fresh folder in the workspace for this test's registration files. After
 * the test it is deleted and the catalog rescanned until none of its files is
 * listed any more (a deleted folder does not fire a delete per file).
 */
export function testFolder(api: Api, label: string): string {
  const name = `appservices-test-${label}-${randomBytes(3).toString('hex')}`;
  const dir = path.join(workspaceFolder(), name);
  fs.mkdirSync(dir, { recursive: true });
  afterThisTest(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await settle(
      api,
      () => !api.appservices.catalog.knownFiles().some((f) => f.startsWith(dir + path.sep)),
      `files of ${name} leave the catalog`,
    );
  });
  return dir;
}

/** Rescans until `check` holds; the watcher may get there first, which is fine. */
export async function settle(api: Api, check: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await api.appservices.rescan();
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

export function itemForFile(api: Api, file: string): AppserviceItem | undefined {
  return api.appservices.catalog.items().find((i) => i.file === path.resolve(file));
}

/** Writes `reg` as `<dir>/<name>` and waits until the catalog has parsed it. */
export async function addRegistration(api: Api, dir: string, reg: RegistrationObject, name = 'registration.yaml'): Promise<AppserviceItem> {
  const file = writeFile(dir, name, registrationYaml(reg));
  return loadedItem(api, file, (i) => i.registration?.id === reg.id);
}

export async function loadedItem(api: Api, file: string, ready: (item: AppserviceItem) => boolean = () => true): Promise<AppserviceItem> {
  await settle(
    api,
    () => {
      const item = itemForFile(api, file);
      return !!item && ready(item);
    },
    `the catalog reads ${path.basename(path.dirname(file))}/${path.basename(file)}`,
  );
  const item = itemForFile(api, file);
  assert.ok(item);
  return item;
}

/** What a command receives when the user clicks the item in the Appservices view. */
export const node = (item: AppserviceItem): AppserviceTreeNode => ({ type: 'appservice', item });

/** As if the user had chosen `hs` for the item once; forgotten after the test. */
export async function useHomeserver(api: Api, item: AppserviceItem, hs: TestHomeserver | string): Promise<void> {
  await api.appservices.memory.remember(item.key, typeof hs === 'string' ? hs : hs.baseUrl);
  afterThisTest(() => api.appservices.memory.forget(item.key));
}

/**
 * The homeserver question starts with a quick pick of the homeservers of the
 * signed-in accounts when there are any (other suites may leave some): answer
 * that one with "Enter a homeserver name or URL…" so the typed answer is used.
 */
export function typeHomeserverWhenAsked(prompts: ScriptedPrompts): void {
  const original = prompts.quickPick.bind(prompts);
  prompts.quickPick = (async <T extends { label: string }>(
    items: readonly T[] | Thenable<readonly T[]>,
    options?: { placeHolder?: string },
  ) => {
    if (options?.placeHolder?.startsWith('Which homeserver has the registration')) {
      const list = await items;
      prompts.quickPicks.push({
        labels: list.map((i) => i.label),
        placeHolder: options.placeHolder,
        items: list.map((i) => ({ label: i.label })),
      });
      return list.find((i) => i.label.startsWith('Enter a homeserver'));
    }
    return original(items, options);
  }) as ScriptedPrompts['quickPick'];
}

/** Sets a setting for this test and restores what was there afterwards. */
export async function setSetting(key: string, value: unknown, target = vscode.ConfigurationTarget.Workspace): Promise<void> {
  const [section, ...rest] = key.split('.');
  const name = rest.join('.');
  const config = vscode.workspace.getConfiguration(section);
  const inspected = config.inspect(name);
  const previous = target === vscode.ConfigurationTarget.Global ? inspected?.globalValue : inspected?.workspaceValue;
  await config.update(name, value, target);
  afterThisTest(() => vscode.workspace.getConfiguration(section).update(name, previous, target));
}

/**
 * The lines of the last output block whose first line starts with `head`
 * (`Ping appservice "x"` / `Check appservice "x" directly`), from index `from` on.
 */
export function lastBlock(api: Api, head: string, from = 0): string[] {
  const lines = api.appservices.outputLines();
  let start = -1;
  for (let i = lines.length - 1; i >= from; i--) {
    if (lines[i].startsWith(head)) {
      start = i;
      break;
    }
  }
  assert.ok(start >= 0, `no output block "${head}…" after line ${from}; the output ends with:\n${lines.slice(-15).join('\n')}`);
  const block = [lines[start]];
  for (let i = start + 1; i < lines.length && lines[i].startsWith('    '); i++) block.push(lines[i]);
  return block;
}

/** The value of `    label: value` in a block, or undefined. */
export function field(block: readonly string[], label: string): string | undefined {
  const prefix = `    ${label}: `;
  return block.find((l) => l.startsWith(prefix))?.slice(prefix.length);
}

export const pingHead = (id: string) => `Ping appservice "${id}" at `;
export const directHead = (id: string) => `Check appservice "${id}" directly at `;

export interface RenderedItem {
  label: string;
  description?: string;
  tooltip?: string;
  icon?: string;
  contextValue?: string;
  children: RenderedItem[];
}

/** The item for `appservice` and everything below it, as the view renders them. */
export async function renderTree(provider: AppservicesTreeProvider, nodeOf?: AppserviceTreeNode): Promise<RenderedItem[]> {
  const nodes = await provider.getChildren(nodeOf);
  return Promise.all(
    nodes.map(async (n) => {
      const item = provider.getTreeItem(n);
      const text = (v: unknown) =>
        v === undefined ? undefined : typeof v === 'string' ? v : v instanceof vscode.MarkdownString ? v.value : JSON.stringify(v);
      return {
        label: text(typeof item.label === 'object' ? item.label.label : item.label) ?? '',
        description: text(item.description),
        tooltip: text(item.tooltip),
        icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
        contextValue: item.contextValue,
        children: item.collapsibleState === vscode.TreeItemCollapsibleState.None ? [] : await renderTree(provider, n),
      };
    }),
  );
}

export async function renderedItemFor(api: Api, item: AppserviceItem): Promise<RenderedItem> {
  const current = api.appservices.catalog.get(item.key);
  assert.ok(current, `${item.key} is not in the catalog`);
  const provider = api.appservices.tree;
  const top = provider.getTreeItem(node(current));
  const text = (v: unknown) => (v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
  return {
    label: String(typeof top.label === 'object' ? top.label.label : top.label),
    description: text(top.description),
    tooltip: text(top.tooltip),
    icon: top.iconPath instanceof vscode.ThemeIcon ? top.iconPath.id : undefined,
    contextValue: top.contextValue,
    children: await renderTree(provider, node(current)),
  };
}

/** Every string of a rendered tree, flattened, for leak checks. */
export function treeText(items: readonly RenderedItem[]): string[] {
  return items.flatMap((i) => [i.label, i.description ?? '', i.tooltip ?? '', ...treeText(i.children)]);
}

/** A fake appservice stopped after the test. */
export async function fakeAppservice(opts: Parameters<typeof startFakeAppservice>[0]): Promise<FakeAppservice> {
  const fake = await startFakeAppservice(opts);
  afterThisTest(() => fake.stop());
  return fake;
}
