/**
 * Matches request paths against OpenAPI path templates. Templates compile into a segment trie:
 * a literal segment beats a templated one (`/pets/mine` wins over `/pets/{id}`), a segment that
 * mixes literals and parameters (`{name}.{ext}`) beats a bare parameter. Captured values are
 * returned raw (still percent-encoded); callers decode them.
 */
export interface PathMatch<T> {
  readonly value: T;
  readonly template: string;
  /** Parameter name -> raw (percent-encoded) value. */
  readonly params: Record<string, string>;
}

interface Terminal<T> {
  readonly value: T;
  readonly template: string;
  readonly names: readonly string[];
}

interface PatternEdge<T> {
  readonly source: string;
  readonly regex: RegExp;
  readonly node: TrieNode<T>;
}

interface TrieNode<T> {
  readonly literals: Map<string, TrieNode<T>>;
  readonly patterns: PatternEdge<T>[];
  param: TrieNode<T> | undefined;
  terminal: Terminal<T> | undefined;
}

const PARAM = /\{([^{}]+)\}/g;
const WHOLE_PARAM = /^\{([^{}]+)\}$/;

function newNode<T>(): TrieNode<T> {
  return { literals: new Map(), patterns: [], param: undefined, terminal: undefined };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class PathMatcher<T> {
  private readonly root: TrieNode<T> = newNode();
  private readonly templates: string[] = [];

  /** Adds a template; throws a TypeError when an equivalent template was already added. */
  add(template: string, value: T): void {
    if (!template.startsWith('/')) throw new TypeError(`path template must start with "/": ${template}`);
    const names: string[] = [];
    let node = this.root;
    for (const segment of template.slice(1).split('/')) {
      const whole = WHOLE_PARAM.exec(segment);
      if (whole !== null) {
        names.push(whole[1] as string);
        node.param ??= newNode();
        node = node.param;
      } else if (segment.includes('{')) {
        const source = segment.replace(PARAM, '{}');
        let edge = node.patterns.find((candidate) => candidate.source === source);
        if (edge === undefined) {
          const parts = segment.split(PARAM);
          let pattern = '^';
          for (let i = 0; i < parts.length; i++) {
            pattern += i % 2 === 0 ? escapeRegex(parts[i] as string) : '([^/]+)';
          }
          edge = { source, regex: new RegExp(pattern + '$'), node: newNode() };
          node.patterns.push(edge);
        }
        for (const match of segment.matchAll(PARAM)) names.push(match[1] as string);
        node = edge.node;
      } else {
        let next = node.literals.get(segment);
        if (next === undefined) {
          next = newNode();
          node.literals.set(segment, next);
        }
        node = next;
      }
    }
    if (node.terminal !== undefined) {
      throw new TypeError(`path template ${template} is equivalent to ${node.terminal.template}`);
    }
    node.terminal = { value, template, names };
    this.templates.push(template);
  }

  get size(): number {
    return this.templates.length;
  }

  match(path: string): PathMatch<T> | undefined {
    if (path.length === 0 || path.charCodeAt(0) !== 47) return undefined;
    const segments = path.slice(1).split('/');
    const captured: string[] = [];
    const terminal = this.walk(this.root, segments, 0, captured);
    if (terminal === undefined) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < terminal.names.length; i++)
      params[terminal.names[i] as string] = captured[i] as string;
    return { value: terminal.value, template: terminal.template, params };
  }

  private walk(
    node: TrieNode<T>,
    segments: string[],
    index: number,
    captured: string[],
  ): Terminal<T> | undefined {
    if (index === segments.length) return node.terminal;
    const segment = segments[index] as string;
    const literal = node.literals.get(segment);
    if (literal !== undefined) {
      const found = this.walk(literal, segments, index + 1, captured);
      if (found !== undefined) return found;
    }
    if (segment.length === 0) return undefined;
    const mark = captured.length;
    for (const edge of node.patterns) {
      const match = edge.regex.exec(segment);
      if (match === null) continue;
      for (let i = 1; i < match.length; i++) captured.push(match[i] as string);
      const found = this.walk(edge.node, segments, index + 1, captured);
      if (found !== undefined) return found;
      captured.length = mark;
    }
    if (node.param !== undefined) {
      captured.push(segment);
      const found = this.walk(node.param, segments, index + 1, captured);
      if (found !== undefined) return found;
      captured.length = mark;
    }
    return undefined;
  }
}
