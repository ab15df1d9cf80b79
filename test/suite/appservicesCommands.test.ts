// The other appservice commands in a real extension host: Set Appservice
// Token, Choose Homeserver, Open Registration File, Check Appservice Directly,
// Refresh and Show Log, each with the effect a user would notice.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { AppserviceItem } from '../../src/vscode/appservices/catalog';
import type { DirectReport, PingReport } from '../../src/vscode/appservices/pingService';
import { freePort } from '../support/appservice';
import {
  addRegistration,
  directHead,
  fakeAppservice,
  field,
  itemForFile,
  lastBlock,
  node,
  pingHead,
  registration,
  renderedItemFor,
  setSetting,
  settle,
  testFolder,
  typeHomeserverWhenAsked,
  uniqueId,
  usedSecrets,
  useHomeserver,
} from './support/appservices';
import { afterThisTest, type Api, eventually, extensionApi, runCommand, scriptPrompts, startHomeserver } from './support/host';

/** Lists a settings-only appservice (no registration file) and waits for the catalog to show it. */
async function settingsEntry(
  api: Api,
  entry: { id: string; homeserver?: string },
  target: vscode.ConfigurationTarget,
): Promise<AppserviceItem> {
  await setSetting('matrixDevtools.appservices', [entry], target);
  await settle(api, () => !!api.appservices.catalog.get(`settings:${entry.id}`), `settings entry ${entry.id} in the catalog`);
  const item = api.appservices.catalog.get(`settings:${entry.id}`);
  assert.ok(item);
  return item;
}

describe('Set Appservice Token in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('stores the as_token of a settings-only appservice from a password box, after which its ping succeeds', async () => {
    const hs = await startHomeserver();
    const reg = registration('from-settings', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    hs.registerAppservice(reg);
    const item = await settingsEntry(api, { id: reg.id, homeserver: hs.baseUrl }, vscode.ConfigurationTarget.Workspace);
    assert.strictEqual(item.source, 'settings');

    const asTokenNode = async () => (await renderedItemFor(api, item)).children.find((c) => c.label === 'as_token');
    assert.strictEqual((await asTokenNode())?.description, 'not set: run Set Appservice Token');

    // Without a token the ping is not sent, and the user is told what to run.
    const prompts = await scriptPrompts();
    const before = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));
    assert.strictEqual(before.sent, false);
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": No as_token is set for "${reg.id}" (it has no registration file).`]],
    );
    assert.match(field(lastBlock(api, pingHead(reg.id)), 'next step') ?? '', /^Run "Set Appservice Token" and paste the as_token/);
    assert.strictEqual(hs.count('POST', '/_matrix/client/v1/appservice'), 0);

    prompts.inputs.push(reg.as_token);
    const stored = await runCommand('matrixDevtools.setAppserviceToken', node(item));
    assert.strictEqual(stored, true);
    assert.deepStrictEqual(prompts.inputBoxes, [
      {
        title: `as_token for appservice "${reg.id}"`,
        prompt: 'The as_token from the registration the homeserver loaded. Kept in the secret store, never in settings.',
        password: true,
        value: undefined,
      },
    ]);
    assert.strictEqual(prompts.notifications.at(-1)?.message, `The as_token for "${reg.id}" is stored in the secret store.`);
    assert.strictEqual(await api.appservices.pings.hasAsToken(reg.id), true);
    assert.strictEqual((await asTokenNode())?.description, 'set (in the secret store)');

    const after = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));
    assert.strictEqual(after.outcome, 'ok', after.result.summary);
    assert.strictEqual(
      prompts.notifications.at(-1)?.message,
      `"${reg.id}": The homeserver reached the appservice in ${after.result.durationMs} ms.`,
    );
    assert.strictEqual(hs.count('POST', `/_matrix/client/v1/appservice/${reg.id}/ping`), 1);

    // The token went to the secret store, not to the settings.
    const settingsText = JSON.stringify(vscode.workspace.getConfiguration('matrixDevtools').inspect('appservices'));
    assert.ok(!settingsText.includes(reg.as_token), 'the as_token is in the settings');
  });

  it('sends the user to the registration file for an appservice that has one', async () => {
    const reg = registration('token-in-file', 'http://127.0.0.1:9');
    const item = await addRegistration(api, testFolder(api, 'token-in-file'), reg);
    const prompts = await scriptPrompts();
    prompts.answers.push('Open Registration File');

    const result = await runCommand('matrixDevtools.setAppserviceToken', node(item));

    assert.strictEqual(result, undefined);
    assert.deepStrictEqual(prompts.notifications, [
      {
        kind: 'info',
        message: `"${reg.id}" takes its as_token from its registration file at each ping; edit the file to change it.`,
        actions: ['Open Registration File'],
      },
    ]);
    assert.strictEqual(prompts.inputBoxes.length, 0, 'no token is asked for');
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, item.file);
  });
});

