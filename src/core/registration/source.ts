// The YAML side of registration checking: parse once, report syntax problems
// in our own words, and turn paths such as namespaces.users[0].regex into
// editor positions. Our own words because the parser's messages quote the
// source, and a registration's source holds its tokens.
import type { Alias, Document, Node, YAMLError } from 'yaml';
import type * as YamlModule from 'yaml';
import { t } from '../l10n';
import { RegistrationProblem, RegistrationProblemCode, SourceRange } from './types';
import { yamlMessage } from './yamlMessages';

export type Path = ReadonlyArray<string | number>;

let yamlModule: typeof YamlModule | undefined;
/**
 * The `yaml` package, loaded on the first parse: it is most of the bundle's
 * weight (esbuild.js emits it as dist/yaml.js), and activating the extension
 * must not pay for it before a registration file is read.
 */
function yaml(): typeof YamlModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load is the point
  return (yamlModule ??= require('yaml') as typeof YamlModule);
}

/** `namespaces.users[0].regex` for ['namespaces', 'users', 0, 'regex']. */
export function keyOf(path: Path): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

export function problem(
  severity: RegistrationProblem['severity'],
  code: RegistrationProblemCode,
  message: string,
  at: SourceRange,
  path?: Path,
): RegistrationProblem {
  const p: RegistrationProblem = { severity, message, ...at, code };
  if (path && path.length > 0) p.key = keyOf(path);
  return p;
}

// Characters outside YAML 1.2's c-printable set: PyYAML, which Synapse uses,
// refuses a file that contains one, although the yaml package accepts it.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_PRINTABLE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;

type YamlNode = Node | Alias;

function lastPairWithKey<P extends { key: unknown }>(items: P[], key: string): P | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const k = items[i].key;
    if (yaml().isScalar(k) && String(k.value) === key) return items[i];
  }
  return undefined;
}

export class RegistrationSource {
  readonly doc: Document.Parsed;
  /** Offsets where each line starts. Computed from the text: yaml's LineCounter misses newlines inside broken flow collections. */
  private readonly lineStarts: number[] = [0];

  readonly text: string;

  constructor(text: string) {
    // Editors do not count a byte-order mark as a column, and Node's utf8 decoding keeps it.
    this.text = text.startsWith('\uFEFF') ? text.slice(1) : text;
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    this.doc = yaml().parseDocument(this.text, { prettyErrors: false, merge: true, logLevel: 'error' });
  }

