// The one progress adapter: a notification with a title, optional
// cancellation as an AbortSignal (what core functions take), and step reports.
// Models receive a ProgressRunner, so they run in plain Node with an immediate one.
import * as vscode from 'vscode';

export interface ProgressStep {
  message?: string;
  increment?: number;
}

export interface ProgressReporter {
  report(step: ProgressStep): void;
}

export interface ProgressRunner {
  /** Runs `task` with a progress notification; `signal` aborts when the user cancels. */
  run<T>(
    title: string,
    task: (signal: AbortSignal, progress: ProgressReporter) => Promise<T>,
    opts?: { cancellable?: boolean },
  ): Promise<T>;
}

export const notificationProgress: ProgressRunner = {
  run: (title, task, opts) =>
    Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: opts?.cancellable ?? false },
        async (progress, token) => {
          const controller = new AbortController();
          const subscription = token.onCancellationRequested(() => controller.abort());
          try {
            return await task(controller.signal, progress);
          } finally {
            subscription.dispose();
          }
        },
      ),
    ),
};