describe('Choose Homeserver for Appservice in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('remembers the typed homeserver, shows it in the tree, and pings through it without asking', async () => {
    const hs = await startHomeserver();
    const reg = registration('choose-hs', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'choose-hs'), reg);
    assert.strictEqual((await renderedItemFor(api, item)).description, 'no homeserver chosen · never pinged');
    const prompts = await scriptPrompts();
    typeHomeserverWhenAsked(prompts);
    prompts.inputs.push(`  ${hs.baseUrl}  `);
    const chosen = await runCommand('matrixDevtools.chooseAppserviceHomeserver', node(item));
    // Forget it after the test, like useHomeserver would.
    await useHomeserver(api, item, hs);

    assert.strictEqual(chosen, hs.baseUrl, 'typed input is trimmed');
    assert.deepStrictEqual(
      prompts.inputBoxes.map((b) => [b.title, b.prompt]),
      [
        [
          `Homeserver for appservice "${reg.id}"`,
          'The homeserver that loaded this registration: a server name (example.org) or URL (http://localhost:8008).',
        ],
      ],
    );
    assert.strictEqual((await renderedItemFor(api, item)).description, `${new URL(hs.baseUrl).host} · never pinged`);
    assert.match(
      (await renderedItemFor(api, item)).tooltip ?? '',
      new RegExp(`Homeserver: ${hs.baseUrl.replace(/[.]/g, '\\.')} \\(chosen for this appservice\\)`),
    );

    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice', node(item));
    assert.strictEqual(report.outcome, 'ok', report.result.summary);
    assert.strictEqual(report.result.homeserverUrl, hs.baseUrl);
    assert.strictEqual(prompts.inputBoxes.length, 1, 'the ping did not ask again');
  });

  it('points to the setting when the homeserver comes from matrixDevtools.appservices', async () => {
    const id = uniqueId('configured-hs');
    const item = await settingsEntry(api, { id, homeserver: 'matrix.example.org' }, vscode.ConfigurationTarget.Global);
    const prompts = await scriptPrompts();

    const result = await runCommand('matrixDevtools.chooseAppserviceHomeserver', node(item));

    assert.strictEqual(result, undefined);
    assert.deepStrictEqual(prompts.notifications, [
      {
        kind: 'info',
        message: `"${id}" uses matrix.example.org from the matrixDevtools.appservices setting; change it there.`,
        actions: ['Open Settings'],
      },
    ]);
    assert.strictEqual(prompts.inputBoxes.length, 0);
    assert.strictEqual(api.appservices.memory.get(item.key), undefined, 'nothing remembered over the setting');
    assert.strictEqual((await renderedItemFor(api, item)).description, 'matrix.example.org · never pinged');
  });
});

describe('Open Registration File in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('opens the file picked from the list of appservices in the editor', async () => {
    const reg = registration('open-file', 'http://127.0.0.1:9');
    const item = await addRegistration(api, testFolder(api, 'open-file'), reg);
    const prompts = await scriptPrompts();
    // With other registrations in the workspace the user picks this one; alone, it opens directly.
    prompts.picks.push(reg.id);

    const opened = await runCommand('matrixDevtools.openRegistrationFile');

    assert.strictEqual(opened, item.file);
    const editor = vscode.window.activeTextEditor;
    assert.strictEqual(editor?.document.uri.fsPath, item.file);
    assert.ok(editor?.document.getText().startsWith(`id: ${reg.id}\n`));
    for (const pick of prompts.quickPicks) assert.ok(pick.labels.includes(reg.id), `the picker lists ${reg.id}: ${pick.labels.join(', ')}`);
  });
});

