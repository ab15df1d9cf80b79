// Get Started opens the walkthrough in an editor, from the palette and from
// the Accounts view's welcome content (which runs this same command).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { afterThisTest, eventually, runCommand } from './support/host';

describe('the getting-started walkthrough', () => {
  it('Get Started opens "Get started with Matrix DevTools" in an editor tab', async () => {
    // Start from no editor at all, so the tab checked below can only be the one the command opened
    // (the workbench may already show a Welcome tab, which the walkthrough then reuses).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const activeTab = () => vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.strictEqual(activeTab(), undefined, 'no editor is open before Get Started');
    await runCommand('matrixDevtools.openWalkthrough');
    afterThisTest(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));
    await eventually(() => activeTab() !== undefined, 'an editor tab', 10_000);
    const active = activeTab();
    assert.ok(active && !(active.input instanceof vscode.TabInputText), 'the walkthrough opened as a text file');
    // The workbench names the tab "Welcome" whichever walkthrough it shows; the UI walk reads the page
    // itself (title and steps of "Get started with Matrix DevTools").
    assert.strictEqual(active?.label, 'Welcome', `the active tab is "${active?.label}"`);
  });
});
