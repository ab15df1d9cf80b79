// What every extension host test needs: the activated extension and its
// internal test API, scripted answers for its prompts, a Synapse-like
// homeserver on loopback inside this host, and `runCommand`, which executes a
// contributed command for real and records that it did (see coverage.test.ts).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MatrixDevtoolsInternalApi } from '../../../src/extension';
import type { AccountsTestApi } from '../../../src/vscode/accounts';
import type { AppservicesTestApi } from '../../../src/vscode/appservices';
import { TestHomeserver, type TestHomeserverOptions } from '../../support/homeserver';
import { ScriptedPrompts } from '../../support/scriptedPrompts';

export { eventually, ScriptedPrompts } from '../../support/scriptedPrompts';

/** out/test/suite/support/host.js -> the repository root. */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

interface Manifest {
  publisher: string;
  name: string;
  contributes: { commands: Array<{ command: string; title: string }> };
}

export const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
export const extensionId = `${manifest.publisher}.${manifest.name}`;

export interface Api {
  prompts: MatrixDevtoolsInternalApi['prompts'];
  accounts: AccountsTestApi;
  appservices: AppservicesTestApi;
}

/** Activates the development extension (once) and returns its internal API. */
export async function extensionApi(): Promise<Api> {
  const extension = vscode.extensions.getExtension<MatrixDevtoolsInternalApi>(extensionId);
  assert.ok(extension, `${extensionId} is not loaded in this host`);
  const api = await extension.activate();
  return api as unknown as Api;
}

/** Commands executed through runCommand in this extension host, for coverage.test.ts. */
export const executedCommands = new Set<string>();

/** Executes a contributed command through VS Code's command service. */
export async function runCommand<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
  assert.ok(
    manifest.contributes.commands.some((c) => c.command === command),
    `${command} is not in contributes.commands`,
  );
  executedCommands.add(command);
  return vscode.commands.executeCommand<T>(command, ...args);
}

/** Every ScriptedPrompts of this run, so leak checks can read all the user was shown. */
export const allScriptedPrompts: ScriptedPrompts[] = [];

/**
 * Answers the extension's prompts from a script for the rest of the current
 * test; the window's own prompts come back afterwards (call in beforeEach).
 */
export async function scriptPrompts(): Promise<ScriptedPrompts> {
  const api = await extensionApi();
  const scripted = new ScriptedPrompts();
  allScriptedPrompts.push(scripted);
  const previous = api.prompts.current;
  api.prompts.current = scripted;
  cleanups.push(() => {
    api.prompts.current = previous;
  });
  return scripted;
}

/** A Synapse-like homeserver on loopback in this host, stopped after the test. */
export async function startHomeserver(options: TestHomeserverOptions = {}): Promise<TestHomeserver> {
  const hs = await TestHomeserver.start({
    users: [
      { localpart: 'alice', password: 'wonderland' },
      { localpart: 'bob', password: 'builder' },
    ],
    ...options,
  });
  cleanups.push(() => hs.stop());
  return hs;
}

const cleanups: Array<() => unknown> = [];

/** Registers something to undo after the current test, last registered first. */
export function afterThisTest(fn: () => unknown): void {
  cleanups.push(fn);
}

// Root-level hook: runs after every test of every file in this suite.
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** The first workspace folder's path (the runner always opens one). */
export function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the host has no workspace folder open');
  return folder.uri.fsPath;
}

/** The homeserver the runner started (devHomeserver), when it started one. */
export interface RunnerHomeserver {
  baseUrl: string;
  users: Array<{ userId: string; localpart: string; password: string }>;
  appservices: Array<{ id: string; url: string | null; registrationFile?: string }>;
}

export function runnerHomeserver(): RunnerHomeserver | undefined {
  const info = process.env.MATRIX_DEVTOOLS_TEST_INFO;
  return info ? (JSON.parse(info) as RunnerHomeserver) : undefined;
}
