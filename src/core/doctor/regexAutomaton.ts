// Namespace regexes as automata, so that "do these two exclusive namespaces
// overlap?" and "can this regex ever match a valid Matrix id?" get an exact
// answer with an example id, not a guess from sample strings. Covers the
// Python `re` subset registrations use (literals, escapes, classes, groups,
// alternation, quantifiers, `^`/`$`, inline flags); anything else
// (look-arounds, back-references) makes the answer "unknown".
//
// Matching is Synapse's: Python `re.match`, anchored at the start of the id
// only, so a regex "accepts" an id as soon as it matches a prefix of it.
import { memoByKey } from '../memo';
import { Parser, UnsupportedRegexError, type CharTest, type Node } from './regexParser';

/** Bounded repetitions are unrolled up to this many copies; beyond it, a loop. */
const MAX_COPIES = 40;

interface State {
  eps: number[];
  /** Reached only at the end of the id (`$`). */
  atEnd: number[];
  edges: Array<{ test: CharTest; to: number }>;
}

const NO_STATES: ReadonlySet<number> = new Set<number>();

/** A Thompson NFA; state 0 starts, `accept` accepts. */
export class NamespaceAutomaton {
  private readonly states: State[] = [];
  private readonly accept: number;
  /** The characters (printable ASCII) every id it matches starts with, as far as each is the only one allowed there. */
  readonly prefix: number[];

  constructor(regex: string) {
    const parser = new Parser(regex);
    const root = parser.parse();
    const start = this.newState();
    this.accept = this.compile(root, start);
    this.prefix = literalPrefix(root);
  }

  private newState(): number {
    this.states.push({ eps: [], atEnd: [], edges: [] });
    return this.states.length - 1;
  }

  /** Compiles `node` starting at `from`; returns the state it ends in. */
  private compile(node: Node, from: number): number {
    switch (node.type) {
      case 'set': {
        const to = this.newState();
        this.states[from].edges.push({ test: node.test, to });
        return to;
      }
      case 'seq':
        return node.items.reduce((at, item) => this.compile(item, at), from);
      case 'alt': {
        const end = this.newState();
        for (const option of node.options) {
          const start = this.newState();
          this.states[from].eps.push(start);
          this.states[this.compile(option, start)].eps.push(end);
        }
        return end;
      }
      case 'end': {
        const to = this.newState();
        this.states[from].atEnd.push(to);
        return to;
      }
      case 'repeat': {
        let at = from;
        const copies = Math.min(node.min, MAX_COPIES);
        for (let k = 0; k < copies; k++) at = this.compile(node.node, at);
        const end = this.newState();
        if (node.max === Infinity || node.max > MAX_COPIES) {
          // Over-approximates {n,m} with large m; callers confirm every example with the real matcher.
          const loop = this.newState();
          this.states[at].eps.push(loop);
          this.states[loop].eps.push(end);
          this.states[this.compile(node.node, loop)].eps.push(loop);
          return end;
        }
        this.states[at].eps.push(end);
        for (let k = copies; k < node.max; k++) {
          at = this.compile(node.node, at);
          this.states[at].eps.push(end);
        }
        return end;
      }
    }
  }

  closure(set: Iterable<number>, atEnd = false): Set<number> {
    const out = new Set<number>();
    const stack = [...set];
    while (stack.length) {
      const s = stack.pop() as number;
      if (out.has(s)) continue;
      out.add(s);
      stack.push(...this.states[s].eps);
      if (atEnd) stack.push(...this.states[s].atEnd);
    }
    return out;
  }

  initial(): Set<number> {
    return this.closure([0]);
  }

  /** The states after reading `code`; an empty set (shared: read it, do not change it) when none. */
  step(set: ReadonlySet<number>, code: number): ReadonlySet<number> {
    const next: number[] = [];
    for (const s of set) for (const e of this.states[s].edges) if (e.test(code)) next.push(e.to);
    // Most characters lead nowhere (a search tries all 95 at every position): no closure, no new Set for them.
    return next.length === 0 ? NO_STATES : this.closure(next);
  }

