import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../generators/lib/templates.js';
import { parseYamlStream, toYaml, toYamlStream, yamlInline } from '../generators/lib/yaml.js';

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
