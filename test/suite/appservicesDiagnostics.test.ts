// Problems of registration files in the Problems panel (the real diagnostics
// VS Code shows): each kind with its message and position, gone once the file
// is fixed on disk (through the file watcher, no rescan).
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { RegistrationObject } from '../support/homeserver';
import { afterThisTest, eventually, extensionApi, workspaceFolder, type Api } from './support/host';
import { itemForFile, loadedItem, registration, registrationYaml, renderedItemFor, testFolder, writeFile } from './support/appservices';

interface Expected {
  severity: vscode.DiagnosticSeverity;
  code: string;
  message: string;
  /** 0-based, as VS Code shows them one-based in the Problems panel. */
  line: number;
  character: number;
}

interface Case {
  title: string;
  /** The broken text, made from a valid registration. */
  broken: (reg: RegistrationObject) => string;
  expected: (text: string, reg: RegistrationObject) => Expected;
  /** A warning still leaves a usable registration. */
  usable?: boolean;
}

const lineOf = (text: string, needle: string) => {
  const line = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `${needle} is not in the test's text`);
  return line;
};

const cases: Case[] = [
  {
    title: 'a YAML syntax error, at the position of the unclosed quote',
    broken: (reg) => registrationYaml(reg).replace(`url: "${reg.url}"`, `url: "${reg.url}`),
    expected: (text) => ({
      severity: vscode.DiagnosticSeverity.Error,
      code: 'yaml-syntax',
      message: 'This quoted value has no closing quote: add the quote where the value ends.',
      line: lineOf(text, 'url: "'),
      character: 'url: '.length,
    }),
  },
  {
    title: 'a missing key',
    broken: (reg) => registrationYaml(reg).replace(/^sender_localpart: .*\n/m, ''),
    expected: () => ({
      severity: vscode.DiagnosticSeverity.Error,
      code: 'missing-key',
      message: "sender_localpart is missing: add the localpart of the appservice's bot user.",
      line: 0,
      character: 0,
    }),
  },
  {
    title: 'url: null, as a warning that keeps the registration usable',
    broken: (reg) => registrationYaml({ ...reg, url: null }),
    expected: (text) => ({
      severity: vscode.DiagnosticSeverity.Warning,
      code: 'url-null',
      message: 'receive-only appservice: the homeserver cannot push events or pings to it',
      line: lineOf(text, 'url: null'),
      character: 'url: '.length,
    }),
    usable: true,
  },
  {
    title: 'a namespace regex that does not compile',
    broken: (reg) =>
      registrationYaml({ ...reg, namespaces: { users: [{ exclusive: true, regex: '@_bridge_(.*:example.org' }], aliases: [], rooms: [] } }),
    expected: (text) => ({
      severity: vscode.DiagnosticSeverity.Error,
      code: 'regex-invalid',
      message:
        'namespaces.users[0].regex is not a valid regular expression (Unterminated group): fix it, or the homeserver refuses to load the registration.',
      line: lineOf(text, '@_bridge_('),
      character: text.split('\n')[lineOf(text, '@_bridge_(')].indexOf("'"),
    }),
  },
  {
    title: 'as_token equal to hs_token',
    broken: (reg) => registrationYaml({ ...reg, hs_token: reg.as_token }),
    expected: (text) => ({
      severity: vscode.DiagnosticSeverity.Error,
      code: 'tokens-equal',
      message: 'as_token and hs_token are the same secret: generate a separate random secret for each.',
      line: lineOf(text, 'hs_token:'),
      character: 'hs_token: '.length,
    }),
  },
];

const ours = (d: vscode.Diagnostic) => d.source === 'matrix-registration';
/** Every registration here points at 127.0.0.1, which is worth a warning of its own. */
const notLoopback = (d: vscode.Diagnostic) => d.code !== 'url-loopback';

describe('registration diagnostics in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  for (const c of cases) {
    it(`shows ${c.title}, and clears it when the file is fixed`, async () => {
      const dir = testFolder(api, 'diagnostics');
      const reg = registration('diag', 'http://127.0.0.1:9');
      const text = c.broken(reg);
      const file = writeFile(dir, 'registration.yaml', text);
      const uri = vscode.Uri.file(file);
      const want = c.expected(text, reg);

      await loadedItem(api, file, (i) => i.problems.some((p) => p.code === want.code));
      await eventually(
        () => vscode.languages.getDiagnostics(uri).some((d) => d.code === want.code),
        `a ${want.code} diagnostic on ${file}`,
      );
      const shown = vscode.languages.getDiagnostics(uri).filter(ours).filter(notLoopback);
      assert.deepStrictEqual(
        shown.map((d) => ({
          severity: d.severity,
          code: d.code,
          message: d.message,
          line: d.range.start.line,
          character: d.range.start.character,
        })),
        [want],
      );
      assert.deepStrictEqual(
        api.appservices
          .diagnosticsFor(file)
          .filter(notLoopback)
          .map((d) => d.message),
        [want.message],
      );

      // The view lists the problem under the appservice, with its line.
      const item = await loadedItem(api, file);
      assert.strictEqual(!!item.registration, !!c.usable, 'only a warning leaves the registration usable');
      const detail = (await renderedItemFor(api, item)).children.find((n) => n.label === want.message);
      assert.ok(detail, `the tree lists "${want.message}"`);
      assert.strictEqual(detail.description, `line ${want.line + 1}`);
      assert.strictEqual(detail.icon, want.severity === vscode.DiagnosticSeverity.Error ? 'error' : 'warning');

      fs.writeFileSync(file, registrationYaml(reg));
      await eventually(
        () => !vscode.languages.getDiagnostics(uri).filter(ours).some(notLoopback),
        `the diagnostics of ${file} clear once it is fixed`,
        10_000,
      );
      assert.deepStrictEqual(
        vscode.languages
          .getDiagnostics(uri)
          .filter(ours)
          .map((d) => d.code),
        ['url-loopback'],
      );
      assert.strictEqual((await loadedItem(api, file, (i) => !!i.registration)).registration?.id, reg.id);
    });
  }

  it('removes the diagnostics of a registration file that is deleted', async () => {
    // In the workspace folder itself, watched since the window opened: the
    // watcher can miss a file created right after its new folder was.
    const reg = registration('diag-deleted', 'http://127.0.0.1:9');
    const file = writeFile(
      workspaceFolder(),
      `diag-deleted-${reg.id}-registration.yaml`,
      registrationYaml({ ...reg, hs_token: reg.as_token }),
    );
    afterThisTest(() => fs.rmSync(file, { force: true }));
    const uri = vscode.Uri.file(file);
    // Through the watcher alone (no rescan): a rescan could find the file before the
    // watcher reports it, and the watcher merges a create and a delete that arrive
    // in one batch into no event at all, so the delete would never be seen.
    await eventually(
      () => itemForFile(api, file)?.problems.some((p) => p.code === 'tokens-equal') === true,
      'the watcher reports the new file',
      10_000,
    );
    await eventually(() => vscode.languages.getDiagnostics(uri).some((d) => d.code === 'tokens-equal'), 'a tokens-equal diagnostic');

    fs.rmSync(file);

    await eventually(
      () => vscode.languages.getDiagnostics(uri).filter(ours).length === 0,
      'no diagnostics left on the deleted file',
      10_000,
    );
    assert.strictEqual(itemForFile(api, file), undefined, 'the deleted file is still in the Appservices view');
  });
});
