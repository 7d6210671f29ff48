/**
 * One environment's work in a synth or check run, the same in the main thread and in a worker
 * (render-worker.ts): prepare (load, validate, model) and render it, then stage its tree aside
 * (synth) or compare it with rendered/ (check). Returns data only: diagnostics, the staged tree's
 * summary or the findings, and the incremental state entry of a successful render.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEnvironment, type SourceFiles } from '../load/loader.js';
import { lockFile } from '../load/ssm-lock.js';
import { fleetEntryOf, fleetRelations, type FleetEntry, type FleetIndex } from '../model/fleet.js';
import { timed } from '../lib/timing.js';
import { prepareEnvironment, renderEnvironment, type PreparedEnvironment } from '../pipeline.js';
import { preparedRow } from '../fleet/prepared.js';
import type { FleetRow } from '../fleet/row.js';
import type { FinalFile } from '../render/header.js';
import { hasErrors, type Diagnostic } from '../validate/diagnostics.js';
import { phaseTimes, phaseTimesSince, type PhaseTimes } from '../lib/timing.js';
import { plural, type EnvProgress } from './common.js';
import { manifestDisagreements, parseManifest, PROVENANCE_FILE, staleReason } from '../write/provenance.js';
import { recordOf } from './running.js';
import { environmentKey, hashSources, ownRunningKey, runningKey, type EnvironmentState } from '../write/state.js';
import { versionInputs } from '../validate/rules-skew.js';
import { listFiles, planEnvironment, RENDERED_DIR, stageEnvironment, type StagedEnvironment, type WriterIo } from '../write/writer.js';

export type WorkMode = 'synth' | 'check';

export interface WorkContext {
  root: string;
  sources: SourceFiles;
  /** The fleet (all of it once the run has read the entries of `fleetPending`). */
  fleet: FleetIndex;
  /** Environments whose fleet entries processEnvironments reads before anything renders (see RunPlan). */
  fleetPending?: readonly string[];
  generator: string;
  mode: WorkMode;
  /** The git revision whose rendered/ records the running versions (running.ts resolveBase); else the working tree's. */
  base?: string;
  /** Today's UTC day (RunPlan.today): the date of a version the committed manifest does not date (write/since.ts). */
  today: string;
  /** Tests inject these (then the run stays in the main thread). */
  render?: (p: PreparedEnvironment) => FinalFile[];
  io?: WriterIo;
}

export interface EnvOutcome {
  env: string;
  diagnostics: Diagnostic[];
  acknowledged: number;
  /** synth: the tree built aside (undefined when the environment did not prepare). */
  staged?: StagedEnvironment;
  /** check: stale, missing, extra and manifest findings. */
  findings?: string[];
  /** check: files compared (the manifest included). */
  files?: number;
  /** What the incremental state records for a successful render. */
  state?: EnvironmentState;
  /** Its row of the fleet matrix (rendered/README.md). */
  row?: FleetRow;
  /** How long it took, and per phase (for the progress line). */
  ms: number;
  phases: PhaseTimes;
}

/**
 * The fleet entries of `names` (null for one that does not parse), read as fleetIndex reads them.
 * The parses of the last `keep` stay in the loader's cache, so rendering those environments soon
 * after parses nothing (the others are not kept: at 1000 environments they only grew the heap).
 */
export function readFleetEntries(sources: SourceFiles, names: readonly string[], keep = names.length): [string, FleetEntry | null][] {
  return timed('load', () => names.map((n, i) => [n, fleetEntryOf(resolveEnvironment(n, sources, { origins: false, keep: i >= names.length - keep }).env?.data, sources.get(lockFile(n))) ?? null]));
}

/** The fleet with the entries read for `pending` added, in the order of fleetIndex (the environments' order). */
export function completeFleet(all: readonly string[], known: FleetIndex, read: ReadonlyMap<string, FleetEntry | null>): FleetIndex {
  const out = new Map<string, FleetEntry>();
  for (const name of all) {
    const entry = read.has(name) ? read.get(name) : known.get(name);
    if (entry) out.set(name, entry);
  }
  return out;
}

