/**
 * The fast path of toYaml (yaml.ts): a block-style YAML emitter for plain data (plain objects,
 * arrays, strings, finite and non-finite numbers, booleans, null) that writes, byte for byte, what
 * the `yaml` package's stringifier writes for the same value with the options of yaml.ts (YAML 1.1
 * schema without the merge key, the 1.2 core schema as `compat`, lineWidth 0, indentSeq, no aliases,
 * keys sorted by compareKeys, `<<` keys double-quoted). It is a transcription of the parts of
 * yaml 2.x's stringify/ (stringifyString, stringifyPair, stringifyCollection, stringifyNumber) that
 * these options reach, without building a Document of nodes first: that generic machinery was most of
 * synth's serialize phase.
 *
 * Anything else (class instances, toJSON, Map, Set, Date, bigint, functions, symbols, a `__proto__`
 * key) makes it give up and return undefined: the caller then uses the
 * `yaml` package itself. test/yaml.test.ts checks the two against each other on arbitrary plain data.
 */

export interface PlainEmitterOptions {
  compareKeys: (a: string, b: string) => number;
  /**
   * Whether a string written plain would be read back as another type (null, bool, int, float,
   * timestamp) by a YAML 1.1 or a YAML 1.2 core reader: the union of the schemas' tests.
   */
  retyped: RegExp;
  /** Keys always written double-quoted (`<<`, YAML 1.1's merge key). */
  quotedKeys: ReadonlySet<string>;
}

/** Thrown inside the emitter for a value it does not handle; never escapes plainEmitter. */
const GIVE_UP: unique symbol = Symbol('not plain data');

const STEP = '  ';
/**
 * Characters written double-quoted: C0/C1 controls (not tab, LF) and lone surrogates, as the `yaml`
 * package does; and the byte order mark, which it writes plain although no plain scalar may hold one
 * (YAML 1.2 ns-char) and a reader drops it at the start of a document.
 */
const DOUBLE_QUOTED_ONLY = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}\u{FEFF}]/u;
/** What cannot be written plain (stringifyString.js's plainString): indicators, `: `, ` #`, edge spaces. */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const DOC_MARKER = /^(%|---|\.\.\.)/m;
const SPACE_AT_NEWLINE = /[ \t]\n|\n[ \t]/;
const TRAILING_BLANK_LINE = /\n[\t ]+$/;
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;
const DOUBLE_QUOTED_MIN_MULTILINE = 40;
const ONLY_WHITESPACE = /^[ \t\n]*$/;

/**
 * A string of spaces, tabs and line breaks only, written as a literal block the way the `yaml`
 * package writes it (`|+`, no indentation indicator), loses the spaces of its lines up to the first
 * tab: with no other content a reader takes them for indentation (`" \n"` reads back as `"\n"`).
 * Such strings are written quoted.
 */
function spacesLost(value: string): boolean {
  if (!ONLY_WHITESPACE.test(value)) return false;
  const tab = value.indexOf('\t');
  return (tab === -1 ? value : value.slice(0, tab)).includes(' ');
}

