// Registration problems → the data of Problems-panel diagnostics. Plain data
// with 0-based positions (VS Code's), so the mapping is tested without vscode.
import type { RegistrationProblem } from '../../core/registration';

export const DIAGNOSTIC_SOURCE = 'matrix-registration';

export interface DiagnosticData {
  /** 0-based, end exclusive. */
  range: { startLine: number; startCharacter: number; endLine: number; endCharacter: number };
  severity: 'error' | 'warning';
  message: string;
  code: string;
  source: typeof DIAGNOSTIC_SOURCE;
}

export function toDiagnosticData(problems: readonly RegistrationProblem[]): DiagnosticData[] {
  return problems.map((p) => {
    const startLine = toIndex(p.line);
    const startCharacter = toIndex(p.column);
    let endLine = toIndex(p.endLine, startLine);
    let endCharacter = toIndex(p.endColumn, startCharacter);
    if (endLine < startLine || (endLine === startLine && endCharacter < startCharacter)) {
      endLine = startLine;
      endCharacter = startCharacter;
    }
    // An empty range at a real position still gets a visible squiggle from VS Code.
    return {
      range: { startLine, startCharacter, endLine, endCharacter },
      severity: p.severity === 'warning' ? 'warning' : 'error',
      message: p.message,
      code: p.code,
      source: DIAGNOSTIC_SOURCE,
    };
  });
}

function toIndex(oneBased: number, fallback = 0): number {
  return Number.isFinite(oneBased) && oneBased >= 1 ? Math.floor(oneBased) - 1 : fallback;
}
