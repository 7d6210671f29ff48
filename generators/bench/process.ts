/**
 * The whole-process benchmark: a scratch repository of N synthetic environments (copies of a
 * template environment, see synthetic.ts) on disk, synth run on it as a child process — start-up,
 * imports, load, validate, model, render, serialize and write, worker threads included — timed from
 * outside, with the child's CPU time, peak resident memory and split of time by phase (ODP_STATS_FILE).
 * Next to it two floors, measured in the same run by a bare `node` process on the same documents
 * (the rendered files, parsed back): each file serialized and written, at its path, into an empty
 * folder — with native JSON.stringify (the JSON floor: about what creating the files costs on this
 * disk; its CPU time too) and with the `yaml` package's stringify (the yaml floor). Rows: N environments into an empty
 * rendered/, and "1 changed of N" (one environment edited after a synth, then synth again). Prints
 * figures; asserts nothing about them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PHASES, zeroPhaseTimes, type PhaseTimes } from '../lib/timing.js';
import { RENDERED_DIR } from '../write/writer.js';
import { syntheticEnvironment } from './synthetic.js';

export interface ProcessRow {
  label: string;
  environments: number;
  rendered: number;
  skipped: number;
  threads: number;
  wallMs: number;
  /** CPU time of the synth process (user and system, every thread): steadier than wall time on a shared machine. */
  cpuMs: number;
  peakRssBytes: number;
  /** Time per phase, summed over threads. */
  times: PhaseTimes;
  /** From process start to the command's main: Node's start-up and the imports. */
  startupMs: number;
  /** The JSON floor: node's start-up plus JSON.stringify and a write of every file into an empty folder. */
  jsonFloorWallMs: number;
  /** The JSON floor's CPU time (user and system) serializing and writing. */
  jsonFloorCpuMs: number;
  /** The yaml floor: the same with the `yaml` package's stringify. */
  floorWallMs: number;
  floorPeakRssBytes: number;
}

/** How to start the synth command as a process (the same way `npm run synth` does). */
export interface SynthCommand {
  execPath: string;
  args: string[];
}

/**
 * The floors: bare node; every file of the given trees (YAML files parsed back to their documents,
 * other files as text) written at its path below an empty folder, one environment after another,
 * once serialized with JSON.stringify (two-space indent) and once with yaml.stringify; only the
 * serializing and writing (directories included) are timed. Both folders are removed at the end.
 */
const FLOOR_SCRIPT = `
import { parseAllDocuments, stringify } from 'yaml';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
const [dirs, out] = JSON.parse(process.env.ODP_FLOOR_ARGS);
const serializers = {
  json: (ds) => JSON.stringify(ds.length === 1 ? ds[0] : ds, null, 2) + '\\n',
  yaml: (ds) => ds.map((d) => stringify(d, { version: '1.1', lineWidth: 0 })).join('---\\n'),
};
const ms = { json: 0, yaml: 0 };
const cpu = { json: 0, yaml: 0 };
rmSync(out, { recursive: true, force: true });
for (const dir of dirs) {
  const files = [];
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else files.push(p); } };
  walk(dir);
  const docs = files.map((f) => { const text = readFileSync(f, 'utf8'); return [relative(dir, f), /\\.ya?ml$/.test(f) ? parseAllDocuments(text).map((d) => d.toJS()) : text]; });
  for (const kind of ['json', 'yaml']) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const made = new Set();
    for (const [rel, content] of docs) {
      const target = join(out, kind, basename(dir), rel);
      const parent = dirname(target);
      if (!made.has(parent)) { mkdirSync(parent, { recursive: true }); made.add(parent); }
      writeFileSync(target, typeof content === 'string' ? content : serializers[kind](content));
    }
    ms[kind] += Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    cpu[kind] += (c.user + c.system) / 1000;
  }
}
rmSync(out, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ ...ms, jsonCpu: cpu.json, rss: process.resourceUsage().maxRSS * 1024 }));
`;

