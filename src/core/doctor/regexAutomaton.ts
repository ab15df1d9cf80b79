// Namespace regexes as automata, so that "do these two exclusive namespaces
// overlap?" and "can this regex ever match a valid Matrix id?" get an exact
// answer with an example id, not a guess from sample strings. Covers the
// Python `re` subset registrations use (literals, escapes, classes, groups,
// alternation, quantifiers, `^`/`$`, inline flags); anything else
// (look-arounds, back-references) makes the answer "unknown".
//
// Matching is Synapse's: Python `re.match`, anchored at the start of the id
// only, so a regex "accepts" an id as soon as it matches a prefix of it.

type CharTest = (code: number) => boolean;

type Node =
  | { type: 'set'; test: CharTest }
  | { type: 'seq'; items: Node[] }
  | { type: 'alt'; options: Node[] }
  | { type: 'repeat'; node: Node; min: number; max: number }
  | { type: 'end' };

export class UnsupportedRegexError extends Error {}

const MAX_COPIES = 40;
const NEWLINE = 10;

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isSpace: CharTest = (c) => c === 32 || (c >= 9 && c <= 13);
const not =
  (f: CharTest): CharTest =>
  (c) =>
    !f(c);
const CLASS_ESCAPES: Record<string, CharTest> = { d: isDigit, w: isWord, s: isSpace, D: not(isDigit), W: not(isWord), S: not(isSpace) };
const CONTROL_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07' };

class Parser {
  private i = 0;
  ignoreCase = false;

  constructor(private readonly src: string) {
    const flags = /^\(\?([aiLmsux]+)\)/.exec(src);
    if (flags) {
      this.ignoreCase = flags[1].includes('i');
      this.i = flags[0].length;
    }
  }

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) throw new UnsupportedRegexError(`unexpected ${this.src[this.i]}`);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { type: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom();
      if (atom) items.push(this.quantified(atom));
    }
    return { type: 'seq', items };
  }

  private quantified(atom: Node): Node {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d*)(,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m || (m[1] === '' && m[2] === undefined)) return atom; // a literal "{" in Python and in JavaScript without `u`
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        this.i += m[0].length - 1;
      } else return atom;
      this.i++;
      if (this.peek() === '?' || this.peek() === '+') this.i++; // lazy / possessive: same language
      atom = { type: 'repeat', node: atom, min, max };
    }
  }

  private atom(): Node | undefined {
    const c = this.src[this.i++];
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.charClass();
      case '.':
        return { type: 'set', test: (x) => x !== NEWLINE };
      case '^':
        // Every namespace regex is matched from the start of the id: a leading ^ changes nothing.
        if (this.i === 1 || /^\(\?[aiLmsux]+\)$/.test(this.src.slice(0, this.i - 1))) return undefined;
        throw new UnsupportedRegexError('^ in the middle');
      case '$':
        return { type: 'end' };
      case '\\':
        return this.escape();
      default:
        return this.literal(c.charCodeAt(0));
    }
  }

  private literal(code: number): Node {
    if (!this.ignoreCase) return { type: 'set', test: (x) => x === code };
    const lower = String.fromCharCode(code).toLowerCase().charCodeAt(0);
    return { type: 'set', test: (x) => String.fromCharCode(x).toLowerCase().charCodeAt(0) === lower };
  }

  private group(): Node {
    if (this.peek() === '?') {
      const rest = this.src.slice(this.i);
      const named = /^\?P?<[A-Za-z_]\w*>/.exec(rest);
      if (rest.startsWith('?:')) this.i += 2;
      else if (named) this.i += named[0].length;
      else throw new UnsupportedRegexError('look-around or back-reference');
    }
    const inner = this.alternation();
    if (this.src[this.i++] !== ')') throw new UnsupportedRegexError('unclosed group');
    return inner;
  }

  private escape(): Node {
    const c = this.src[this.i++];
    if (c === undefined) throw new UnsupportedRegexError('trailing backslash');
    if (CLASS_ESCAPES[c]) return { type: 'set', test: CLASS_ESCAPES[c] };
    if (c === 'A') return { type: 'seq', items: [] };
    if (c === 'Z') return { type: 'end' };
    if (/[1-9bBG]/.test(c)) throw new UnsupportedRegexError(`\\${c}`);
    return this.literal((CONTROL_ESCAPES[c] ?? c).charCodeAt(0));
  }

  private classChar(): { code: number } | { test: CharTest } {
    const c = this.src[this.i++];
    if (c === undefined) throw new UnsupportedRegexError('unclosed class');
    if (c !== '\\') return { code: c.charCodeAt(0) };
    const e = this.src[this.i++];
    if (e === undefined) throw new UnsupportedRegexError('unclosed class');
    if (CLASS_ESCAPES[e]) return { test: CLASS_ESCAPES[e] };
    return { code: (CONTROL_ESCAPES[e] ?? e).charCodeAt(0) };
  }

  private charClass(): Node {
    const negated = this.peek() === '^';
    if (negated) this.i++;
    const tests: CharTest[] = [];
    let first = true;
    while (first || this.peek() !== ']') {
      if (this.i >= this.src.length) throw new UnsupportedRegexError('unclosed class');
      first = false;
      const from = this.classChar();
      if ('code' in from && this.peek() === '-' && this.src[this.i + 1] !== ']' && this.src[this.i + 1] !== undefined) {
        this.i++;
        const to = this.classChar();
        if (!('code' in to)) throw new UnsupportedRegexError('bad range');
        const [lo, hi] = [from.code, to.code];
        tests.push((x) => x >= lo && x <= hi);
      } else if ('code' in from) {
        const code = from.code;
        tests.push((x) => x === code);
      } else tests.push(from.test);
    }
    this.i++;
    const ignoreCase = this.ignoreCase;
    const member: CharTest = (x) => tests.some((f) => f(x));
    const caseless: CharTest = ignoreCase
      ? (x) =>
          member(x) ||
          member(String.fromCharCode(x).toLowerCase().charCodeAt(0)) ||
          member(String.fromCharCode(x).toUpperCase().charCodeAt(0))
      : member;
    return { type: 'set', test: negated ? (x) => !caseless(x) : caseless };
  }
}

