// The manifest's promise to a new user: every command can be found in the
// command palette (under the context where it can do something), unless it is
// listed below as needing a tree item, with the reason. The context keys the
// `when` clauses use must be ones the extension sets.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_KEYS } from '../../src/vscode/contextKeys';

/** Commands that only make sense on a tree item, with why. Empty today: every command asks when it has no item. */
export const ITEM_ONLY_COMMANDS: Readonly<Record<string, string>> = {};

/** Context keys of VS Code itself that a palette `when` may use. */
const VSCODE_KEYS = new Set(['workspaceFolderCount', 'isWeb', 'remoteName']);

interface MenuEntry {
  command: string;
  when?: string;
}

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    menus: { commandPalette?: MenuEntry[] };
    walkthroughs?: Array<{ steps: Array<{ id: string; completionEvents?: string[] }> }>;
  };
}

const root = path.resolve(__dirname, '../../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
const ourKeys = new Set<string>(Object.values(CONTEXT_KEYS));

/** The identifiers a `when` clause reads (keys, not operators or literals). */
function keysOf(when: string): string[] {
  const withoutStrings = when.replace(/'[^']*'|"[^"]*"|\/(?:\\.|[^/])+\//g, ' ');
  return [...withoutStrings.matchAll(/[A-Za-z_][\w.]*/g)]
    .map((m) => m[0])
    .filter((w) => w !== 'true' && w !== 'false' && w !== 'in' && w !== 'not');
}

/** True when the clause can hold: not `false`, and every key it reads is one somebody sets. */
function reachable(when: string | undefined): { ok: boolean; why?: string } {
  if (when === undefined) return { ok: true };
  if (when.trim() === 'false') return { ok: false, why: '"when": "false" hides it always' };
  const unknown = keysOf(when).filter((k) => !ourKeys.has(k) && !VSCODE_KEYS.has(k));
  return unknown.length ? { ok: false, why: `reads context keys nothing sets: ${unknown.join(', ')}` } : { ok: true };
}

describe('manifest: the command palette', () => {
  const commands = manifest.contributes.commands.map((c) => c.command);
  const palette = manifest.contributes.menus.commandPalette ?? [];

  it('lists every command under some context, or names it as item-only with a reason', () => {
    const problems: string[] = [];
    for (const command of commands) {
      const entries = palette.filter((e) => e.command === command);
      const itemOnly = ITEM_ONLY_COMMANDS[command];
      if (itemOnly !== undefined) {
        if (!itemOnly.trim()) problems.push(`${command}: item-only without a reason`);
        if (!entries.some((e) => e.when === 'false')) problems.push(`${command}: listed as item-only but not hidden from the palette`);
        continue;
      }
      if (entries.length === 0) continue; // no entry: always in the palette
      const verdicts = entries.map((e) => reachable(e.when));
      if (!verdicts.some((v) => v.ok)) problems.push(`${command}: ${verdicts.map((v) => v.why).join('; ')}`);
    }
    assert.deepEqual(problems, []);
  });

  it('has no palette entry or allow-list entry for a command that does not exist', () => {
    const stray = [...palette.map((e) => e.command), ...Object.keys(ITEM_ONLY_COMMANDS)].filter((c) => !commands.includes(c));
    assert.deepEqual(stray, []);
  });

  it('uses every context key the extension sets, and each command shows under Matrix with a translated title', () => {
    const steps = manifest.contributes.walkthroughs?.flatMap((w) => w.steps) ?? [];
    const used = new Set([
      ...palette.flatMap((e) => (e.when ? keysOf(e.when) : [])),
      // A walkthrough step completing on it (onContext:<expression>) reads it too.
      ...steps.flatMap((s) => (s.completionEvents ?? []).filter((e) => e.startsWith('onContext:')).flatMap((e) => keysOf(e.slice(10)))),
    ]);
    assert.deepEqual(
      [...ourKeys].filter((k) => !used.has(k)),
      [],
      'a context key is set but neither a palette entry nor a walkthrough step reads it',
    );
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'Matrix', `${c.command} has no "Matrix" category`);
      const key = /^%(.+)%$/.exec(c.title)?.[1];
      assert.ok(key && nls[key], `${c.command}: its title is not in package.nls.json`);
    }
  });

  it('tells reachable from hidden clauses apart (the check itself can fail)', () => {
    assert.equal(reachable('false').ok, false);
    assert.equal(reachable('matrixDevtools.noSuchKey').ok, false);
    assert.equal(reachable(`${CONTEXT_KEYS.hasAccounts} && !isWeb`).ok, true);
    assert.deepEqual(keysOf("view == 'x.y' && viewItem =~ /^a\\.b/"), ['view', 'viewItem']);
  });
});

describe('manifest: the getting-started walkthrough', () => {
  const walkthroughs = manifest.contributes.walkthroughs ?? [];
  const commands = new Set(manifest.contributes.commands.map((c) => c.command));
  const settings = new Set(
    Object.keys((manifest.contributes as { configuration?: { properties?: Record<string, unknown> } }).configuration?.properties ?? {}),
  );

  it('has steps that each complete on an event the extension can cause, with pictures that exist', () => {
    assert.equal(walkthroughs.length, 1);
    const problems: string[] = [];
    for (const step of walkthroughs[0].steps as Array<{
      id: string;
      completionEvents?: string[];
      media?: { image?: string | Record<string, string> };
    }>) {
      if (!step.completionEvents?.length) problems.push(`${step.id}: no completion event (it would complete on a click)`);
      for (const event of step.completionEvents ?? []) {
        const [kind, what] = event.split(/:(.*)/s);
        const known =
          kind === 'onCommand'
            ? commands.has(what)
            : kind === 'onContext'
              ? ourKeys.has(what)
              : kind === 'onSettingChanged'
                ? settings.has(what)
                : false;
        if (!known) problems.push(`${step.id}: ${event} names nothing this extension has`);
      }
      const image = step.media?.image;
      // The workbench reads `hc` of a themed image unconditionally: without it the whole walkthrough fails to register.
      const themed = image && typeof image !== 'string' ? image : undefined;
      if (themed && !(themed.light && themed.dark && themed.hc)) problems.push(`${step.id}: a themed image needs light, dark and hc`);
      for (const file of typeof image === 'string' ? [image] : Object.values(image ?? {})) {
        if (!fs.existsSync(path.join(root, file))) problems.push(`${step.id}: ${file} does not exist`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('ships every step picture in the .vsix, and no other screenshot (what .vscodeignore lets through)', async function () {
    this.timeout(60_000);
    const { listFiles } = await import('@vscode/vsce');
    const packaged = new Set(await listFiles({ cwd: root, packageManager: 'none' as never }));
    const pictures = walkthroughs[0].steps.flatMap((step) => {
      const image = (step as { media?: { image?: string | Record<string, string> } }).media?.image;
      return typeof image === 'string' ? [image] : Object.values(image ?? {});
    });
    assert.ok(pictures.length > 0);
    assert.deepEqual(
      pictures.filter((file) => !packaged.has(file)),
      [],
      'a walkthrough picture that is not in the package shows as a broken image',
    );
    assert.deepEqual(
      [...packaged].filter((file) => file.startsWith('media/screenshots/') && !pictures.includes(file)),
      [],
      "the README's other pictures stay out of the package",
    );
  });

  it('is offered from the Accounts view when it is empty', () => {
    assert.match(nls['welcome.accounts'], /\(command:matrixDevtools\.openWalkthrough\)/);
  });
});
