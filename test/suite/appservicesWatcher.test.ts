// Registration files reach the Appservices view without Refresh: in a folder
// created a moment before (code-server's watcher misses those files), and when
// the view becomes visible. Rescans keep the watchers they already have.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { itemForFile, registration, registrationYaml, setSetting, testFolder, writeFile } from './support/appservices';
import { type Api, eventually, extensionApi } from './support/host';

describe('appservices: registration files in new folders', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
    // Files are read once somebody looks (the view, a command); watching is about what happens after that.
    await api.appservices.loaded();
  });

  it('lists a registration written right after its folder was created, with no rescan asked for', async () => {
    const reg = registration('new-folder', null);
    const dir = testFolder(api, 'new-folder');
    const file = writeFile(dir, 'bridge-registration.yaml', registrationYaml(reg));
    await eventually(
      () => itemForFile(api, file)?.registration?.id === reg.id,
      `${reg.id} in the catalog without Refresh Appservices`,
      8_000,
    );
  });

  it('keeps its watchers across rescans and replaces them only when the glob changes', async () => {
    await api.appservices.rescan();
    const before = api.appservices.sourceStats().watcherSets;
    await api.appservices.rescan();
    await api.appservices.rescan();
    assert.strictEqual(api.appservices.sourceStats().watcherSets, before, 'a rescan recreated the watchers');
    await setSetting('matrixDevtools.registrationGlob', '**/*-registration.yaml');
    await eventually(() => api.appservices.sourceStats().watcherSets === before + 1, 'new watchers for the new glob', 5_000);
  });

  it('rescans when the Appservices view becomes visible', async () => {
    await vscode.commands.executeCommand('workbench.view.explorer');
    await new Promise((r) => setTimeout(r, 300));
    const before = api.appservices.sourceStats().scans;
    await vscode.commands.executeCommand('matrixDevtools.appservices.focus');
    await eventually(() => api.appservices.sourceStats().scans > before, 'a scan when the view is shown', 5_000);
  });
});