interface State {
  eps: number[];
  /** Reached only at the end of the id (`$`). */
  atEnd: number[];
  edges: Array<{ test: CharTest; to: number }>;
}

/** A Thompson NFA; state 0 starts, `accept` accepts. */
export class NamespaceAutomaton {
  private readonly states: State[] = [];
  private readonly accept: number;

  constructor(regex: string) {
    const parser = new Parser(regex);
    const root = parser.parse();
    const start = this.newState();
    this.accept = this.compile(root, start);
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

  step(set: Set<number>, code: number): Set<number> {
    const next: number[] = [];
    for (const s of set) for (const e of this.states[s].edges) if (e.test(code)) next.push(e.to);
    return this.closure(next);
  }

  /** Matched a prefix already: every continuation matches too. */
  acceptsForever(set: Set<number>): boolean {
    return set.has(this.accept);
  }

  /** Matches if the id ends here. */
  acceptsAtEnd(set: Set<number>): boolean {
    return this.closure(set, true).has(this.accept);
  }
}

// Letters first, so that examples look like ids a bridge would create.
const ALPHABET: number[] = [
  ...'abcdefghijklmnopqrstuvwxyz0123456789_-.=/+:@#!'.split('').map((c) => c.charCodeAt(0)),
  ...Array.from({ length: 95 }, (_, k) => k + 32).filter((c) => !/[a-z0-9_\-.=/+:@#!]/.test(String.fromCharCode(c))),
];
const MAX_SEARCH_STATES = 20_000;

/** `undefined` = no id matches all of them; `'unknown'` = a regex is outside the supported subset or the search was too large. */
export type Example = string | undefined | 'unknown';

/** The shortest id (over printable ASCII) that every regex matches the way Synapse matches, if there is one. */
export function commonExample(regexes: readonly string[]): Example {
  let automata: NamespaceAutomaton[];
  try {
    automata = regexes.map((r) => new NamespaceAutomaton(r));
  } catch (e) {
    if (e instanceof UnsupportedRegexError) return 'unknown';
    throw e;
  }
  type Pos = Array<Set<number> | 'done'>;
  const keyOf = (pos: Pos) => pos.map((p) => (p === 'done' ? 'D' : [...p].sort((a, b) => a - b).join(','))).join('|');
  const settle = (pos: Pos): Pos => pos.map((p, k) => (p !== 'done' && automata[k].acceptsForever(p) ? 'done' : p));
  const start = settle(automata.map((a) => a.initial()));
  const queue: Array<{ pos: Pos; text: string }> = [{ pos: start, text: '' }];
  const seen = new Set([keyOf(start)]);
  while (queue.length) {
    const { pos, text } = queue.shift() as { pos: Pos; text: string };
    if (pos.every((p, k) => p === 'done' || automata[k].acceptsAtEnd(p))) return text;
    for (const code of ALPHABET) {
      const next = settle(pos.map((p, k) => (p === 'done' ? 'done' : automata[k].step(p, code))));
      if (next.some((p) => p !== 'done' && p.size === 0)) continue;
      const key = keyOf(next);
      if (seen.has(key)) continue;
      if (seen.size >= MAX_SEARCH_STATES) return 'unknown';
      seen.add(key);
      queue.push({ pos: next, text: text + String.fromCharCode(code) });
    }
  }
  return undefined;
}