describe('Check Appservice Directly in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  async function run(item: AppserviceItem) {
    const prompts = await scriptPrompts();
    const from = api.appservices.outputLines().length;
    const report = await runCommand<DirectReport>('matrixDevtools.checkAppserviceDirectly', node(item));
    return { prompts, report, block: lastBlock(api, directHead(item.id), from) };
  }

  it('says both this machine and the homeserver reach an appservice that accepts the hs_token', async () => {
    const hs = await startHomeserver();
    const reg = registration('direct-ok', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'direct-ok'), reg);
    await useHomeserver(api, item, hs);

    const { prompts, block } = await run(item);

    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['info', `"${reg.id}": Both this machine and the homeserver reach the appservice.`]],
    );
    assert.strictEqual(field(block, 'url'), fake.url);
    assert.strictEqual(field(block, 'reachable from this machine'), 'yes');
    assert.strictEqual(field(block, 'hs_token accepted'), 'yes');
    assert.strictEqual(field(block, 'a wrong hs_token accepted too'), undefined);
    assert.match(field(block, 'explanation') ?? '', /^The appservice answers here and accepts the hs_token \(\d+ ms\)\.$/);
    assert.match(field(block, 'url note') ?? '', /^127\.0\.0\.1 is a loopback address/);
    assert.match(field(block, 'homeserver ping') ?? '', /^OK \(HTTP 200\) — The homeserver reached the appservice in \d+ ms\.$/);
    assert.strictEqual(field(block, 'verdict'), 'Both this machine and the homeserver reach the appservice.');
    // Ours with the hs_token, ours with a wrong one (rejected), the homeserver's.
    assert.strictEqual(fake.calls.length, 3);
    assert.strictEqual(fake.calls.filter((c) => c.authorization === `Bearer ${reg.hs_token}`).length, 2);
  });

  it("tells apart an appservice that accepts this file's hs_token from a homeserver that sends another one", async () => {
    const hs = await startHomeserver();
    const reg = registration('direct-stale-hs', null);
    const fake = await fakeAppservice({ hsToken: reg.hs_token });
    reg.url = fake.url;
    // The homeserver loaded an older version of the registration, with another hs_token.
    const stale = { ...reg, hs_token: `${reg.hs_token}-old` };
    usedSecrets.add(stale.hs_token);
    hs.registerAppservice(stale);
    const item = await addRegistration(api, testFolder(api, 'direct-stale-hs'), reg);
    await useHomeserver(api, item, hs);

    const { prompts, block } = await run(item);

    const verdict =
      'The appservice accepts the hs_token in this file but rejected the one the homeserver sent: the homeserver has loaded a different registration; restart it after editing the file.';
    assert.deepStrictEqual(prompts.notifications, [{ kind: 'warning', message: `"${reg.id}": ${verdict}`, actions: ['Show Output'] }]);
    assert.strictEqual(field(block, 'hs_token accepted'), 'yes');
    assert.strictEqual(
      field(block, 'homeserver ping'),
      'failed: HTTP 502 M_BAD_STATUS — The appservice answered the homeserver with HTTP 403 (M_BAD_STATUS).',
    );
    assert.strictEqual(field(block, 'verdict'), verdict);
  });

  it("explains an appservice that rejects the registration's hs_token", async () => {
    const hs = await startHomeserver();
    const reg = registration('direct-reject', null);
    // The appservice's own config has another hs_token than the file.
    const fake = await fakeAppservice({ hsToken: `${reg.hs_token}-other` });
    reg.url = fake.url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, testFolder(api, 'direct-reject'), reg);
    await useHomeserver(api, item, hs);

    const { prompts, report, block } = await run(item);

    const verdict = "The appservice rejects the registration's hs_token from here too: its config and the registration file disagree.";
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${verdict}`]],
    );
    assert.strictEqual(report.direct?.acceptsHsToken, false);
    assert.strictEqual(field(block, 'reachable from this machine'), 'yes');
    assert.strictEqual(field(block, 'hs_token accepted'), 'no');
    assert.strictEqual(field(block, 'HTTP status'), '403');
    assert.strictEqual(
      field(block, 'explanation'),
      "The appservice answers here but rejects the registration's hs_token (HTTP 403 M_FORBIDDEN).",
    );
    assert.match(field(block, 'next step') ?? '', /^The appservice's own config has a different hs_token than this registration file/);
    assert.strictEqual(field(block, 'verdict'), verdict);
  });

  it('checks only from this machine when no homeserver is chosen, and says so', async () => {
    const reg = registration('direct-down', `http://127.0.0.1:${await freePort()}`);
    const item = await addRegistration(api, testFolder(api, 'direct-down'), reg);

    const { prompts, report, block } = await run(item);

    assert.strictEqual(report.ping, undefined);
    assert.strictEqual(prompts.notifications.length, 1);
    assert.strictEqual(prompts.notifications[0].kind, 'warning');
    assert.match(prompts.notifications[0].message, new RegExp(`^"${reg.id}": The appservice cannot be reached from this machine: .+`));
    assert.strictEqual(field(block, 'reachable from this machine'), 'no');
    assert.strictEqual(field(block, 'hs_token accepted'), 'unknown');
    assert.strictEqual(field(block, 'next step'), 'Start the appservice, or check the host and port in the registration url.');
    assert.strictEqual(field(block, 'homeserver ping'), 'not run (no homeserver chosen for this appservice)');
  });

  it('does not check a receive-only registration', async () => {
    const reg = registration('direct-null', null);
    const item = await addRegistration(api, testFolder(api, 'direct-null'), reg);

    const { prompts, block } = await run(item);

    const why =
      'The registration has url: null: the homeserver never contacts this appservice (receive-only), so there is nothing to check.';
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message]),
      [['warning', `"${reg.id}": ${why}`]],
    );
    assert.deepStrictEqual(block.slice(1), ['    url: null', '    outcome: not checked', `    explanation: ${why}`]);
  });
});