/** Wall time of a bare `node` start (the floor's start-up). */
function nodeStartMs(): number {
  const t0 = performance.now();
  execFileSync(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}

function floor(projectRoot: string, repo: string, envs: readonly string[]): { jsonWallMs: number; jsonCpuMs: number; wallMs: number; peakRssBytes: number } {
  const start = nodeStartMs();
  const args = JSON.stringify([envs.map((e) => join(repo, RENDERED_DIR, e)), join(repo, '.floor-out')]);
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', FLOOR_SCRIPT], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ODP_FLOOR_ARGS: args } });
  const r = JSON.parse(out) as { json: number; jsonCpu: number; yaml: number; rss: number };
  return { jsonWallMs: start + r.json, jsonCpuMs: r.jsonCpu, wallMs: start + r.yaml, peakRssBytes: r.rss };
}

function runSynth(cmd: SynthCommand, repo: string, extra: string[] = [], progress = false): Omit<ProcessRow, 'label' | 'environments' | 'jsonFloorWallMs' | 'jsonFloorCpuMs' | 'floorWallMs' | 'floorPeakRssBytes'> {
  const stats = join(repo, '.stats.json');
  rmSync(stats, { force: true });
  const t0 = performance.now();
  // With progress (a terminal), synth's stderr is the terminal: its line per environment streams through.
  const r = spawnSync(cmd.execPath, [...cmd.args, '--root', repo, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, ODP_STATS_FILE: stats, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', progress ? 'inherit' : 'pipe'],
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`synth failed on the benchmark repository (exit ${r.status})${r.stderr ? `:\n${r.stderr}` : ' (its messages are above)'}`);
  const s = JSON.parse(readFileSync(stats, 'utf8')) as { rendered: number; skipped: number; threads: number; times: PhaseTimes; peakRssBytes: number; cpuMs: number; startupMs: number };
  return { rendered: s.rendered, skipped: s.skipped, threads: s.threads, wallMs, cpuMs: s.cpuMs, peakRssBytes: s.peakRssBytes, startupMs: s.startupMs, times: { ...zeroPhaseTimes(), ...s.times } };
}

/** A scratch repository with `n` synthetic copies of the template environment's resolved document. */
export function benchRepository(templateData: Record<string, unknown>, n: number, template: string, templateOctet: number): { repo: string; names: string[] } {
  const repo = mkdtempSync(join(tmpdir(), 'odp-bench-'));
  mkdirSync(join(repo, 'environments'));
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const s = syntheticEnvironment(templateData, i, template, templateOctet);
    writeFileSync(join(repo, 'environments', `${s.name}.yaml`), s.text);
    names.push(s.name);
  }
  return { repo, names };
}

/**
 * Rows for each N: synth into an empty rendered/; then, for N = `changedOf`, one environment's
 * file edited and synth again. `jobs` is passed on as --jobs when set.
 */
export function runProcessBench(
  projectRoot: string,
  cmd: SynthCommand,
  templateData: Record<string, unknown>,
  ns: readonly number[],
  opts: { changedOf?: number; jobs?: number; template: string; templateOctet: number; /** Called before each synth run; synth's own progress streams through. */ onRun?: (label: string) => void },
): ProcessRow[] {
  const progress = opts.onRun !== undefined;
  const rows: ProcessRow[] = [];
  const extra = opts.jobs ? ['--jobs', String(opts.jobs)] : [];
  for (const n of ns) {
    const { repo, names } = benchRepository(templateData, n, opts.template, opts.templateOctet);
    try {
      opts.onRun?.(`${n} environments, empty rendered/`);
      const cold = runSynth(cmd, repo, extra, progress);
      const f = floor(projectRoot, repo, names);
      rows.push({ label: `${n} environments, empty rendered/`, environments: n, ...cold, jsonFloorWallMs: f.jsonWallMs, jsonFloorCpuMs: f.jsonCpuMs, floorWallMs: f.wallMs, floorPeakRssBytes: f.peakRssBytes });
      if (n === opts.changedOf) {
        const file = join(repo, 'environments', `${names[0]}.yaml`);
        writeFileSync(file, readFileSync(file, 'utf8') + '\n# changed: one environment of the benchmark edited\n');
        opts.onRun?.(`1 changed of ${n}`);
        const changed = runSynth(cmd, repo, extra, progress);
        const f1 = floor(projectRoot, repo, [names[0]!]);
        rows.push({ label: `1 changed of ${n}`, environments: n, ...changed, jsonFloorWallMs: f1.jsonWallMs, jsonFloorCpuMs: f1.jsonCpuMs, floorWallMs: f1.wallMs, floorPeakRssBytes: f1.peakRssBytes });
      }
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  }
  return rows;
}

export const PROCESS_COLUMNS = ['run', 'rendered', 'skipped', 'threads', 'wall s', 'JSON floor s', 'yaml floor s', 'wall/JSON', 'CPU s', 'JSON floor CPU s', 'CPU/JSON', 'peak MB', 'floor MB', 'start s', ...PHASES.map((p) => `${p} %`)];

const mb = (b: number): string => (b / (1 << 20)).toFixed(0);

export function formatProcessBench(rows: readonly ProcessRow[]): string {
  const table = [
    PROCESS_COLUMNS,
    ...rows.map((r) => {
      const total = PHASES.reduce((s, p) => s + r.times[p], 0);
      return [
        r.label,
        String(r.rendered),
        String(r.skipped),
        String(r.threads),
        (r.wallMs / 1000).toFixed(2),
        (r.jsonFloorWallMs / 1000).toFixed(2),
        (r.floorWallMs / 1000).toFixed(2),
        `${(r.wallMs / r.jsonFloorWallMs).toFixed(2)}×`,
        (r.cpuMs / 1000).toFixed(2),
        (r.jsonFloorCpuMs / 1000).toFixed(2),
        `${(r.cpuMs / r.jsonFloorCpuMs).toFixed(2)}×`,
        mb(r.peakRssBytes),
        mb(r.floorPeakRssBytes),
        (r.startupMs / 1000).toFixed(2),
        ...PHASES.map((p) => (total > 0 ? ((100 * r.times[p]) / total).toFixed(0) : '0')),
      ];
    }),
  ];
  const widths = PROCESS_COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
