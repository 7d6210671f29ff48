/**
 * The scale benchmark: N synthetic environments rendered in memory through the real pipeline, timed
 * per environment, next to the floors — a bare `node` process serializing the same objects (the
 * rendered files parsed back to objects) with the `yaml` package (the yaml floor) and with native
 * JSON.stringify (the JSON floor). Prints figures; asserts nothing about them.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseYamlStream } from '../lib/yaml.js';
import { clearParseCache, setParseCacheLimit } from '../load/loader.js';
import { phaseTimes, phaseTimesSince, type PhaseTimes } from '../lib/timing.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import type { FinalFile } from '../render/header.js';
import { syntheticEnvironment } from './synthetic.js';

export interface BenchRow {
  environments: number;
  files: number;
  objects: number;
  /**
   * Milliseconds per environment: prepare (parse, load, validate, model) + render, every file parsed
   * in each pass (the loader's parse cache emptied first), as synth parses each environment once.
   */
  renderMsPerEnv: number;
  /** The same with every parse reused (the parse cache sized to hold the whole set): prepare without the parse, + render. */
  warmMsPerEnv: number;
  /** Milliseconds per environment for yaml.stringify of the same objects in a bare node process. */
  floorMsPerEnv: number;
  /** The same for JSON.stringify (two-space indent). */
  jsonFloorMsPerEnv: number;
  /** renderMsPerEnv (every file parsed) / floorMsPerEnv (the yaml floor). */
  ratio: number;
}

/** Passes of the in-memory row and of its floors; each reports its fastest. */
export const REPEAT = 3;

/** The floors, measured in a child `node` (no tsx, no project code): yaml.stringify, then JSON.stringify, of each object. */
const FLOOR_SCRIPT = `
import { stringify } from 'yaml';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const docs = JSON.parse(input);
const time = (fn) => {
  for (const d of docs.slice(0, 50)) fn(d); // warm-up
  let best = Infinity;
  for (let pass = 0; pass < ${REPEAT}; pass++) {
    const t0 = process.hrtime.bigint();
    for (const d of docs) fn(d);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
};
const yaml = time((d) => stringify(d, { version: '1.1', lineWidth: 0 }));
const json = time((d) => JSON.stringify(d, null, 2));
process.stdout.write(JSON.stringify({ yaml, json }));
`;

export function floorMs(root: string, docs: unknown[]): { yaml: number; json: number } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', FLOOR_SCRIPT], { cwd: root, input: JSON.stringify(docs), encoding: 'utf8', maxBuffer: 1 << 30 });
  return JSON.parse(out) as { yaml: number; json: number };
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
  // Each pass is timed twice: cold, the loader's parse cache emptied first (every file parsed, as in
  // synth), then warm, the cache sized to the whole set (every parse reused). Before, the cache's 100
  // entries were cycled by the N + 1 files of a pass, so at N = 100 every pass missed and the row,
  // described as prepare + render, silently included a parse per environment.
  const docs: unknown[] = [];
  let files = 0;
  let renderMs = Number.POSITIVE_INFINITY;
  let warmMs = Number.POSITIVE_INFINITY;
  let rendered: FinalFile[][] = [];
  const limit = setParseCacheLimit(all.size + 1);
  try {
    // Warm-up: the first render pays module initialisation; time the steady state.
    renderEnvironment(prepareEnvironment(names[0]!, all).prepared!);
    // The fastest of REPEAT passes (the floors too): on a shared machine, a pass another process
    // slowed down says nothing about this code. Progress lines (onEnvironment) come from the first pass.
    for (let pass = 0; pass < REPEAT; pass++) {
      clearParseCache();
      const cold = timedPass(names, all, pass === 0 ? onEnvironment : undefined);
      renderMs = Math.min(renderMs, cold.ms);
      rendered = cold.rendered;
      warmMs = Math.min(warmMs, timedPass(names, all).ms);
    }
  } finally {
    setParseCacheLimit(limit);
  }
  for (const fs of rendered) {
    files += fs.length;
    for (const f of fs) if (/\.ya?ml$/.test(f.path)) docs.push(...parseYamlStream(f.content));
  }
  const floor = floorMs(root, docs);
  const renderMsPerEnv = renderMs / n;
  const floorMsPerEnv = floor.yaml / n;
  return { environments: n, files, objects: docs.length, renderMsPerEnv, warmMsPerEnv: warmMs / n, floorMsPerEnv, jsonFloorMsPerEnv: floor.json / n, ratio: floorMsPerEnv > 0 ? renderMsPerEnv / floorMsPerEnv : Number.POSITIVE_INFINITY };
}

/** One pass over `names`: prepare and render each, timed per environment when `report` is given. */
function timedPass(names: readonly string[], all: ReadonlyMap<string, string>, report?: (e: { env: string; files: number; ms: number; phases: PhaseTimes }) => void): { ms: number; rendered: FinalFile[][] } {
  const t0 = performance.now();
  const rendered = names.map((name) => {
    const t = performance.now();
    const before = report && phaseTimes();
    const r = prepareEnvironment(name, all);
    if (!r.prepared) throw new Error(`synthetic environment ${name} does not validate: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    const files = renderEnvironment(r.prepared);
    if (report) report({ env: name, files: files.length, ms: performance.now() - t, phases: phaseTimesSince(before!) });
    return files;
  });
  return { ms: performance.now() - t0, rendered };
}

export const BENCH_COLUMNS = ['environments', 'files', 'objects', 'render ms/env', 'warm ms/env', 'JSON floor ms/env', 'yaml floor ms/env', 'ratio'];

export function formatBench(rows: readonly BenchRow[]): string {
  const table = [BENCH_COLUMNS, ...rows.map((r) => [String(r.environments), String(r.files), String(r.objects), r.renderMsPerEnv.toFixed(2), r.warmMsPerEnv.toFixed(2), r.jsonFloorMsPerEnv.toFixed(3), r.floorMsPerEnv.toFixed(3), `${r.ratio.toFixed(2)}×`])];
  const widths = BENCH_COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