describe('Refresh Appservices in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('reads the registration files again', async () => {
    const reg = registration('refresh', 'http://127.0.0.1:9');
    const item = await addRegistration(api, testFolder(api, 'refresh'), reg);
    const file = item.file ?? '';
    // Let the watcher's own events for the new file pass first.
    await new Promise((r) => setTimeout(r, 500));
    // What the catalog holds is out of date (as after a missed watcher event).
    api.appservices.catalog.setFile(file, 'id: [');
    assert.strictEqual(itemForFile(api, file)?.registration, undefined);
    api.appservices.catalog.removeFile(file);
    assert.strictEqual(itemForFile(api, file), undefined);

    await runCommand('matrixDevtools.refreshAppservices');

    const refreshed = itemForFile(api, file);
    assert.ok(refreshed, 'the file is listed again right after the command');
    assert.strictEqual(refreshed.registration?.id, reg.id);
    assert.deepStrictEqual(
      refreshed.problems.filter((p) => p.severity === 'error'),
      [],
    );
  });
});

describe('Show Appservice Log in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('brings the "Matrix Appservices" output channel, with the latest report, to the front', async () => {
    // Something to read: a direct check of a receive-only registration writes a block.
    const item = await addRegistration(api, testFolder(api, 'show-log'), registration('show-log', null));
    await scriptPrompts();
    await runCommand('matrixDevtools.checkAppserviceDirectly', node(item));
    const last = api.appservices.outputLines().at(-1) ?? '';
    assert.match(last, /^ {4}explanation: The registration has url: null/);

    const isLog = (e: vscode.TextEditor | undefined) =>
      e?.document.uri.scheme === 'output' && decodeURIComponent(e.document.uri.path).includes('Matrix Appservices');
    // Focus is in an editor. Pings and direct checks reveal the output without
    // taking focus, so only the command can make the log the active editor.
    await vscode.window.showTextDocument(vscode.Uri.file(item.file ?? ''));
    afterThisTest(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));
    await new Promise((r) => setTimeout(r, 500));
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, item.file, 'the registration file has the focus');

    await runCommand('matrixDevtools.showAppserviceLog');

    await eventually(
      () => isLog(vscode.window.activeTextEditor),
      `the Matrix Appservices output has the focus (active: ${vscode.window.activeTextEditor?.document.uri.toString()})`,
      5_000,
    );
    const editor = vscode.window.activeTextEditor;
    await eventually(() => !!editor?.document.getText().includes(last), 'the output shows the latest report', 5_000);
  });
});
