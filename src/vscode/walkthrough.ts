// The "Get started with Matrix DevTools" walkthrough (contributes.walkthroughs):
// its steps complete on real events (onCommand / onContext) declared in the
// manifest; this only opens it, from the palette and the Accounts view's
// welcome content.
import * as vscode from 'vscode';

export const WALKTHROUGH_ID = 'gettingStarted';

export function registerWalkthrough(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('matrixDevtools.openWalkthrough', () =>
      // `false`: open it in the active editor group, next to what the user is doing.
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, false),
    ),
  );
}
