import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileTemplate } from '../generators/lib/templates.js';
import { emitPlainYaml, libraryYaml, parseYamlStream, toYaml, toYamlStream, yamlInline } from '../generators/lib/yaml.js';

describe('the YAML module', () => {
  it('puts apiVersion, kind, metadata first and sorts the rest', () => {
    expect(toYaml({ spec: { b: 1, a: 2 }, metadata: { name: 'x' }, kind: 'K', apiVersion: 'v1' })).toBe('apiVersion: v1\nkind: K\nmetadata:\n  name: x\nspec:\n  a: 2\n  b: 1\n');
  });

  it('quotes what YAML 1.1 readers would retype', () => {
    expect(toYaml({ a: 'yes', b: 'on', c: '2026-01-01', d: '0755', e: 'null' })).toBe('a: "yes"\nb: "on"\nc: "2026-01-01"\nd: "0755"\ne: "null"\n');
  });

  it('drops undefined members and never wraps long lines', () => {
    const long = 'x'.repeat(300);
    expect(toYaml({ a: undefined, b: long })).toBe(`b: ${long}\n`);
  });

  it('property: serialize then parse gives the value back', () => {
    // ('constructor' is left out: vitest's toStrictEqual compares it as the object's type.)
    const value = fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !['constructor', '__proto__'].includes(k)), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string())), { noNullPrototype: true });
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 3 }), (docs) => {
      expect(parseYamlStream(toYamlStream(docs))).toStrictEqual(docs.map((d) => d));
    }));
  });

  it('writes a `<<` key quoted, so YAML 1.1 readers do not take it for a merge key', () => {
    expect(toYaml({ '<<': [], a: { '<<': 'x' }, b: '<<' })).toBe('"<<": []\na:\n  "<<": x\nb: <<\n');
    expect(parseYamlStream(toYaml({ '<<': { k: 1 }, k: 2 }))).toStrictEqual([{ '<<': { k: 1 }, k: 2 }]);
    expect(yamlInline({ '<<': 1 })).toBe('{ "<<": 1 }');
  });

  it('yamlInline cannot inject keys', () => {
    const evil = 'a\n  evil: true';
    const t = compileTemplate('key: {{yaml value}}\n');
    expect(parseYamlStream(t({ value: evil }))).toStrictEqual([{ key: evil }]);
    expect(yamlInline(['a', 'b'])).toBe('[ "a", "b" ]');
  });
});

describe('templates', () => {
  it('are strict about missing values and do not HTML-escape', () => {
    expect(() => compileTemplate('{{missing}}')({})).toThrow();
    expect(compileTemplate('{{v}}')({ v: '<a & b>' })).toBe('<a & b>');
    expect(() => compileTemplate('{{yaml missing}}')({})).toThrow();
  });
});

/** Strings a plain scalar must not be, or that sit at the edge of a quoting rule. */
const AWKWARD = [
  '', ' ', '  ', '\t', '\n', '\n\n', ' \n', '\n ', 'a\n', 'a\n\n', '\na', ' a', 'a ', '\ta', 'a\t', 'a\tb',
  'on', 'On', 'ON', 'off', 'no', 'No', 'NO', 'yes', 'Yes', 'y', 'Y', 'n', 'N', 'true', 'True', 'false', 'FALSE',
  '~', 'null', 'Null', 'NULL', '0o17', '0O17', '-0o17', '017', '0', '-0', '+1', '08', '0x1F', '0b101', '1_000',
  '1e3', '1E3', '1e+3', '-1.5e-3', '.5', '1.', '.inf', '-.inf', '+.Inf', '.nan', '.NaN', '1:20', '1:20.5', '2026-01-01', '2026-1-1 10:00:00Z',
  ': ', 'a: b', 'a:', ':a', 'a #b', '#a', 'a#b', '- ', '-', '- a', '?', '? a', '?a', '-a',
  '*a', '&a', '!a', '|a', '>a', '%a', '@a', '`a', "'a", '"a', `a'b"c`, 'a"b', ',a', '[a', ']', '{a}', '<<', '=',
  '---', '---x', '...', '... x', '%YAML 1.1', 'a\n---\nb', 'a\n...', 'a\n%b',
  'line 1\nline 2', 'line 1\n  indented\nline 3', 'trailing\n  ', 'x\n\n\ny\n\n', ' lead\nx', 'a \nb', 'a\n b',
  'a long line of text, longer than forty characters\nand a second line', 'a long line of text, longer than forty characters \n and a second',
  'é', 'ü: x', '日本語', '🙂', '\u00a0', 'a\u00a0', '\u0085', 'a\u2028b', '\u2029', '\u0000', '\u0007', '\u001b', '\u007f', '\ufeff', '\\', '\\n', 'a\\',
  'x'.repeat(1100),
];