  /** Matched a prefix already: every continuation matches too. */
  acceptsForever(set: ReadonlySet<number>): boolean {
    return set.has(this.accept);
  }

  /** Matches if the id ends here. */
  acceptsAtEnd(set: ReadonlySet<number>): boolean {
    return this.closure(set, true).has(this.accept);
  }
}

// Letters first, so that examples look like ids a bridge would create.
const ALPHABET: number[] = [
  ...'abcdefghijklmnopqrstuvwxyz0123456789_-.=/+:@#!'.split('').map((c) => c.charCodeAt(0)),
  ...Array.from({ length: 95 }, (_, k) => k + 32).filter((c) => !/[a-z0-9_\-.=/+:@#!]/.test(String.fromCharCode(c))),
];
const MAX_SEARCH_STATES = 20_000;

/** `@telegram_.*` → the codes of "@telegram_": the leading characters that each allow one character only. */
function literalPrefix(root: Node): number[] {
  const prefix: number[] = [];
  for (const item of root.type === 'seq' ? root.items : [root]) {
    if (item.type !== 'set') break;
    const allowed = ALPHABET.filter((code) => item.test(code));
    if (allowed.length !== 1) break;
    prefix.push(allowed[0]);
  }
  return prefix;
}

/** An automaton is never changed once built, so each regex is compiled once (the valid-id regexes are in every search). */
const automatonOf = memoByKey(1_000, (regex): NamespaceAutomaton | 'unsupported' => {
  try {
    return new NamespaceAutomaton(regex);
  } catch (e) {
    if (e instanceof UnsupportedRegexError) return 'unsupported';
    throw e;
  }
});

/** `undefined` = no id matches all of them; `'unknown'` = a regex is outside the supported subset or the search was too large. */
export type Example = string | undefined | 'unknown';

/** The shortest id (over printable ASCII) that every regex matches the way Synapse matches, if there is one. */
export function commonExample(regexes: readonly string[]): Example {
  const compiled = regexes.map(automatonOf);
  if (compiled.some((a) => a === 'unsupported')) return 'unknown';
  const automata = compiled as NamespaceAutomaton[];
  // Bridges' namespaces mostly start with their own literal prefix (`@telegram_`, `@whatsapp_`): where two
  // differ, no id starts with both, and the search below would try the whole alphabet at each character to learn it.
  const longest = automata.reduce((l, a) => (a.prefix.length > l.length ? a.prefix : l), [] as number[]);
  if (automata.some((a) => a.prefix.some((code, i) => code !== longest[i]))) return undefined;
  type Pos = Array<ReadonlySet<number> | 'done'>;
  const keyOf = (pos: Pos) => pos.map((p) => (p === 'done' ? 'D' : [...p].sort((a, b) => a - b).join(','))).join('|');
  const settle = (pos: Pos): Pos => pos.map((p, k) => (p !== 'done' && automata[k].acceptsForever(p) ? 'done' : p));
  const start = settle(automata.map((a) => a.initial()));
  const queue: Array<{ pos: Pos; text: string }> = [{ pos: start, text: '' }];
  const seen = new Set([keyOf(start)]);
  while (queue.length) {
    const { pos, text } = queue.shift() as { pos: Pos; text: string };
    if (pos.every((p, k) => p === 'done' || automata[k].acceptsAtEnd(p))) return text;
    for (const code of ALPHABET) {
      // Most characters are refused by the first regex already: stop at the first that refuses.
      const stepped: Pos = [];
      for (let k = 0; k < pos.length; k++) {
        const p = pos[k];
        const s = p === 'done' ? 'done' : automata[k].step(p, code);
        if (s !== 'done' && s.size === 0) break;
        stepped.push(s);
      }
      if (stepped.length < pos.length) continue;
      const next = settle(stepped);
      const key = keyOf(next);
      if (seen.has(key)) continue;
      if (seen.size >= MAX_SEARCH_STATES) return 'unknown';
      seen.add(key);
      queue.push({ pos: next, text: text + String.fromCharCode(code) });
    }
  }
  return undefined;
}
