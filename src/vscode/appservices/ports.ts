// Where the appservice model writes its reports, as a small interface the
// LogOutputChannel fits (storage and events: ../ports.ts).

/** Where ping reports go: the "Matrix Appservices" output channel. */
export interface OutputSink {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Bring the output to the front without taking focus. */
  reveal(): void;
}
