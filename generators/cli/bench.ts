/**
 * `npm run bench`: the scale benchmark on synthetic environments (thin wiring over generators/bench/).
 */
import { readEnvironmentSources } from '../load/loader.js';
import { formatBench, runBench } from '../bench/bench.js';
import { formatProcessBench, runProcessBench, type SynthCommand } from '../bench/process.js';
import { prepareEnvironment } from '../pipeline.js';
import { UsageError } from '../validate/diagnostics.js';
import { parseCommand, progressReporter, run, splitList, summary } from './common.js';
import { parseJobs } from './jobs.js';

const HELP = `Usage: npm run bench [-- --n 100,1000 --changed-of 100 --in-memory 10 --jobs 2]

Scale benchmark on synthetic environments: copies of environments/prod.yaml (its pools, add-ons
and workloads) under other names and address ranges.

1. Whole process (--n, default 100,1000): a scratch repository of N environments on disk, npm run
   synth run on it as a child process (--jobs threads, default 2) into an empty rendered/, then
   (--changed-of, default 100) one environment edited and synth again. Prints wall time, CPU time
   (user and system, every thread: steadier on a shared machine) and peak memory next to two floors
   measured in the same run: a bare node process writing the same
   documents, file by file at their paths, into an empty folder, serialized with native
   JSON.stringify (the JSON floor) and with the yaml package (the yaml floor); the start-up (node
   and the imports) and how the rest splits between load, validate, model, render, serialize and
   write (summed over threads).
2. In memory (--in-memory, default 10; 0 skips it): prepare and render per environment in this
   process next to JSON.stringify and yaml.stringify of the same objects, and the ratio to the
   yaml floor. Each pass twice: every environment file parsed (render ms/env, the ratio's figure)
   and every parse reused (warm ms/env: the loader's parse cache sized to the whole set).
3. The goals of issue 23, each with the figure measured above: 100 environments into an empty
   rendered/ within 1.5x the JSON floor; in memory within 1.5x the yaml floor; 1 changed of 100
   within a tenth of the full run; 1000 environments' peak memory within 1.5x the 100 row.

On a terminal, each synth run's line per environment streams through (stderr), and the in-memory
run prints one per environment; piped, only the tables and the summary line.

Writes nothing in this repository. The 1000-environment row takes minutes on 2 cores.`;

/** synth as a process, run the way this command runs (the TypeScript loader's flags, or the build). */
function synthCommand(): SynthCommand {
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(ts ? './synth.ts' : './synth.js', import.meta.url);
  return { execPath: process.execPath, args: [...process.execArgv, entry.pathname] };
}

const counts = (v: unknown, def: string): number[] => {
  const ns = (splitList(v) ?? def.split(',')).map(Number);
  if (ns.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError(`${String(v)}: expected whole numbers, e.g. 100,1000`);
  return ns.filter((n) => n > 0);
};

export async function main(argv: string[]): Promise<number> {
  const { values, common } = parseCommand(argv, { n: { type: 'string' }, 'changed-of': { type: 'string' }, 'in-memory': { type: 'string' }, jobs: { type: 'string' } }, HELP);
  const ns = counts(values.n, '100,1000');
  const changedOf = counts(values['changed-of'], '100')[0];
  const inMemory = counts(values['in-memory'], '10');
  const jobs = parseJobs(values.jobs) ?? 2;
  const started = performance.now();
  const sources = readEnvironmentSources(common.root);
  const prod = prepareEnvironment('prod', sources);
  if (!prod.prepared) throw new UsageError('environments/prod.yaml does not validate: the benchmark copies it (run npm run validate)');
  const parts: string[] = [];
  const goals: string[] = [];
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const runs = changedOf !== undefined && !ns.includes(changedOf) ? [...ns, changedOf].sort((a, b) => a - b) : ns;
  if (runs.length > 0) {
    // On a terminal, each synth's line per environment streams through (its stderr is the terminal).
    const onRun = process.stderr.isTTY ? (label: string) => process.stderr.write(`bench: synth, ${label}\n`) : undefined;
    const rows = runProcessBench(common.root, synthCommand(), prod.prepared.data, runs, { ...(changedOf !== undefined ? { changedOf } : {}), jobs, template: 'prod', templateOctet: 30, ...(onRun ? { onRun } : {}) });
    process.stdout.write(formatProcessBench(rows));
    const at = (n: number) => rows.find((r) => r.label.startsWith(`${n} environments`));
    const lo = at(Math.min(...runs));
    const hi = at(Math.max(...runs));
    const changed = rows.find((r) => r.label.startsWith('1 changed'));
    const full = changed ? at(changed.environments) : undefined;
    if (lo && hi && lo !== hi) parts.push(`peak memory ${x(hi.peakRssBytes, lo.peakRssBytes)} from ${lo.environments} to ${hi.environments} environments`);
    if (changed) parts.push(`${changed.label}: ${sec(changed.wallMs)}`);
    const hundred = at(100);
    if (hundred) goals.push(`100 environments into an empty rendered/, ${hundred.threads} threads: ${sec(hundred.wallMs)} = ${x(hundred.wallMs, hundred.jsonFloorWallMs)} the JSON floor (${sec(hundred.jsonFloorWallMs)}; yaml floor ${sec(hundred.floorWallMs)}); CPU ${sec(hundred.cpuMs)} = ${x(hundred.cpuMs, hundred.jsonFloorCpuMs)} the JSON floor's (${sec(hundred.jsonFloorCpuMs)})  [goal ≤ 1.5×]`);
    if (changed && full) goals.push(`${changed.label}: ${sec(changed.wallMs)} = ${x(changed.wallMs, full.wallMs)} the full run (${sec(full.wallMs)}); CPU ${sec(changed.cpuMs)} = ${x(changed.cpuMs, full.cpuMs)} the full run's (${sec(full.cpuMs)})  [goal ≤ 0.10×]`);
    const thousand = at(1000);
    if (hundred && thousand) goals.push(`1000 environments: peak ${(thousand.peakRssBytes / (1 << 20)).toFixed(0)} MB = ${x(thousand.peakRssBytes, hundred.peakRssBytes)} the 100 row (${(hundred.peakRssBytes / (1 << 20)).toFixed(0)} MB)  [goal ≤ 1.5×]`);
  }
  for (const n of inMemory) {
    const report = progressReporter([`bench-${n}`]);
    if (report) process.stderr.write(`bench: in memory, ${n} environments\n`);
    const row = runBench(common.root, sources, n, report);
    process.stdout.write('\n' + formatBench([row]));
    parts.push(`in memory N=${n}: ${row.renderMsPerEnv.toFixed(0)} ms per environment, ${row.ratio.toFixed(2)}× the yaml floor`);
    goals.splice(1, 0, `in memory, N=${n}: ${row.renderMsPerEnv.toFixed(1)} ms per environment, every file parsed = ${row.ratio.toFixed(2)}× the yaml floor (${row.floorMsPerEnv.toFixed(1)} ms; JSON floor ${row.jsonFloorMsPerEnv.toFixed(1)} ms; parses reused ${row.warmMsPerEnv.toFixed(1)} ms)  [goal ≤ 1.5×]`);
  }
  if (goals.length > 0) process.stdout.write(`\nGoals (issue 23), from the figures above:\n${goals.map((g) => `  ${g}`).join('\n')}\n`);
  summary('bench', parts.join('; ') || 'nothing to run', started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'bench');
