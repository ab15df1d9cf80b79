// Where the appservice model writes its reports, as a small interface the
// LogOutputChannel fits (storage and events: ../ports.ts).
import { redact } from '../../core/redact';

/** Where ping reports go: the "Matrix Appservices" output channel. */
export interface OutputSink {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Bring the output to the front without taking focus. */
  reveal(): void;
}

/** Writes a report block, redacted: its first line at warning level when it needs attention, the rest as info. */
export function writeBlock(out: OutputSink, lines: readonly string[], needsAttention: boolean): void {
  const [head, ...rest] = lines;
  (needsAttention ? out.warn : out.info).call(out, redact(head));
  for (const line of rest) out.info(redact(line));
}
