// Fault knobs: misbehaviour a real deployment shows (slow answers, reverse
// proxy error pages, rate limits, answers lost after the server committed).
// Each knob matches requests by path and is used up after `times` matches.

export type FaultKind =
  | { kind: 'delay'; ms: number }
  | { kind: 'html'; status: number }
  | { kind: 'rateLimit'; retryAfterMs: number }
  | { kind: 'drop' }
  /** Any answer instead of the real one (the request is not handled). */
  | { kind: 'raw'; status: number; contentType: string; text: string; headers?: Record<string, string> }
  /** The connection is reset before the request is handled (nothing committed). */
  | { kind: 'reset' };

interface Fault {
  match: (method: string, path: string) => boolean;
  action: FaultKind;
  remaining: number;
}

const DROP_PATHS = {
  refresh: /^\/_matrix\/client\/(r0|v3|unstable)\/refresh$/,
  login: /^\/_matrix\/client\/(api\/v1|r0|v3|unstable)\/login$/,
};

export class FaultPlan {
  private faults: Fault[] = [];

  add(pathRegex: RegExp, action: FaultKind, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`times must be a positive integer, got ${times}`);
    this.faults.push({ match: (_m, p) => testRegex(pathRegex, p), action, remaining: times });
  }

  addDrop(which: 'refresh' | 'login', times = 1): void {
    if (!(which in DROP_PATHS)) throw new Error(`dropResponseAfterCommit: unknown endpoint '${which}'`);
    if (!Number.isInteger(times) || times < 1) throw new Error(`times must be a positive integer, got ${times}`);
    const re = DROP_PATHS[which];
    this.faults.push({ match: (m, p) => m === 'POST' && re.test(p), action: { kind: 'drop' }, remaining: times });
  }

  /** Uses up and returns the first pending knob of each kind that matches, in a fixed order. */
  take(method: string, path: string): { delayMs: number; early?: FaultKind; drop: boolean } {
    const pick = (kinds: FaultKind['kind'][]) => {
      const f = this.faults.find((x) => kinds.includes(x.action.kind) && x.match(method, path));
      if (!f) return undefined;
      if (--f.remaining === 0) this.faults = this.faults.filter((x) => x !== f);
      return f.action;
    };
    const delay = pick(['delay']);
    const early = pick(['rateLimit', 'html', 'raw', 'reset']);
    // A request answered early never reaches the handler, so it cannot use up a drop.
    const drop = early ? false : pick(['drop']) !== undefined;
    return { delayMs: delay?.kind === 'delay' ? delay.ms : 0, early, drop };
  }

  clear(): void {
    this.faults = [];
  }
}

/** A global/sticky regex keeps lastIndex between calls; matching must not depend on that. */
function testRegex(re: RegExp, path: string): boolean {
  re.lastIndex = 0;
  return re.test(path);
}
