// The appservice commands as the command palette runs them: with no
// argument, with 0, 1 and 2 appservices. The registration glob is narrowed to
// this test's own folder, so other files in the workspace do not count.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PingReport } from '../../src/vscode/appservices/pingService';
import { addRegistration, fakeAppservice, registration, setSetting, settle, testFolder, useHomeserver } from './support/appservices';
import { type Api, eventually, extensionApi, runCommand, scriptPrompts, startHomeserver } from './support/host';

const NONE =
  'No appservices found. Put registration files (matching matrixDevtools.registrationGlob) in the workspace, or list them in the matrixDevtools.appservices setting.';

/** Only registrations in `dir` count for this test; none when `dir` is undefined. */
async function onlyRegistrationsIn(api: Api, dir: string | undefined): Promise<void> {
  await setSetting('matrixDevtools.appservices', []);
  await setSetting('matrixDevtools.registrationGlob', dir ? `${path.basename(dir)}/*.yaml` : 'no-such-folder-anywhere/*.yaml');
  // Wait until the catalog holds nothing else (the workspace has the dev homeserver's demo registrations).
  const inDir = (file: string | undefined) => !!dir && !!file?.startsWith(dir + path.sep);
  await settle(api, () => api.appservices.catalog.items().every((i) => inDir(i.file)), `only registrations in ${dir ?? 'no folder'}`);
}

describe('palette: appservice commands with no argument', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('with no appservice, each says where to put one and offers the settings; the palette hides them', async () => {
    await onlyRegistrationsIn(api, undefined);
    await eventually(() => api.appservices.contextKeys()['matrixDevtools.hasAppservices'] === false, 'hasAppservices false');
    assert.strictEqual(api.appservices.contextKeys()['matrixDevtools.hasRegistrationFiles'], false);
    for (const command of [
      'matrixDevtools.pingAppservice',
      'matrixDevtools.chooseAppserviceHomeserver',
      'matrixDevtools.openRegistrationFile',
      'matrixDevtools.pingAllAppservices',
    ]) {
      const prompts = await scriptPrompts();
      await runCommand(command);
      assert.deepStrictEqual(
        prompts.notifications.map((n) => [n.kind, n.message, n.actions]),
        [['info', NONE, ['Open Settings']]],
        command,
      );
      assert.deepStrictEqual(prompts.quickPicks, [], command);
    }
  });

  it('with one appservice, pings it without asking which', async () => {
    const hs = await startHomeserver();
    const reg = registration('palette-one', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    hs.registerAppservice(reg);
    const dir = testFolder(api, 'palette-one');
    await onlyRegistrationsIn(api, dir);
    const item = await addRegistration(api, dir, reg);
    await useHomeserver(api, item, hs);
    await eventually(() => api.appservices.contextKeys()['matrixDevtools.hasAppservices'] === true, 'hasAppservices true');
    const prompts = await scriptPrompts();

    const report = await runCommand<PingReport>('matrixDevtools.pingAppservice');
    assert.deepStrictEqual(prompts.quickPicks, []);
    assert.strictEqual(report.outcome, 'ok', JSON.stringify(report.result));
    assert.strictEqual(hs.count('POST', `/_matrix/client/v1/appservice/${reg.id}/ping`), 1);
    assert.strictEqual(
      prompts.notifications[0]?.message,
      `"${reg.id}": The homeserver reached the appservice in ${report.result.durationMs} ms.`,
    );

    await runCommand('matrixDevtools.openRegistrationFile');
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, item.file);
  });

  it('with two appservices, asks with id, homeserver and last ping result, and acts on the picked one', async () => {
    const hs = await startHomeserver();
    const pinged = registration('palette-a', null);
    pinged.url = (await fakeAppservice({ hsToken: pinged.hs_token })).url;
    const other = registration('palette-b', null);
    other.url = (await fakeAppservice({ hsToken: other.hs_token })).url;
    hs.registerAppservice(pinged);
    hs.registerAppservice(other);
    const dir = testFolder(api, 'palette-two');
    await onlyRegistrationsIn(api, dir);
    const a = await addRegistration(api, dir, pinged, 'a-registration.yaml');
    const b = await addRegistration(api, dir, other, 'b-registration.yaml');
    await useHomeserver(api, a, hs);
    await useHomeserver(api, b, hs);
    const prompts = await scriptPrompts();

    prompts.picks.push(pinged.id);
    const first = await runCommand<PingReport>('matrixDevtools.pingAppservice');
    assert.strictEqual(first.outcome, 'ok');
    assert.strictEqual(hs.count('POST', `/_matrix/client/v1/appservice/${pinged.id}/ping`), 1);
    assert.strictEqual(hs.count('POST', `/_matrix/client/v1/appservice/${other.id}/ping`), 0, 'the other appservice was pinged');
    const host = new URL(hs.baseUrl).host;
    const shown = (file: string | undefined) => vscode.workspace.asRelativePath(file ?? '', true);
    assert.deepStrictEqual(prompts.quickPicks[0].items, [
      { label: pinged.id, description: host, detail: `Last ping: never pinged · ${shown(a.file)}` },
      { label: other.id, description: host, detail: `Last ping: never pinged · ${shown(b.file)}` },
    ]);

    // The next question shows how that ping went.
    prompts.picks.push(other.id);
    await runCommand('matrixDevtools.openRegistrationFile');
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, b.file);
    assert.match(prompts.quickPicks[1].items[0].detail ?? '', new RegExp(`^Last ping: ok ${first.result.durationMs} ms · `));
    assert.strictEqual(prompts.quickPicks[1].placeHolder, 'Registration file to open');

    // Choose Homeserver asks which appservice, then which homeserver; the choice is what the next ping uses.
    const elsewhere = await startHomeserver();
    elsewhere.registerAppservice(other);
    prompts.picks.push(other.id);
    const original = prompts.quickPick.bind(prompts);
    prompts.quickPick = ((items, options) =>
      options?.placeHolder?.startsWith('Which homeserver')
        ? Promise.resolve(items).then((list) => list.find((i) => i.label.startsWith('Enter a homeserver')))
        : original(items, options)) as typeof prompts.quickPick;
    prompts.inputs.push(elsewhere.baseUrl);
    await runCommand('matrixDevtools.chooseAppserviceHomeserver');
    assert.strictEqual(api.appservices.memory.get(b.key), elsewhere.baseUrl);
    prompts.picks.push(other.id);
    const second = await runCommand<PingReport>('matrixDevtools.pingAppservice');
    assert.strictEqual(second.outcome, 'ok');
    assert.strictEqual(elsewhere.count('POST', `/_matrix/client/v1/appservice/${other.id}/ping`), 1);
  });
});
