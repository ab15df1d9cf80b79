// No as_token or hs_token ever reaches what the user sees or what VS Code
// keeps: output, notifications, prompts, diagnostics, the tree, workspaceState
// and settings. Runs after the other appservice suites (file order) and checks
// what they left too, besides a scenario of its own that touches every path.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  addRegistration,
  fakeAppservice,
  node,
  registration,
  registrationYaml,
  renderTree,
  setSetting,
  settle,
  testFolder,
  treeText,
  uniqueId,
  usedSecrets,
  useHomeserver,
  writeFile,
} from './support/appservices';
import {
  allScriptedPrompts,
  eventually,
  extensionApi,
  runCommand,
  scriptPrompts,
  startHomeserver,
  workspaceFolder,
  type Api,
} from './support/host';

/** workspaceState as the appservices feature holds it, ping results included. */
function workspaceStateText(api: Api): string {
  const text = api.appservices.workspaceStateText();
  assert.ok(text.includes('matrixDevtools.appservices.lastPing'), `no ping results in workspaceState: ${text.slice(0, 200)}`);
  return text;
}

function settingsText(): string {
  const config = vscode.workspace.getConfiguration('matrixDevtools');
  const names = ['appservices', 'registrationGlob', 'pingTimeoutSeconds', 'pingAllConcurrency', 'revealOutputOnPingFailure'];
  const onDisk = path.join(workspaceFolder(), '.vscode', 'settings.json');
  return JSON.stringify({
    inspected: names.map((n) => config.inspect(n)),
    workspaceFile: fs.existsSync(onDisk) ? fs.readFileSync(onDisk, 'utf8') : '',
  });
}

describe('appservice secrets in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('never shows or stores an as_token or hs_token outside the registration file and the secret store', async () => {
    const hs = await startHomeserver();
    hs.setPingTimeoutMs(300);
    const dir = testFolder(api, 'secrets');
    const prompts = await scriptPrompts();

    // A healthy ping and a token the appservice rejects (its answer goes to the output).
    const healthy = registration('secret-ok', null);
    healthy.url = (await fakeAppservice({ hsToken: healthy.hs_token })).url;
    const rejected = registration('secret-reject', null);
    rejected.url = (await fakeAppservice({ hsToken: `${rejected.hs_token}-other`, behaviour: 'ok' })).url;
    for (const reg of [healthy, rejected]) hs.registerAppservice(reg);
    const items = [
      await addRegistration(api, dir, healthy, 'ok-registration.yaml'),
      await addRegistration(api, dir, rejected, 'reject-registration.yaml'),
    ];
    for (const item of items) {
      await useHomeserver(api, item, hs);
      await runCommand('matrixDevtools.pingAppservice', node(item));
      await runCommand('matrixDevtools.checkAppserviceDirectly', node(item));
    }
    // An as_token typed into the password box for a settings-only appservice.
    const fromSettings = registration('secret-settings', null, { id: uniqueId('secret-settings') });
    fromSettings.url = (await fakeAppservice({ hsToken: fromSettings.hs_token })).url;
    hs.registerAppservice(fromSettings);
    await setSetting('matrixDevtools.appservices', [{ id: fromSettings.id, homeserver: hs.baseUrl }]);
    await settle(api, () => !!api.appservices.catalog.get(`settings:${fromSettings.id}`), 'the settings entry in the catalog');
    const settingsItem = api.appservices.catalog.get(`settings:${fromSettings.id}`);
    assert.ok(settingsItem);
    prompts.inputs.push(fromSettings.as_token);
    await runCommand('matrixDevtools.setAppserviceToken', node(settingsItem));
    await runCommand('matrixDevtools.pingAppservice', node(settingsItem));
    // A file whose problem is about its tokens.
    const same = registration('secret-same', 'http://127.0.0.1:9');
    const sameFile = writeFile(dir, 'same-registration.yaml', registrationYaml({ ...same, hs_token: same.as_token }));
    await eventually(
      () => vscode.languages.getDiagnostics(vscode.Uri.file(sameFile)).some((d) => d.code === 'tokens-equal'),
      'the tokens-equal diagnostic',
    );
    await runCommand('matrixDevtools.pingAllAppservices');

    // The scenario really ran: pings were answered both ways, the token was stored.
    assert.deepStrictEqual(
      hs.requests
        .filter((r) => r.path.endsWith('/ping'))
        .map((r) => r.status)
        .sort(),
      [200, 200, 200, 200, 200, 502, 502, 502],
      'ping and direct+ping for each file, the settings ping, then Ping All of the three with this homeserver (in any order)',
    );
    assert.strictEqual(await api.appservices.pings.hasAsToken(fromSettings.id), true);

    const secrets = new Set(usedSecrets);
    // Whatever else the workspace holds (the runner's demo registrations, other suites' files).
    for (const item of api.appservices.catalog.items()) {
      if (item.registration?.asToken) secrets.add(item.registration.asToken);
      if (item.registration?.hsToken) secrets.add(item.registration.hsToken);
    }
    for (const reg of [healthy, rejected, fromSettings, same]) assert.ok(secrets.has(reg.as_token) && secrets.has(reg.hs_token));

    const places: Record<string, string[]> = {
      'output lines': [...api.appservices.outputLines()],
      notifications: allScriptedPrompts.flatMap((p) => p.notifications.flatMap((n) => [n.message, ...n.actions])),
      'prompts (quick picks, input boxes)': allScriptedPrompts.flatMap((p) => [
        ...p.quickPicks.flatMap((q) => [...q.labels, q.placeHolder ?? '']),
        ...p.inputBoxes.flatMap((b) => [b.title ?? '', b.prompt ?? '', b.value ?? '']),
      ]),
      diagnostics: vscode.languages
        .getDiagnostics()
        .flatMap(([uri, ds]) => ds.map((d) => `${uri.fsPath}: ${d.message} ${String(d.code)} ${d.source ?? ''}`)),
      'tree items': treeText(await renderTree(api.appservices.tree)),
      workspaceState: [workspaceStateText(api)],
      settings: [settingsText()],
    };
    assert.ok(
      places['output lines'].length > 0 &&
        places.notifications.length > 0 &&
        places.diagnostics.length > 0 &&
        places['tree items'].length > 0,
    );
    const leaks = Object.entries(places).flatMap(([where, texts]) =>
      texts.flatMap((text) =>
        [...secrets].filter((s) => text.includes(s)).map((s) => `${where}: ${text.replace(s, `<${s.slice(0, 5)}…>`)}`),
      ),
    );
    assert.deepStrictEqual(leaks, []);

    // Stronger than "redacted": no explanation even needed redacting (a mangled
    // sentence is what a user would see otherwise).
    assert.deepStrictEqual(
      places['output lines'].filter((l) => l.includes('<redacted>')),
      [],
    );
  });
});
