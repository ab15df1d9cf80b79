import * as vscode from 'vscode';
import type { HttpLogEntry } from '../core/http';
import { redact } from '../core/redact';

/**
 * A LogOutputChannel that redacts every line and keeps the last lines in
 * memory, so tests can assert what a user would read (and that no token is there).
 */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly recent: string[] = [];

  constructor(
    name: string,
    private readonly keep = 2000,
  ) {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  get lines(): readonly string[] {
    return this.recent;
  }

  info(message: string): void {
    this.channel.info(this.remember(message));
  }

  warn(message: string): void {
    this.channel.warn(this.remember(message));
  }

  error(message: string): void {
    this.channel.error(this.remember(message));
  }

  /** One line per HTTP request: method, URL without query, status, errcode, duration. */
  request(e: HttpLogEntry): void {
    const outcome = e.status !== undefined ? `${e.status}${e.errcode ? ` ${e.errcode}` : ''}` : (e.failure ?? 'failed');
    const line = `${e.method} ${e.url} → ${outcome} (${e.durationMs} ms)`;
    if (e.status !== undefined && e.status < 400) this.info(line);
    else this.warn(line);
  }

  show(preserveFocus = true): void {
    this.channel.show(preserveFocus);
  }

  dispose(): void {
    this.channel.dispose();
  }

  private remember(message: string): string {
    const clean = redact(message);
    this.recent.push(clean);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    return clean;
  }
}
