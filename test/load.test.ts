import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locate, mergeDeep, parseFile, resolveEnvironment } from '../generators/load/loader.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { EXAMPLES } from './helpers.js';
import { cidrContains, cidrsOverlap, parseCidr, parseIpv4 } from '../generators/lib/cidr.js';
import { didYouMean } from '../generators/lib/suggest.js';
import { formatPath } from '../generators/lib/paths.js';

const HEAD = '# yaml-language-server: $schema=../schemas/environment.schema.json\n';

describe('extends: maps merge deeply, lists replace', () => {
  it('merges and keeps the position of whichever file wrote each value', () => {
    const sources = new Map([
      ['environments/_base.yaml', `${HEAD}a:\n  x: 1\n  y: [1, 2]\nlist:\n  - { k: base }\n  - { k: base2 }\n`],
      ['environments/e.yaml', `${HEAD}name: e\nextends: _base\na:\n  y: [3]\n  z: 2\nlist:\n  - { k: env }\n`],
    ]);
    const { env, diagnostics } = resolveEnvironment('e', sources);
    expect(diagnostics).toStrictEqual([]);
    expect(env!.data).toStrictEqual({ a: { x: 1, y: [3], z: 2 }, list: [{ k: 'env' }], name: 'e', extends: '_base' });
    expect(locate(env!, ['a', 'x'])).toStrictEqual({ file: 'environments/_base.yaml', line: 3, col: 6 });
    expect(locate(env!, ['a', 'y', 0])).toStrictEqual({ file: 'environments/e.yaml', line: 5, col: 7 });
    // The base's second list item is gone with the list it belonged to: the position falls back to the env's list.
    expect(locate(env!, ['list', 1, 'k'])).toStrictEqual({ file: 'environments/e.yaml', line: 8, col: 3 });
    expect(locate(env!, ['a', 'z'], true)).toStrictEqual({ file: 'environments/e.yaml', line: 6, col: 3 });
  });

  it('without origins (what the fleet index reads): the same data, no positions', () => {
    const sources = new Map([
      ['environments/_base.yaml', `${HEAD}a:\n  x: 1\n  y: [1, 2]\nlist:\n  - { k: base }\n`],
      ['environments/e.yaml', `${HEAD}name: e\nextends: _base\na:\n  y: [3]\n`],
    ]);
    const full = resolveEnvironment('e', sources);
    const bare = resolveEnvironment('e', sources, { origins: false });
    expect(bare.env!.data).toStrictEqual(full.env!.data);
    expect(bare.env!.files).toStrictEqual(full.env!.files);
    expect(bare.env!.origins.size).toBe(0);
    expect(full.env!.origins.size).toBeGreaterThan(0);
  });

  it('merged positions: what an override replaces is forgotten, maps merge, at any depth', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 2 })))), { noNullPrototype: true }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.constantFrom('a', 'b'), fc.integer())), { noNullPrototype: true }),
        (base, own) => {
          const sources = new Map([
            ['environments/_base.yaml', `${HEAD}${JSON.stringify(base)}\n`],
            ['environments/e.yaml', `${HEAD}${JSON.stringify({ ...own, extends: '_base' })}\n`],
          ]);
          const env = resolveEnvironment('e', sources).env!;
          // Every value of the merged document has a position, in the file that wrote it.
          const walk = (v: unknown, path: (string | number)[], from: unknown): void => {
            const file = from === undefined ? 'environments/_base.yaml' : 'environments/e.yaml';
            if (path.length > 0) expect(locate(env, path).file, path.join('/')).toBe(file);
            if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k], from === undefined ? undefined : (from as Record<string, unknown>)[k]);
          };
          for (const [k, v] of Object.entries(env.data)) if (k !== 'extends') walk(v, [k], (own as Record<string, unknown>)[k]);
        },
      ),
    );
  });

  it('reports an extends cycle', () => {
    const sources = new Map([
      ['environments/_a.yaml', `${HEAD}extends: _b\n`],
      ['environments/_b.yaml', `${HEAD}extends: _a\n`],
      ['environments/e.yaml', `${HEAD}name: e\nextends: _a\n`],
    ]);
    const { env, diagnostics } = resolveEnvironment('e', sources);
    expect(env).toBeUndefined();
    expect(diagnostics.map((d) => d.message)).toStrictEqual(['extends cycle: environments/e.yaml → environments/_a.yaml → environments/_b.yaml → environments/_a.yaml']);
  });

  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.array(tie('value'), { maxLength: 3 }), tie('map')),
    map: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  }));

  it('property: {} is neutral, merging is idempotent, and over wins for non-maps', () => {
    fc.assert(
      fc.property(json.map, json.map, (x, y) => {
        expect(mergeDeep({}, x)).toStrictEqual(x);
        expect(mergeDeep(x, {})).toStrictEqual(x);
        expect(mergeDeep(x, x)).toStrictEqual(x);
        expect(mergeDeep(mergeDeep(x, y), y)).toStrictEqual(mergeDeep(x, y));
        for (const [k, v] of Object.entries(y)) {
          if (v === null || typeof v !== 'object' || Array.isArray(v)) expect((mergeDeep(x, y) as Record<string, unknown>)[k]).toStrictEqual(v);
        }
      }),
    );
  });
});

