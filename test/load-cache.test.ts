/**
 * parseFile reuses the parsed Document of a text it parsed recently (generators/load/loader.ts):
 * each call must still give its own data, origins and diagnostics, named by its own file.
 */
import { describe, expect, it } from 'vitest';
import { parseFile } from '../generators/load/loader.js';

const TEXT = '# yaml-language-server: $schema=../schemas/environment.schema.json\ncluster:\n  name: a\n  name: b\nlist: [1, 2]\n';

describe('parse cache', () => {
  it('the same text in two files: equal results, separate objects, each diagnostic names its file', () => {
    const a = parseFile('environments/a.yaml', TEXT);
    const b = parseFile('environments/b.yaml', TEXT);
    expect(a.diagnostics.map((d) => [d.file, d.rule, d.line, d.col])).toStrictEqual([['environments/a.yaml', 'yaml.duplicate-key', 4, 3]]);
    expect(b.diagnostics.map((d) => [d.file, d.rule, d.line, d.col])).toStrictEqual([['environments/b.yaml', 'yaml.duplicate-key', 4, 3]]);
  });

  it('data handed out is never shared: changing one result does not change the next', () => {
    const text = TEXT.replace('  name: b\n', '');
    const first = parseFile('environments/a.yaml', text).parsed!;
    (first.data as { cluster: { name: string } }).cluster.name = 'changed';
    (first.data as { list: number[] }).list.push(3);
    first.origins.clear();
    const second = parseFile('environments/a.yaml', text).parsed!;
    expect(second.data).toStrictEqual({ cluster: { name: 'a' }, list: [1, 2] });
    expect(second.origins.size).toBeGreaterThan(0);
  });
});
