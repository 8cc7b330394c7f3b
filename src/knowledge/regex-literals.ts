/**
 * The literal text a regular expression cannot match without: a set of lower-case strings, one of
 * which every match contains (or undefined when no such set can be told). The device-profile
 * matcher tests a value's lower-case text for them before running a pattern, so a pattern is
 * compiled only when a value could match it — compiling the profiles' patterns (in one alternation
 * per attribute, as the matcher did before) cost ~75–120 ms of every analysis, for values that
 * mostly match none.
 *
 * Conservative by construction: only what every match must contain is kept. Literal runs are
 * made of ASCII characters only (case-insensitive matching folds ASCII exactly as toLowerCase
 * does; a non-ASCII character ends a run); anything optional (`?`, `*`, `{0,…}`) contributes
 * nothing; an alternation needs a literal in every branch; a construct not understood (lookaround,
 * backreference, unicode escapes) makes the answer undefined — the pattern is then always run.
 * Pure.
 */

/** One of these (lower case) appears in any text the pattern matches; undefined: no such set known. */
export type Literals = readonly string[] | undefined;

class Unsupported extends Error {}

/** The literals of a pattern as written for `new RegExp(source, 'i')` (non-unicode mode). */
export function requiredLiterals(source: string): Literals {
  try {
    const p = new Parser(source);
    const r = p.alternation();
    if (p.i !== source.length) return undefined;
    return r === undefined || r.some((s) => s === '') ? undefined : [...new Set(r)];
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** May the (lower-cased) text match a pattern with these literals? */
export function mayMatch(literals: Literals, lower: string): boolean {
  if (literals === undefined) return true;
  for (const l of literals) if (lower.includes(l)) return true;
  return false;
}

/** Escapes that stand for one literal character (non-unicode mode): punctuation, space. */
const LITERAL_ESCAPE = /^[\\^$.|?*+()[\]{}\/\-:,=!<>#&%@'"`~; _]$/;
/** Escapes that stand for a class of characters. */
const CLASS_ESCAPE = /^[dDwWsS]$/;

type Atom =
  /** One literal ASCII character (lower case). */
  | { kind: 'char'; c: string }
  /** A group: its literals (undefined: none known). */
  | { kind: 'group'; literals: Literals }
  /** Consumes text but names no literal (a class, `.`, `\d`, a non-ASCII character). */
  | { kind: 'other' }
  /** Zero-width (`^`, `$`, `\b`, `\B`). */
  | { kind: 'assert' };

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  /** branch ('|' branch)*: some branch matched, so a literal of every branch is needed. */
  alternation(): Literals {
    const branches: Literals[] = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    const out: string[] = [];
    for (const b of branches) {
      if (b === undefined) return undefined;
      out.push(...b);
    }
    return out;
  }

  /** Atoms in a row: the most selective of the needed literal runs and needed groups. */
  private sequence(): Literals {
    const candidates: (readonly string[])[] = [];
    let run = '';
    const endRun = () => {
      if (run !== '') candidates.push([run]);
      run = '';
    };
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      const atom = this.atom();
      const q = this.quantifier();
      const needed = q === undefined || q.min >= 1;
      const repeated = q !== undefined && (q.max === undefined || q.max > 1);
      if (atom.kind === 'char') {
        if (!needed) {
          endRun();
          continue;
        }
        run += atom.c;
        // "ab+c" matches "abbc": "ab" is needed, "abc" is not.
        if (repeated || (q !== undefined && q.min !== 1)) endRun();
      } else {
        endRun();
        if (atom.kind === 'group' && needed && atom.literals !== undefined) candidates.push(atom.literals);
      }
    }
    endRun();
    let best: readonly string[] | undefined;
    let bestLen = -1;
    for (const c of candidates) {
      const shortest = Math.min(...c.map((x) => x.length));
      if (shortest > bestLen) {
        best = c;
        bestLen = shortest;
      }
    }
    return best;
  }

  private atom(): Atom {
    const c = this.s[this.i] as string;
    this.i++;
    switch (c) {
      case '(': {
        if (this.s[this.i] === '?') {
          if (this.s[this.i + 1] !== ':') throw new Unsupported();
          this.i += 2;
        }
        const literals = this.alternation();
        if (this.s[this.i] !== ')') throw new Unsupported();
        this.i++;
        return { kind: 'group', literals };
      }
      case '[': {
        // Skip the class; a `]` first (or after `^`) is a member, `\]` too.
        if (this.s[this.i] === '^') this.i++;
        if (this.s[this.i] === ']') this.i++;
        while (this.i < this.s.length && this.s[this.i] !== ']') this.i += this.s[this.i] === '\\' ? 2 : 1;
        if (this.i >= this.s.length) throw new Unsupported();
        this.i++;
        return { kind: 'other' };
      }
      case '\\': {
        const e = this.s[this.i];
        if (e === undefined) throw new Unsupported();
        this.i++;
        if (e === 'b' || e === 'B') return { kind: 'assert' };
        if (CLASS_ESCAPE.test(e)) return { kind: 'other' };
        if (LITERAL_ESCAPE.test(e)) return { kind: 'char', c: e };
        throw new Unsupported();
      }
      case '^':
      case '$':
        return { kind: 'assert' };
      case '.':
        return { kind: 'other' };
      case ')':
      case '|':
      case '*':
      case '+':
      case '?':
        throw new Unsupported();
      default: {
        const code = c.charCodeAt(0);
        // ASCII letters fold to lower case exactly as the regex engine folds them; other characters may not.
        if (code >= 0x20 && code < 0x7f) return { kind: 'char', c: c.toLowerCase() };
        return { kind: 'other' };
      }
    }
  }

  /** `?` `*` `+` `{n}` `{n,}` `{n,m}` (each maybe lazy), or undefined; a `{` that is not a quantifier is a literal. */
  private quantifier(): { min: number; max: number | undefined } | undefined {
    const c = this.s[this.i];
    let q: { min: number; max: number | undefined } | undefined;
    if (c === '?') q = { min: 0, max: 1 };
    else if (c === '*') q = { min: 0, max: undefined };
    else if (c === '+') q = { min: 1, max: undefined };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (m === null) return undefined;
      this.i += m[0].length - 1;
      q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === '' ? undefined : Number(m[3]) };
    } else return undefined;
    this.i++;
    if (this.s[this.i] === '?') this.i++;
    return q;
  }
}