  /** 1-based position of a character offset, clamped to the text. */
  position(offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(Number.isFinite(offset) ? offset : 0, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid] <= clamped) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: clamped - this.lineStarts[low] + 1 };
  }

  rangeOf(start: number, end: number): SourceRange {
    const from = this.position(start);
    const to = this.position(Math.max(start, end));
    return { line: from.line, column: from.column, endLine: to.line, endColumn: to.column };
  }

  /** A node's range; a collection only up to the end of its first line, so that a squiggle stays readable. */
  rangeOfNode(node: YamlNode | null | undefined): SourceRange | undefined {
    const range = node?.range;
    if (!range) return undefined;
    let end = range[1];
    if (yaml().isCollection(node)) {
      const newline = this.text.indexOf('\n', range[0]);
      if (newline !== -1 && newline < end) end = newline > range[0] && this.text[newline - 1] === '\r' ? newline - 1 : newline;
    }
    return this.rangeOf(range[0], end);
  }

  /** The first line of the text: where problems about the file as a whole go. */
  firstLine(): SourceRange {
    const newline = this.text.indexOf('\n');
    const end = newline === -1 ? this.text.length : newline;
    return this.rangeOf(0, end > 0 && this.text[end - 1] === '\r' ? end - 1 : end);
  }

  private resolve(node: unknown): unknown {
    return yaml().isAlias(node) ? node.resolve(this.doc) : node;
  }

  /**
   * Where the value at `path` is written (its key when the value is empty,
   * `part: 'key'` for the key itself); the nearest existing ancestor when the
   * path does not exist, e.g. for a missing key or a key that came in through
   * a `<<` merge.
   */
  locate(path: Path, part: 'key' | 'value' = 'value'): SourceRange {
    let node: unknown = this.doc.contents;
    let best = this.rangeOfNode(node as YamlNode) ?? this.firstLine();
    for (let i = 0; i < path.length; i++) {
      const container = this.resolve(node);
      const seg = path[i];
      if (yaml().isMap(container) && typeof seg === 'string') {
        const pair = lastPairWithKey(container.items, seg);
        if (!pair) return best;
        const keyRange = this.rangeOfNode(pair.key as YamlNode) ?? best;
        const valueNode = pair.value as YamlNode | null;
        const valueRange = valueNode?.range && valueNode.range[1] > valueNode.range[0] ? this.rangeOfNode(valueNode) : undefined;
        if (i === path.length - 1 && part === 'key') return keyRange;
        node = valueNode;
        best = valueRange ?? keyRange;
      } else if (yaml().isSeq(container) && typeof seg === 'number' && seg < container.items.length) {
        node = container.items[seg];
        best = this.rangeOfNode(node as YamlNode) ?? best;
      } else {
        return best;
      }
    }
    return best;
  }

  /** The node at `path`, aliases resolved, if any. */
  nodeAt(path: Path): unknown {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      const container = this.resolve(node);
      if (yaml().isMap(container) && typeof seg === 'string') {
        node = lastPairWithKey(container.items, seg)?.value;
      } else if (yaml().isSeq(container) && typeof seg === 'number') {
        node = container.items[seg];
      } else {
        return undefined;
      }
    }
    return this.resolve(node);
  }

  /** Problems that make the text unusable as YAML, in the order a reader meets them. Empty when it parses. */
  syntaxProblems(): RegistrationProblem[] {
    // NUL and U+FFFD (an undecodable byte) mean a binary file, not a typo.
    const binary = this.text.search(/[\0\uFFFD]/);
    if (binary !== -1) {
      return [
        problem(
          'error',
          'not-a-mapping',
          t(
            'The file holds binary data, not a YAML mapping of registration keys: open the registration file the homeserver loads (often registration.yaml).',
          ),
          this.rangeOf(binary, binary + 1),
        ),
      ];
    }
    const bad = NOT_PRINTABLE.exec(this.text);
    if (bad) {
      const at = this.rangeOf(bad.index, bad.index + 1);
      const codePoint = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      return [problem('error', 'invalid-character', t('YAML does not allow the control character {0}: remove it.', codePoint), at)];
    }
    const problems = this.doc.errors.map((e) => this.fromYamlError(e, 'error'));
    if (problems.length === 0 && this.doc.contents === null) {
      problems.push(
        problem(
          'error',
          'empty-file',
          t('The file is empty: a registration needs id, url, as_token, hs_token, sender_localpart and namespaces.'),
          this.firstLine(),
        ),
      );
    }
    return problems;
  }

  /** Parser warnings worth showing (an unknown tag loads in some homeservers and fails in others). */
  warningProblems(): RegistrationProblem[] {
    return this.doc.warnings.map((w) => this.fromYamlError(w, 'warning'));
  }

  /** Converts the document to plain data; aliases that point nowhere or expand too far become problems. */
  toData(): { data: unknown } | { problem: RegistrationProblem } {
    try {
      return { data: this.doc.toJS({ maxAliasCount: 100 }) };
    } catch (e) {
      if (e instanceof ReferenceError && /unresolved alias/i.test(e.message)) {
        let dangling: Alias | undefined;
        yaml().visit(this.doc, {
          Alias: (_key, node) => {
            if (node.resolve(this.doc) === undefined) {
              dangling = node;
              return yaml().visit.BREAK;
            }
            return undefined;
          },
        });
        const at = this.rangeOfNode(dangling) ?? this.firstLine();
        return {
          problem: problem(
            'error',
            'yaml-syntax',
            t('This alias refers to no anchor defined before it: define the anchor (&name) first or write the value out.'),
            at,
          ),
        };
      }
      return {
        problem: problem(
          'error',
          'yaml-syntax',
          t('The file uses so many aliases that expanding them would exhaust memory: write the values out.'),
          this.firstLine(),
        ),
      };
    }
  }

  private fromYamlError(e: YAMLError, severity: RegistrationProblem['severity']): RegistrationProblem {
    let [start, end] = e.pos;
    let message = yamlMessage(e);
    if (e.code === 'MISSING_CHAR' && /quote/i.test(e.message)) {
      // The parser reports an unclosed quote where the file ends; the reader needs where it opens.
      const opened = this.quotedScalarEndingAt(start);
      if (opened !== undefined) [start, end] = [opened, opened + 1];
      message = t('This quoted value has no closing quote: add the quote where the value ends.');
    } else if (e.code === 'MISSING_CHAR' && /map values/i.test(e.message)) {
      message = t('This key has no colon after it: write key: value.');
    } else if (e.code === 'DUPLICATE_KEY') {
      // The parser marks one character; mark the whole repeated key.
      end = Math.max(end, this.scalarEndFrom(start) ?? end);
    }
    const newline = this.text.indexOf('\n', start);
    if (newline !== -1 && newline < end) end = Math.max(start, this.text[newline - 1] === '\r' ? newline - 1 : newline);
    const code: RegistrationProblemCode =
      e.code === 'DUPLICATE_KEY'
        ? 'duplicate-key'
        : e.code === 'MULTIPLE_DOCS'
          ? 'multiple-documents'
          : e.code === 'TAG_RESOLVE_FAILED'
            ? 'yaml-tag'
            : 'yaml-syntax';
    return problem(severity, code, message, this.rangeOf(start, end));
  }

  private scalarEndFrom(offset: number): number | undefined {
    let found: number | undefined;
    yaml().visit(this.doc, {
      Scalar: (_key, node) => {
        if (node.range?.[0] === offset) found = node.range[1];
      },
    });
    return found;
  }

  private quotedScalarEndingAt(offset: number): number | undefined {
    let found: number | undefined;
    yaml().visit(this.doc, {
      Scalar: (_key, node) => {
        const range = node.range;
        if (range && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && range[0] < offset && offset <= range[1]) {
          found = range[0];
        }
      },
    });
    return found;
  }
}