export function plainEmitter(opts: PlainEmitterOptions): (value: unknown) => string | undefined {
  const { compareKeys, retyped, quotedKeys } = opts;
  if (retyped.flags !== '') throw new Error('plainEmitter: the retyped test must have no flags');

  function doubleQuoted(value: string, indent: string, implicitKey: boolean): string {
    const json = JSON.stringify(value);
    const ind = indent || (DOC_MARKER.test(value) ? STEP : '');
    let str = '';
    let start = 0;
    let escapedSpace = -1;
    for (let i = 0, ch = json[i]; ch; ch = json[++i]) {
      if (ch === ' ' && json[i + 1] === '\\' && json[i + 2] === 'n') {
        // a space before a newline is escaped, or folding would eat it (once: when it also follows a
        // newline, that escaped it already; the yaml package writes a second backslash, `\\ `)
        str += json.slice(start, i) + (escapedSpace === i ? ' ' : '\\ ');
        i += 1;
        start = i;
        ch = '\\';
      }
      if (ch === '\\')
        switch (json[i + 1]) {
          case 'u': {
            str += json.slice(start, i);
            const code = json.substr(i + 2, 4);
            switch (code) {
              case '0000': str += '\\0'; break;
              case '0007': str += '\\a'; break;
              case '000b': str += '\\v'; break;
              case '001b': str += '\\e'; break;
              case '0085': str += '\\N'; break;
              case '00a0': str += '\\_'; break;
              case '2028': str += '\\L'; break;
              case '2029': str += '\\P'; break;
              default: str += code.substr(0, 2) === '00' ? '\\x' + code.substr(2) : json.substr(i, 6);
            }
            i += 5;
            start = i + 1;
            break;
          }
          case 'n':
            if (implicitKey || json[i + 2] === '"' || json.length < DOUBLE_QUOTED_MIN_MULTILINE) {
              i += 1;
            } else {
              // a line break written as one (folded back by the reader): the first newline is eaten
              str += json.slice(start, i) + '\n\n';
              while (json[i + 2] === '\\' && json[i + 3] === 'n' && json[i + 4] !== '"') {
                str += '\n';
                i += 2;
              }
              str += ind;
              // a space after a newline is escaped, or folding would eat it
              if (json[i + 2] === ' ') {
                str += '\\';
                escapedSpace = i + 2;
              }
              i += 1;
              start = i + 1;
            }
            break;
          default:
            i += 1;
        }
    }
    return start ? str + json.slice(start) : json;
  }

  function singleQuoted(value: string, indent: string, implicitKey: boolean): string {
    if ((implicitKey && value.includes('\n')) || SPACE_AT_NEWLINE.test(value)) return doubleQuoted(value, indent, implicitKey);
    const ind = indent || (DOC_MARKER.test(value) ? STEP : '');
    return "'" + value.replace(/'/g, "''").replace(/\n+/g, `$&\n${ind}`) + "'";
  }

  function quoted(value: string, indent: string, implicitKey: boolean): string {
    return value.includes('"') && !value.includes("'") ? singleQuoted(value, indent, implicitKey) : doubleQuoted(value, indent, implicitKey);
  }

  /** A literal block scalar (lineWidth 0 never folds). */
  function block(value: string, indent: string, forceIndent: boolean): string {
    const original = value;
    if (TRAILING_BLANK_LINE.test(value)) return quoted(value, indent, false);
    if (spacesLost(value)) return quoted(value, indent, false); // where the yaml package's block is read back wrong
    const ind = indent || (forceIndent || DOC_MARKER.test(value) ? STEP : '');
    if (!value) return '|\n';
    let endStart: number;
    for (endStart = value.length; endStart > 0; --endStart) {
      const ch = value[endStart - 1];
      if (ch !== '\n' && ch !== '\t' && ch !== ' ') break;
    }
    let end = value.substring(endStart);
    const endNlPos = end.indexOf('\n');
    const chomp = endNlPos === -1 ? '-' : value === end || endNlPos !== end.length - 1 ? '+' : '';
    if (end) {
      value = value.slice(0, -end.length);
      if (end[end.length - 1] === '\n') end = end.slice(0, -1);
      end = end.replace(BLOCK_END_NEWLINES, `$&${ind}`);
    }
    let startWithSpace = false;
    let startEnd: number;
    let startNlPos = -1;
    for (startEnd = 0; startEnd < value.length; ++startEnd) {
      const ch = value[startEnd];
      if (ch === ' ') startWithSpace = true;
      else if (ch === '\n') startNlPos = startEnd;
      else break;
    }
    let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
    if (start) {
      value = value.substring(start.length);
      start = start.replace(/\n+/g, `$&${ind}`);
    }
    // At the top level the yaml package writes an indentation indicator its own reader takes one
    // column further than the spec (the top level is at indentation -1): quoted instead.
    if (startWithSpace && ind === '') return quoted(original, indent, false);
    const header = (startWithSpace ? (ind ? '2' : '1') : '') + chomp;
    return `|${header}\n${ind}${start}${value.replace(/\n+/g, `$&${ind}`)}${end}`;
  }

  function string(value: string, indent: string, implicitKey: boolean): string {
    if (DOUBLE_QUOTED_ONLY.test(value)) return doubleQuoted(value, indent, implicitKey);
    const multiline = value.includes('\n');
    if (implicitKey && multiline) return quoted(value, indent, implicitKey);
    if (NOT_PLAIN.test(value)) return implicitKey || !multiline ? quoted(value, indent, implicitKey) : block(value, indent, false);
    if (multiline) return block(value, indent, false);
    if (DOC_MARKER.test(value)) {
      if (indent === '') return block(value, indent, true);
      if (implicitKey && indent === STEP) return quoted(value, indent, implicitKey);
    }
    return retyped.test(value) ? quoted(value, indent, implicitKey) : value;
  }

  /**
   * A map's key as written: the same key is written the same way at every depth but the first
   * (string() with implicitKey looks at the indentation only to tell the first level, STEP), so it is
   * remembered, in one cache per case, bounded (keys come from the data and can be anything).
   */
  const keyCache = [new Map<string, string>(), new Map<string, string>()] as const;
  const KEY_CACHE_SIZE = 4096;
  function keyText(k: string, indent: string): string {
    const cache = keyCache[indent === STEP ? 0 : 1];
    let out = cache.get(k);
    if (out === undefined) {
      out = quotedKeys.has(k) ? doubleQuoted(k, indent, true) : string(k, indent, true);
      if (cache.size >= KEY_CACHE_SIZE) cache.clear();
      cache.set(k, out);
    }
    return out;
  }

  /**
   * A string value (not a key) as written. One without a line break is written the same way at every
   * indentation but the top level's ('': a document marker there makes a block), so it is remembered
   * like keys: the renderers write the same names, labels and versions again and again, and the four
   * tests of string() were a third of the serialize phase (issue 23). Bounded as keyText's cache;
   * long strings are not kept.
   */
  const valueCache = new Map<string, string>();
  const VALUE_CACHE_MAX_LENGTH = 256;
  function valueText(v: string, indent: string): string {
    if (indent === '') return string(v, indent, false);
    let out = valueCache.get(v);
    if (out === undefined) {
      out = string(v, indent, false);
      if (v.length <= VALUE_CACHE_MAX_LENGTH && !v.includes('\n')) {
        if (valueCache.size >= KEY_CACHE_SIZE) valueCache.clear();
        valueCache.set(v, out);
      }
    }
    return out;
  }

  function number(n: number): string {
    if (!Number.isFinite(n)) return Number.isNaN(n) ? '.nan' : n < 0 ? '-.inf' : '.inf';
    return Object.is(n, -0) ? '-0' : JSON.stringify(n);
  }

  /** A value in block context at `indent` (the indentation of its own lines after the first). */
  function node(v: unknown, indent: string): string {
    switch (typeof v) {
      case 'string':
        return valueText(v, indent);
      case 'number':
        return number(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'undefined':
        return 'null'; // a list's undefined item (a map leaves undefined members out)
      case 'object':
        if (v === null) return 'null';
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) throw GIVE_UP;
          return seq(v, indent);
        }
        return map(v as Record<string, unknown>, indent);
      default:
        throw GIVE_UP;
    }
  }

  function seq(items: readonly unknown[], indent: string): string {
    if (items.length === 0) return '[]';
    const inner = indent + STEP;
    let out = '- ' + node(items[0], inner);
    for (let i = 1; i < items.length; i++) out += '\n' + indent + '- ' + node(items[i], inner);
    return out;
  }

  function map(obj: Record<string, unknown>, indent: string): string {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) throw GIVE_UP;
    const keys: string[] = [];
    for (const k of Object.keys(obj)) {
      if (k === '__proto__') throw GIVE_UP;
      if (obj[k] !== undefined) keys.push(k);
    }
    if (keys.length === 0) return '{}';
    // Sorted only when out of order (most maps the renderers build already are): the same order, as
    // the sort is stable, without the sort's allocations (a tenth of a run's, issue 23).
    for (let i = 1; i < keys.length; i++)
      if (compareKeys(keys[i - 1]!, keys[i]!) > 0) {
        keys.sort(compareKeys);
        break;
      }
    const inner = indent + STEP;
    let out = '';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const key = keyText(k, inner);
      const v = obj[k];
      let pair: string;
      if (key.length > 1024) pair = `? ${key}\n${indent}: ${node(v, inner)}`; // too long for an implicit key
      else if (typeof v === 'object' && v !== null) {
        const body = node(v, inner);
        pair = body === '[]' || body === '{}' ? `${key}: ${body}` : `${key}:\n${inner}${body}`;
      } else pair = `${key}: ${node(v, inner)}`;
      out += i === 0 ? pair : '\n' + indent + pair;
    }
    return out;
  }

  return (value: unknown): string | undefined => {
    try {
      return node(value, '') + '\n';
    } catch (e) {
      if (e === GIVE_UP) return undefined;
      throw e;
    }
  };
}
