// The Python `re` subset namespace regexes use, parsed into the small tree
// regexAutomaton.ts compiles (see there for what is covered and why).

export type CharTest = (code: number) => boolean;

export type Node =
  | { type: 'set'; test: CharTest }
  | { type: 'seq'; items: Node[] }
  | { type: 'alt'; options: Node[] }
  | { type: 'repeat'; node: Node; min: number; max: number }
  | { type: 'end' };

export class UnsupportedRegexError extends Error {}

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

export class Parser {
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