const awkward = fc.constantFrom(...AWKWARD);
const text = fc.oneof(
  awkward,
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', ':', '#', '-', "'", '"', '0', 'o', '.', 'é') }),
  fc.tuple(awkward, fc.string(), awkward).map(([a, b, c]) => a + b + c),
  fc.array(awkward, { maxLength: 4 }).map((parts) => parts.join('\n')),
);
/** Keys: any string but __proto__ (left to the yaml package) and constructor (toStrictEqual reads it as the type). */
const key = text.filter((k) => k !== '__proto__' && k !== 'constructor');
const scalar = fc.oneof(text, text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));

/** Arbitrary plain data: maps, lists, strings, numbers, booleans, null. */
const plain = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true })),
})).value;

/** The same with undefined members and items (maps leave them out, lists write null). */
const withUndefined = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, fc.constant(undefined), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true })),
})).value;

function parseAs(version: '1.1' | '1.2', yaml: string): unknown[] {
  return parseAllDocuments(yaml, { version }).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
    return d.toJS({ maxAliasCount: -1 });
  });
}

/** `value` as written: undefined members left out, undefined list items null. */
const asWritten = (value: unknown): unknown =>
  value === undefined ? null
  : Array.isArray(value) ? value.map((v) => (v === undefined ? null : asWritten(v)))
  : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, asWritten(v)]))
  : value;

/** Whether both YAML 1.1 and YAML 1.2 readers read `yaml` back as `value`. */
function readsBack(yaml: string, value: unknown): boolean {
  try {
    return (['1.1', '1.2'] as const).every((version) => isDeepStrictEqual(parseAs(version, yaml), [asWritten(value)]));
  } catch {
    return false;
  }
}

/** A byte order mark, which the emitter writes double-quoted (the yaml package writes it plain: a reader drops it at the start of a document). */
const hasBom = (value: unknown): boolean => JSON.stringify(value ?? null).includes('\ufeff');