export function processEnvironment(name: string, ctx: WorkContext): EnvOutcome {
  const started = performance.now();
  const before = phaseTimes();
  const outcome = processTimed(name, ctx);
  return { ...outcome, ms: performance.now() - started, phases: phaseTimesSince(before) };
}

function processTimed(name: string, ctx: WorkContext): Omit<EnvOutcome, 'ms' | 'phases'> {
  const renderedRoot = join(ctx.root, RENDERED_DIR);
  // The versions the committed tree records: a change upstream forbids is refused before anything is staged. And the
  // dates its manifest records, carried forward (write/since.ts).
  const { running, dates } = recordOf(ctx.root, name, ctx.base);
  const r = prepareEnvironment(name, ctx.sources, { fleet: ctx.fleet, running, dates: { ...(dates ? { committed: dates } : {}), today: ctx.today } });
  const base = { env: name, diagnostics: r.diagnostics, acknowledged: r.acknowledged ?? 0 };
  if (!r.prepared || hasErrors(r.diagnostics)) return base;
  const files = (ctx.render ?? renderEnvironment)(r.prepared);
  const row = preparedRow(r.prepared);
  const sources = hashSources(ctx.sources, [...r.prepared.resolved.files, lockFile(name)]);
  const entry = (manifest: string, count: number): EnvironmentState => ({
    // The dates this render writes: what the next run reads back from the tree it keys.
    key: environmentKey(ctx.generator, sources, fleetRelations(ctx.fleet, name), runningKey(running, versionInputs(r.prepared!.data)), r.prepared!.since),
    sources,
    fleet: ctx.fleet.get(name) ?? null,
    manifest,
    warnings: r.diagnostics,
    acknowledged: r.acknowledged ?? 0,
    files: count,
    row,
  });
  if (ctx.mode === 'synth') {
    const staged = stageEnvironment(renderedRoot, name, files, ctx.io);
    const state = { ...entry(staged.manifestSha256, staged.result.written.length + staged.result.unchanged.length), running: ownRunningKey(staged.running), dates: r.prepared.since ?? null };
    return { ...base, row, staged, state: staged.signature !== undefined ? { ...state, stat: staged.signature } : state };
  }
  return { ...base, row, ...compareTree(renderedRoot, name, files) };
}

/** check: how rendered/<env> differs from a fresh render, each stale file with why. */
export function compareTree(renderedRoot: string, env: string, files: readonly FinalFile[]): { findings: string[]; files: number } {
  const dir = join(renderedRoot, env);
  const own = new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  const manifestText = own.get(PROVENANCE_FILE);
  const committed = manifestText === undefined ? undefined : parseManifest(manifestText);
  const plan = planEnvironment(renderedRoot, env, files);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const findings: string[] = [];
  for (const f of plan.stale) {
    const why = byPath.has(f) ? staleReason(committed, byPath.get(f)!) : '';
    findings.push(`stale    ${RENDERED_DIR}/${env}/${f}${why ? `  (${why})` : ''}`);
  }
  for (const f of plan.missing) findings.push(`missing  ${RENDERED_DIR}/${env}/${f}`);
  for (const f of plan.extra) findings.push(`extra    ${RENDERED_DIR}/${env}/${f}`);
  if (own.size > 0) for (const d of manifestDisagreements(manifestText, own)) findings.push(`manifest ${RENDERED_DIR}/${env}/${PROVENANCE_FILE}: ${d}`);
  return { findings, files: files.length + 1 };
}

/** A synth or check outcome as its progress line: files, and what changed (or is wrong). */
export function outcomeProgress(o: EnvOutcome): EnvProgress {
  const errors = o.diagnostics.filter((d) => d.severity === 'error').length;
  const base = { env: o.env, ms: o.ms, phases: o.phases };
  if (errors > 0) return { ...base, files: 0, note: plural(errors, 'error') };
  if (o.staged) {
    const r = o.staged.result;
    const changes = r.written.length + r.removed.length;
    return { ...base, files: r.written.length + r.unchanged.length, note: changes === 0 ? 'unchanged' : `${changes} to write` };
  }
  const findings = o.findings?.length ?? 0;
  return { ...base, files: o.files ?? 0, note: findings === 0 ? 'up to date' : plural(findings, 'finding') };
}
