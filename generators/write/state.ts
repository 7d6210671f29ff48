/**
 * The incremental state: rendered/.odp-state.json (git-ignored, like the writer's temporary trees),
 * what the last synth rendered for each environment: a key over the generator, the environment's
 * source files and the fleet relations it depends on, the sha256 of the provenance manifest it
 * wrote, and the warnings it reported. synth and check skip an environment whose key is unchanged
 * and whose tree still matches that manifest, file by file (verifyTree); anything else is rendered.
 * A missing, corrupt or foreign state only means "render everything" (a clean clone, CI).
 */
import { existsSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from '../lib/hash.js';
import { timed } from '../lib/timing.js';
import type { FleetEntry } from '../model/fleet.js';
import type { FleetRow } from '../fleet/row.js';
import type { SourceFiles } from '../load/loader.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { RunningVersions } from '../validate/rules-skew.js';
import { parseManifest, PROVENANCE_FILE } from './provenance.js';
import type { VersionDates } from './since.js';
import { listFiles, treeSignature } from './writer.js';

export const STATE_FILE = '.odp-state.json';
const STATE_FORMAT = 1;

export interface EnvironmentState {
  /**
   * sha256 over the generator, `sources`, the fleet relations, the running versions the version-skew rules compared
   * with (environmentKey): the diagnostics replayed depend on them too; and the dates the manifest records
   * (write/since.ts): the next render carries them forward, so a tree holding other dates renders again.
   */
  key: string;
  /** Every file the environment was made from (its file, its bases, its SSM lock) → sha256 of its text, '' when absent. */
  sources: Record<string, string>;
  /** The environment's part of the fleet, reused while `sources` are unchanged. */
  fleet: FleetEntry | null;
  /** sha256 of the rendered/<env>/.provenance.json written. */
  manifest: string;
  /**
   * The running versions' part of `key` as a run without --base computes it from that manifest
   * (runningKey of what it records): while the tree is still the one written, the manifest is, so the
   * next run takes this instead of reading and parsing every unchanged environment's manifest. Absent
   * in states written before it: the manifest is read.
   */
  running?: unknown;
  /** The dates that manifest records (write/since.ts; null: none), taken with `running` on the same terms. */
  dates?: VersionDates | null;
  /** Warnings the render reported, replayed when it is skipped. */
  warnings: Diagnostic[];
  acknowledged: number;
  /** Files in the tree, the manifest included. */
  files: number;
  /**
   * Its row of the fleet matrix: reused as it is while the environment is skipped (its tree verified by the run), else,
   * sources unchanged, with its dates taken again from its tree's manifest (cli/fleet.ts: a pull may bring a tree dated
   * otherwise than the one this run wrote).
   */
  row?: FleetRow;
  /**
   * treeStat of the tree when it was last written or hashed in full: while every directory's inode,
   * mtime and ctime and every file's size, inode, ctime and mtime are the same, its entries and
   * contents are (ctime cannot be set back; see the writer's treeSignature).
   */
  stat?: string;
  /** The tree's files (sorted, the manifest included) that `stat` was taken over: checking it lists no directory. */
  layout?: string[];
}

export interface IncrementalState {
  format: number;
  generator: string;
  environments: Record<string, EnvironmentState>;
}

export const emptyState = (generator: string): IncrementalState => ({ format: STATE_FORMAT, generator, environments: {} });

/** The state of the last synth, or an empty one when there is none or it was made by another generator. */
export function readState(renderedRoot: string, generator: string): IncrementalState {
  try {
    const s = JSON.parse(readFileSync(join(renderedRoot, STATE_FILE), 'utf8')) as IncrementalState;
    if (s.format !== STATE_FORMAT || s.generator !== generator || typeof s.environments !== 'object' || s.environments === null) return emptyState(generator);
    return s;
  } catch {
    return emptyState(generator);
  }
}

/** Write the state (a cache: a failure to write it is ignored, the next run renders more). */
export function writeState(renderedRoot: string, state: IncrementalState): void {
  timed('write', () => writeStateFile(renderedRoot, state));
}

function writeStateFile(renderedRoot: string, state: IncrementalState): void {
  const file = join(renderedRoot, STATE_FILE);
  const tmp = `${file}.${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(state) + '\n', 'utf8');
    renameSync(tmp, file);
  } catch {
    // read-only checkout, full disk: the next run renders everything
  }
}

/** sha256 of each file's current text ('' when absent). */
export function hashSources(sources: SourceFiles, paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [...paths].sort()) {
    const text = sources.get(p);
    out[p] = text === undefined ? '' : sha256(text);
  }
  return out;
}

export function sameSources(sources: SourceFiles, recorded: Record<string, string>): boolean {
  return Object.entries(recorded).every(([p, h]) => {
    const text = sources.get(p);
    return (text === undefined ? '' : sha256(text)) === h;
  });
}

export function environmentKey(generator: string, sourceHashes: Record<string, string>, fleetRelations: unknown, running: unknown, dates: VersionDates | undefined): string {
  return sha256(canonicalJson({ generator, sources: sourceHashes, fleet: fleetRelations, running, dates: dates ?? null }));
}

/**
 * The running versions as the incremental key holds them: 'current' when they are the versions the tree is rendered at
 * (`rendered`), or nothing runs yet (a new environment: its next run reads the versions its first synth wrote, and
 * the skew rules judge both alike but for a skew acknowledgement, which a new environment has no use for); else the
 * record itself. So an environment rendered against other versions (a rebuild acknowledged, an unreadable record)
 * renders once more at the next run, which judges it against the tree it wrote, and is skipped from then on.
 */
export function runningKey(running: RunningVersions, rendered: Record<string, string> | undefined): unknown {
  if (running.kind === 'new') return 'current';
  if (running.kind === 'known' && rendered !== undefined && canonicalJson(running.versions) === canonicalJson(rendered)) return 'current';
  return running;
}

/** runningKey of a tree's own manifest (`own`, as runningVersions reads it): the key's part in a run without --base. */
export function ownRunningKey(own: RunningVersions): unknown {
  return runningKey(own, own.kind === 'known' ? own.versions : undefined);
}

/** The metadata signature of rendered/<env> (the writer's treeSignature); undefined when the tree is missing. */
export function treeStat(renderedRoot: string, env: string): string | undefined {
  return treeSignature(join(renderedRoot, env));
}

/**
 * Whether rendered/<env> is still the tree an environment's state entry describes: by its metadata
 * signature when that is unchanged (as git's index does), first over the layout recorded with it (an
 * lstat per file and per directory, no listing), then over the tree listed again; else by reading
 * and hashing every file against the manifest (verifyTree). Returns the signature to record and the
 * layout it covers, or undefined when the tree is not the entry's.
 */
export function treeMatches(renderedRoot: string, env: string, entry: Pick<EnvironmentState, 'manifest' | 'stat' | 'layout'>): { stat: string; layout: string[] } | undefined {
  const dir = join(renderedRoot, env);
  if (entry.stat !== undefined && entry.layout && treeSignature(dir, entry.layout) === entry.stat) return { stat: entry.stat, layout: entry.layout };
  // Signed before verifyTree reads the files: an edit after the signature changes it.
  const layout = listFiles(dir);
  const stat = treeSignature(dir, layout);
  if (stat === undefined) return undefined;
  return entry.stat === stat || verifyTree(renderedRoot, env, entry.manifest) ? { stat, layout } : undefined;
}

/**
 * Whether rendered/<env> is exactly the tree whose manifest has sha256 `manifestSha256`: the
 * manifest matches, the tree holds exactly the files it lists, and each file matches its hash.
 */
export function verifyTree(renderedRoot: string, env: string, manifestSha256: string): boolean {
  const dir = join(renderedRoot, env);
  try {
    if (!existsSync(dir)) return false;
    const text = readFileSync(join(dir, PROVENANCE_FILE), 'utf8');
    if (sha256(text) !== manifestSha256) return false;
    const m = parseManifest(text);
    if (!m) return false;
    const files = listFiles(dir).filter((f) => f !== PROVENANCE_FILE);
    if (files.length !== Object.keys(m.files).length) return false;
    for (const f of files) {
      const entry = m.files[f];
      if (!entry || !lstatSync(join(dir, f)).isFile() || sha256(readFileSync(join(dir, f))) !== entry.sha256) return false;
    }
    return true;
  } catch {
    return false;
  }
}
