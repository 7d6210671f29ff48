import { describe, expect, it } from 'vitest';
import { BENCH_COLUMNS, formatBench, runBench } from '../generators/bench/bench.js';
import { syntheticEnvironment } from '../generators/bench/synthetic.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { EXAMPLES, exampleSources } from './helpers.js';

describe('bench', () => {
  it('synthetic environments validate and differ from prod in names and addresses', () => {
    const sources = exampleSources();
    const prod = prepareEnvironment('prod', sources).prepared!;
    const s = syntheticEnvironment(prod.data, 3);
    const all = new Map(sources).set(`environments/${s.name}.yaml`, s.text);
    const r = prepareEnvironment(s.name, all);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const m = r.prepared!.model;
    expect([m.name, m.cluster.name, m.aws.vpc.cidr, m.pools.length, m.nodes.map((n) => n.name)]).toStrictEqual([
      'bench-3',
      'odp-bench-3',
      '10.42.0.0/16',
      prod.model.pools.length,
      prod.model.nodes.map((n) => n.name.replace(/^prod/, 'bench-3')),
    ]);
  });

  it('runs with N=1 and prints the columns', () => {
    const row = runBench(EXAMPLES, exampleSources(), 1);
    expect(row.environments).toBe(1);
    expect(row.files).toBeGreaterThan(0);
    const text = formatBench([row]);
    expect(text.split('\n')[0]!.split(/\s{2,}/)).toStrictEqual(BENCH_COLUMNS);
    expect(text.split('\n')[1]).toMatch(/^1\s+\d+\s+\d+\s+\d+\.\d{2}\s+\d+\.\d{3}\s+(\d+\.\d|Infinity)×$/);
  });
});
