/**
 * The scale benchmark: N synthetic environments rendered in memory through the real pipeline, timed
 * per environment, next to the floor — a bare `node` process serializing the same objects with
 * `yaml` (the rendered files parsed back to objects). Prints figures; asserts nothing about them.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseYamlStream } from '../lib/yaml.js';
import { phaseTimes, phaseTimesSince, type PhaseTimes } from '../lib/timing.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import { syntheticEnvironment } from './synthetic.js';

export interface BenchRow {
  environments: number;
  files: number;
  objects: number;
  /** Milliseconds per environment: prepare (load, validate, model) + render. */
  renderMsPerEnv: number;
  /** Milliseconds per environment for yaml.stringify of the same objects in a bare node process. */
  floorMsPerEnv: number;
  ratio: number;
}

/** The floor, measured in a child `node` (no tsx, no project code): yaml.stringify of each object. */
const FLOOR_SCRIPT = `
import { stringify } from 'yaml';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const docs = JSON.parse(input);
for (const d of docs.slice(0, 50)) stringify(d, { version: '1.1', lineWidth: 0 }); // warm-up
const t0 = process.hrtime.bigint();
for (const d of docs) stringify(d, { version: '1.1', lineWidth: 0 });
process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));
`;

export function floorMs(root: string, docs: unknown[]): number {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', FLOOR_SCRIPT], { cwd: root, input: JSON.stringify(docs), encoding: 'utf8', maxBuffer: 1 << 30 });
  return Number(out);
}

export function runBench(root: string, sources: ReadonlyMap<string, string>, n: number, onEnvironment?: (e: { env: string; files: number; ms: number; phases: PhaseTimes }) => void): BenchRow {
  const prod = prepareEnvironment('prod', sources);
  if (!prod.prepared) throw new Error('environments/prod.yaml does not validate: run npm run validate');
  const all = new Map(sources);
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const s = syntheticEnvironment(prod.prepared.data, i);
    all.set(`environments/${s.name}.yaml`, s.text);
    names.push(s.name);
  }
  // Warm-up: the first render pays module initialisation; time the steady state.
  renderEnvironment(prepareEnvironment(names[0]!, all).prepared!);
  const docs: unknown[] = [];
  let files = 0;
  const t0 = performance.now();
  const rendered = names.map((name) => {
    const t = performance.now();
    const before = onEnvironment && phaseTimes();
    const r = prepareEnvironment(name, all);
    if (!r.prepared) throw new Error(`synthetic environment ${name} does not validate: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    const files = renderEnvironment(r.prepared);
    if (onEnvironment) onEnvironment({ env: name, files: files.length, ms: performance.now() - t, phases: phaseTimesSince(before!) });
    return files;
  });
  const renderMs = performance.now() - t0;
  for (const fs of rendered) {
    files += fs.length;
    for (const f of fs) if (/\.ya?ml$/.test(f.path)) docs.push(...parseYamlStream(f.content));
  }
  const floor = floorMs(root, docs);
  const renderMsPerEnv = renderMs / n;
  const floorMsPerEnv = floor / n;
  return { environments: n, files, objects: docs.length, renderMsPerEnv, floorMsPerEnv, ratio: floorMsPerEnv > 0 ? renderMsPerEnv / floorMsPerEnv : Number.POSITIVE_INFINITY };
}

export const BENCH_COLUMNS = ['environments', 'files', 'objects', 'render ms/env', 'floor ms/env', 'ratio'];

export function formatBench(rows: readonly BenchRow[]): string {
  const table = [BENCH_COLUMNS, ...rows.map((r) => [String(r.environments), String(r.files), String(r.objects), r.renderMsPerEnv.toFixed(2), r.floorMsPerEnv.toFixed(3), `${r.ratio.toFixed(1)}×`])];
  const widths = BENCH_COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