describe('CIDR arithmetic', () => {
  it('parses and rejects', () => {
    expect(parseCidr('10.0.0.0/16')).toStrictEqual({ base: 0x0a000000, bits: 16, text: '10.0.0.0/16', hostBits: false });
    expect(parseCidr('10.0.1.0/16')?.hostBits).toBe(true);
    for (const bad of ['10.0.0.0', '10.0.0/8', '256.0.0.0/8', '10.0.0.0/33', '01.0.0.0/8', '10.0.0.0/8/1']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('property: a CIDR contains its base and overlaps every CIDR containing an address of it', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip1, b1, ip2, b2) => {
        const a = parseCidr(`${ip1}/${b1}`)!;
        const b = parseCidr(`${ip2}/${b2}`)!;
        expect(cidrContains(a, parseIpv4(ip1)!)).toBe(true);
        expect(cidrsOverlap(a, b)).toBe(cidrsOverlap(b, a));
        expect(cidrsOverlap(a, b)).toBe(cidrContains(a, b.base) || cidrContains(b, a.base));
      }),
    );
  });
});

describe('small helpers', () => {
  it('suggests close names only', () => {
    expect(didYouMean('instanceTyp', ['name', 'instanceType'])).toBe('instanceType');
    expect(didYouMean('zzz', ['name', 'instanceType'])).toBeUndefined();
  });

  it('formats document paths', () => {
    expect(formatPath(['nodePools', 2, 'instanceType'])).toBe('nodePools[2].instanceType');
    expect(formatPath(['addons', 'x', 'values', 'a.b'])).toBe('addons.x.values["a.b"]');
    expect(formatPath([])).toBe('(document)');
  });
});

describe('an indentation slip is said once, at the slipped line', () => {
  const examples = readdirSync(join(EXAMPLES, 'environments')).filter((f) => f.endsWith('.yaml')).sort();
  it.each(examples)('%s: any one line moved by one space either still parses or gives exactly one yaml.indentation error at that line', (f) => {
    const file = `environments/${f}`;
    const lines = readFileSync(join(EXAMPLES, file), 'utf8').split('\n');
    let slips = 0;
    lines.forEach((line, i) => {
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      for (const moved of [` ${line}`, ...(line.startsWith(' ') ? [line.slice(1)] : [])]) {
        const text = [...lines.slice(0, i), moved, ...lines.slice(i + 1)].join('\n');
        const errors = parseFile(file, text).diagnostics.filter((d) => d.severity === 'error');
        if (errors.length === 0) continue;
        slips++;
        expect(errors.map((d) => `${d.rule} ${d.line}`), `line ${i + 1} moved: ${JSON.stringify(moved)}`).toStrictEqual([`yaml.indentation ${i + 1}`]);
      }
    });
    expect(slips).toBeGreaterThan(10);
  });

  it('a tab in the indentation is named as such', () => {
    const errors = parseFile('environments/e.yaml', `${HEAD}name: e\ncluster:\n\tname: x\n`).diagnostics;
    expect(errors.map(formatDiagnostic)).toStrictEqual(['environments/e.yaml:4:1  (document): line 4 is indented with a tab: YAML indents with spaces only  (replace the tab with spaces, as many as the lines around it use)']);
  });

  it('a line that ends a block scalar too early', () => {
    const errors = parseFile('environments/e.yaml', `${HEAD}name: e\nfiles:\n  a: |\n    one\n   two\n  b: 1\n`).diagnostics;
    expect(errors.map(formatDiagnostic)).toStrictEqual([
      "environments/e.yaml:6:4  files.a: 'two' is indented 3 spaces, but the block it belongs to is indented 4 spaces ('one' on line 5)  (indent it 4 spaces, like 'one' on line 5: YAML reads indentation as structure, so the lines from here on cannot be read until it lines up)",
    ]);
  });
});
