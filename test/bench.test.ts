import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { formatProcessBench, PROCESS_COLUMNS, runProcessBench } from '../generators/bench/process.js';
import { BENCH_COLUMNS, formatBench, runBench } from '../generators/bench/bench.js';
import { syntheticEnvironment } from '../generators/bench/synthetic.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { EXAMPLES, exampleSources, ROOT, TSX } from './helpers.js';

vi.setConfig({ testTimeout: 300_000 });

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
    expect(text.split('\n')[1]).toMatch(/^1\s+\d+\s+\d+\s+\d+\.\d{2}\s+\d+\.\d{2}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+(\d+\.\d{2}|Infinity)×$/);
    expect(row.jsonFloorMsPerEnv).toBeGreaterThan(0);
    expect(row.warmMsPerEnv).toBeGreaterThan(0);
  });

  it('runs synth as a process on N synthetic environments, then on 1 changed of N, with peak memory, start-up and the split by phase', () => {
    const prod = prepareEnvironment('prod', exampleSources()).prepared!;
    const rows = runProcessBench(ROOT, { execPath: TSX, args: [join(ROOT, 'generators', 'cli', 'synth.ts')] }, prod.data, [2], { changedOf: 2, template: 'prod', templateOctet: 30, jobs: 1 });
    expect(rows.map((r) => [r.label, r.environments, r.rendered, r.skipped, r.threads])).toStrictEqual([
      ['2 environments, empty rendered/', 2, 2, 0, 1],
      ['1 changed of 2', 2, 1, 1, 1],
    ]);
    for (const r of rows) {
      expect(r.peakRssBytes).toBeGreaterThan(r.floorPeakRssBytes / 10);
      expect(r.wallMs).toBeGreaterThan(r.startupMs);
      expect(r.times.render + r.times.serialize).toBeGreaterThan(0);
      expect(r.times.write).toBeGreaterThan(0);
      expect(r.jsonFloorWallMs).toBeGreaterThan(0);
      expect(r.cpuMs).toBeGreaterThan(0);
      expect(r.jsonFloorCpuMs).toBeGreaterThan(0);
      expect(r.floorWallMs).toBeGreaterThan(0);
    }
    const text = formatProcessBench(rows).split('\n');
    expect(text[0]!.split(/\s{2,}/)).toStrictEqual(PROCESS_COLUMNS);
    expect(text[2]).toMatch(/^1 changed of 2\s+1\s+1\s+1\s+\d+\.\d{2}\s+\d+\.\d{2}\s+\d+\.\d{2}\s+\d+\.\d{2}×\s+\d+\.\d{2}\s+\d+\.\d{2}\s+\d+\.\d{2}×\s+\d+\s+\d+\s+\d+\.\d{2}(\s+\d+){6}$/);
  });
});