describe('the plain-data emitter (the fast path of toYaml)', () => {
  it('property: YAML 1.1 and YAML 1.2 readers both read the value back', () => {
    fc.assert(
      fc.property(plain, (value) => {
        const yaml = emitPlainYaml(value);
        expect(yaml).toBeDefined();
        expect(parseAs('1.1', yaml!), yaml).toStrictEqual([value]);
        expect(parseAs('1.2', yaml!), yaml).toStrictEqual([value]);
      }),
      { numRuns: 500 },
    );
  });

  it('property: writes exactly what the yaml package writes with the same options, wherever that reads back as the value', () => {
    fc.assert(
      fc.property(withUndefined, (value) => {
        const yaml = emitPlainYaml(value);
        expect(yaml).toBeDefined();
        const library = libraryYaml(value);
        if (readsBack(library, value) && !hasBom(value)) expect(yaml).toBe(library);
        else expect(readsBack(yaml!, value), yaml).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: a string written again at other depths (the remembered form) is what the yaml package writes there', () => {
    // The emitter remembers how a string value without a line break is written; the same string at
    // the top level, one level down and deep in lists and maps must still be written for its place.
    fc.assert(
      fc.property(text, (s) => {
        for (const value of [{ a: s }, [s], { a: [{ b: s }, s], c: { d: { e: s } } }, s, [[s, { f: s }]]]) {
          const yaml = emitPlainYaml(value)!;
          if (readsBack(libraryYaml(value), value) && !hasBom(value)) expect(yaml, JSON.stringify(s)).toBe(libraryYaml(value));
          else expect(readsBack(yaml, value), yaml).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('every awkward string, as a value, a key, a list item and the whole document, is what the yaml package writes and reads back as itself', () => {
    for (const s of AWKWARD) {
      for (const value of [{ k: s }, { [s]: 1 }, { a: { [s]: [s] } }, [s, [s]], s]) {
        const yaml = emitPlainYaml(value)!;
        if (readsBack(libraryYaml(value), value) && !hasBom(value)) expect(yaml, JSON.stringify(s)).toBe(libraryYaml(value));
        expect(parseAs('1.1', yaml), yaml).toStrictEqual([value]);
        expect(parseAs('1.2', yaml), yaml).toStrictEqual([value]);
      }
    }
  });

  it('quotes the strings whose block form, as the yaml package writes it, reads back as another string', () => {
    // Spaces before the first tab of a string of whitespace only: a reader takes them for indentation.
    expect(libraryYaml({ k: ' \n' })).toBe('k: |+\n   \n');
    expect(parseAs('1.1', 'k: |+\n   \n')).toStrictEqual([{ k: '\n' }]);
    expect(emitPlainYaml({ k: ' \n' })).toBe('k: "\\ \\n"\n');
    expect(emitPlainYaml({ k: '\t \n' })).toBe(libraryYaml({ k: '\t \n' }));
    // A whole document that is a string starting with a space: the indentation indicator.
    expect(libraryYaml(' a\nb')).toBe('|1-\n a\nb\n');
    expect(readsBack('|1-\n a\nb\n', ' a\nb')).toBe(false);
    expect(emitPlainYaml(' a\nb')).toBe('" a\\nb"\n');
    for (const value of [{ k: ' \n' }, ' a\nb', ['\n\n \n']]) expect(readsBack(emitPlainYaml(value)!, value)).toBe(true);
  });

  it('escapes a space between two line breaks of a long double-quoted string once (the yaml package escapes it twice: `\\\\ `, a backslash)', () => {
    const value = { k: `${'x'.repeat(40)}\u0007\n \nend` };
    expect(libraryYaml(value)).toBe(`k: "${'x'.repeat(40)}\\a\n\n  \\\\ \n\n  end"\n`);
    expect(readsBack(libraryYaml(value), value)).toBe(false);
    expect(emitPlainYaml(value)).toBe(`k: "${'x'.repeat(40)}\\a\n\n  \\ \n\n  end"\n`);
    expect(readsBack(emitPlainYaml(value)!, value)).toBe(true);
  });

  it('writes a byte order mark double-quoted: a plain scalar may not hold one (YAML 1.2 ns-char), and a reader drops it at the start of a document', () => {
    expect(libraryYaml({ '\ufeffk': 1 })).toBe('\ufeffk: 1\n');
    expect(readsBack('\ufeffk: 1\n', { '\ufeffk': 1 })).toBe(false);
    expect(emitPlainYaml({ '\ufeffk': 1 })).toBe('"\ufeffk": 1\n');
    expect(emitPlainYaml({ k: 'a\ufeff' })).toBe('k: "a\ufeff"\n');
    expect(readsBack(emitPlainYaml({ '\ufeffk': '\ufeff' })!, { '\ufeffk': '\ufeff' })).toBe(true);
  });

  it('quotes what YAML 1.1 or 1.2 readers would retype, and what cannot be plain', () => {
    const written = (s: string): string => emitPlainYaml({ k: s })!.slice('k: '.length, -1);
    expect(['on', 'no', 'y', '0o17', '017', '1e3', '.inf', '~', 'null', '', ' a', 'a ', 'a: b', 'a #b', '- a', '*a', '&a', '!a', '|a', '>a', '%a', '@a', '`a', '"a'].map(written)).toStrictEqual(
      ['"on"', '"no"', '"y"', '"0o17"', '"017"', '"1e3"', '".inf"', '"~"', '"null"', '""', '" a"', '"a "', '"a: b"', '"a #b"', '"- a"', '"*a"', '"&a"', '"!a"', '"|a"', '">a"', '"%a"', '"@a"', '"`a"', `'"a'`],
    );
    expect(['a\tb', 'é', 'a#b', ':a', 'a"b', '<<', '---'].map(written)).toStrictEqual(['a\tb', 'é', 'a#b', ':a', 'a"b', '<<', '---']);
    expect(emitPlainYaml({ k: 'line 1\nline 2\n' })).toBe('k: |\n  line 1\n  line 2\n');
    expect(emitPlainYaml({ ['k'.repeat(1100)]: { a: 1 } })).toBe(`? ${'k'.repeat(1100)}\n: a: 1\n`);
  });

  it('writes a 0o-octal string quoted (YAML 1.2 reads it as a number), and the yaml package with the project options does too', () => {
    expect(toYaml({ mode: '0o17' })).toBe('mode: "0o17"\n');
    expect(libraryYaml({ mode: '0o17' })).toBe('mode: "0o17"\n');
    expect(parseAs('1.2', 'mode: 0o17\n')).toStrictEqual([{ mode: 15 }]);
  });

  it('leaves anything but plain data to the yaml package, which writes it as before', () => {
    class Kind {
      constructor(readonly name: string) {}
    }
    const cases: unknown[] = [new Kind('x'), { a: new Kind('x') }, { at: new Date(Date.UTC(2026, 0, 1)) }, [new Map([['a', 1]])], { n: 10n }, { toJSON: () => ({ a: 1 }) }, JSON.parse('{"__proto__": {"a": 1}, "b": 2}')];
    for (const value of cases) {
      expect(emitPlainYaml(value)).toBeUndefined();
      expect(toYaml(value)).toBe(libraryYaml(value));
    }
    expect(toYaml(new Kind('x'))).toBe('name: x\n');
  });
});
