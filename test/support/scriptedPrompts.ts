// Prompts answered from a script, recording what the user would have seen:
// shared by the plain-Node tests (test/unit) and the extension host suite
// (test/suite), which installs it through the extension's PromptService.
import type { Prompts } from '../../src/vscode/prompts';

export interface Notification {
  kind: 'info' | 'warning' | 'error' | 'confirm' | 'dialog';
  message: string;
  actions: string[];
}

/** Prompts answered from a script; records what the user would have seen. */
export class ScriptedPrompts implements Prompts {
  /** Answers for input boxes, in order (undefined = Escape). */
  readonly inputs: Array<string | undefined> = [];
  /** Quick-pick answers: the label (or a part of it) to choose; undefined = Escape. */
  readonly picks: Array<string | undefined> = [];
  /** Answers for modal confirmations and notifications with actions, in order. */
  readonly answers: Array<string | undefined> = [];
  readonly notifications: Notification[] = [];
  readonly inputBoxes: Array<{ title?: string; prompt?: string; password: boolean; value?: string }> = [];

  async inputBox(options: {
    title?: string;
    prompt?: string;
    password?: boolean;
    value?: string;
    validateInput?: (v: string) => unknown;
  }): Promise<string | undefined> {
    this.inputBoxes.push({ title: options.title, prompt: options.prompt, password: options.password === true, value: options.value });
    if (this.inputs.length === 0) throw new Error(`Unexpected input box: ${options.title ?? ''} / ${options.prompt ?? ''}`);
    const answer = this.inputs.shift();
    if (answer !== undefined && options.validateInput) {
      const problem = await options.validateInput(answer);
      if (problem) throw new Error(`Scripted answer rejected by validateInput: ${String(problem)}`);
    }
    return answer;
  }

  readonly quickPicks: Array<{
    labels: string[];
    placeHolder?: string;
    title?: string;
    items: Array<{ label: string; description?: string; detail?: string }>;
  }> = [];

  async quickPick<T extends { label: string; description?: string; detail?: string }>(
    items: readonly T[] | Thenable<readonly T[]>,
    options?: { placeHolder?: string; title?: string },
  ): Promise<T | undefined> {
    const list = await items;
    this.quickPicks.push({
      labels: list.map((i) => i.label),
      placeHolder: options?.placeHolder,
      title: options?.title,
      items: list.map(({ label, description, detail }) => ({ label, description, detail })),
    });
    if (this.picks.length === 0) throw new Error(`Unexpected quick pick: ${list.map((i) => i.label).join(' | ')}`);
    const want = this.picks.shift();
    if (want === undefined) return undefined;
    const found = list.find((i) => i.label.includes(want));
    if (!found) throw new Error(`No quick-pick item "${want}" in ${list.map((i) => i.label).join(' | ')}`);
    return found;
  }

  /** URLs the extension opened in "the browser", in order. */
  readonly opened: string[] = [];
  /** Acts as the browser for each opened URL (e.g. a TestBrowser signing in); default: nothing happens. Return false = could not open. */
  onOpenExternal?: (url: string) => boolean | void | Promise<boolean | void>;

  async openExternal(url: string): Promise<boolean> {
    this.opened.push(url);
    return (await this.onOpenExternal?.(url)) !== false;
  }

  async confirm(message: string, detail: string, ...actions: string[]): Promise<string | undefined> {
    this.notifications.push({ kind: 'confirm', message: `${message} ${detail}`, actions });
    return this.answers.shift();
  }

  async dialog(message: string, detail: string, ...actions: string[]): Promise<string | undefined> {
    this.notifications.push({ kind: 'dialog', message: `${message} ${detail}`, actions });
    return this.answers.shift();
  }

  async info(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('info', message, actions);
  }

  async warning(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('warning', message, actions);
  }

  async error(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('error', message, actions);
  }

  private note(kind: Notification['kind'], message: string, actions: string[]): string | undefined {
    this.notifications.push({ kind, message, actions });
    return actions.length > 0 ? this.answers.shift() : undefined;
  }
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
