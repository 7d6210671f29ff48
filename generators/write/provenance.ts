/**
 * The provenance manifest of one rendered environment, rendered/<env>/.provenance.json: the
 * generator version, the hash of every input (a path into the environment document, after SSM
 * resolution) and, per file, which inputs it was made from and the hash of its content. One file per environment, so that the per-file
 * headers stay static and a change touches only the files whose content changes (plus this one).
 * Deterministic: keys sorted, two-space JSON, trailing newline. `check` reads it to say why a file
 * is stale, and reports a manifest that disagrees with the tree it describes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from '../lib/hash.js';
import type { RunningVersions } from '../validate/rules-skew.js';
import { PROVENANCE_FILE, type FinalFile } from '../render/header.js';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../version.js';
import { datesOf, type VersionDates } from './since.js';

export { PROVENANCE_FILE };

export interface ManifestEntry {
  /** Input paths (keys of Manifest.inputs); absent for a file not made from the environment. */
  inputs?: string[];
  /** sha256 of the file's content as written. */
  sha256: string;
}

export interface Manifest {
  environment: string;
  generator: string;
  version: string;
  sources: string[];
  /**
   * The versions the tree was rendered at (Kubernetes, the distribution's release keys) by document path: what the
   * cluster runs once the tree is rolled out, which the next synth's version-skew rule compares with
   * (validate/rules-skew.ts). Absent in a manifest of an older generator.
   */
  versions?: Record<string, string>;
  /**
   * Since when the tree has carried each promoted version (release keys, Kubernetes, charts, workload images; by
   * version key): the value and the UTC day it first carried it, carried forward by every synth while the value stays
   * (write/since.ts). The fleet matrix's "since". Absent in a manifest of an older generator.
   */
  since?: VersionDates;
  /** Input path → sha256 of its value. */
  inputs: Record<string, string>;
  files: Record<string, ManifestEntry>;
}

export function buildManifest(env: string, files: readonly FinalFile[]): Manifest {
  const sources = [...new Set(files.flatMap((f) => f.provenance?.sources ?? []))];
  const inputs: Record<string, string> = {};
  const entries: Record<string, ManifestEntry> = {};
  for (const f of files) {
    if (!f.provenance) {
      entries[f.path] = { sha256: sha256(f.content) };
      continue;
    }
    Object.assign(inputs, f.provenance.inputs);
    entries[f.path] = { inputs: Object.keys(f.provenance.inputs).sort(), sha256: sha256(f.content) };
  }
  const versions = files.find((f) => f.provenance?.versions)?.provenance?.versions;
  const since = files.find((f) => f.provenance?.since)?.provenance?.since;
  return { environment: env, generator: GENERATOR_NAME, version: GENERATOR_VERSION, sources, ...(versions ? { versions } : {}), ...(since ? { since } : {}), inputs, files: entries };
}

/**
 * Fixed key order, maps sorted, one line per input and per file: a change shows in a diff as the
 * lines of exactly the inputs and files it touched.
 */
export function serializeManifest(m: Manifest): string {
  const j = JSON.stringify;
  const block = (o: Record<string, unknown>): string => {
    const keys = Object.keys(o).sort();
    return keys.length === 0 ? '{}' : `{\n${keys.map((k) => `    ${j(k)}: ${canonicalJson(o[k]).replace(/^\{"inputs":/, '{ "inputs": ').replace(/,"sha256":(".*")\}$/, ', "sha256": $1 }').replace(/^\{"sha256":(".*")\}$/, '{ "sha256": $1 }')}`).join(',\n')}\n  }`;
  };
  return [
    '{',
    `  "environment": ${j(m.environment)},`,
    `  "generator": ${j(m.generator)},`,
    `  "version": ${j(m.version)},`,
    `  "sources": ${j(m.sources)},`,
    ...(m.versions ? [`  "versions": ${canonicalJson(m.versions)},`] : []),
    ...(m.since ? [`  "since": ${block(m.since as unknown as Record<string, unknown>)},`] : []),
    `  "inputs": ${block(m.inputs)},`,
    `  "files": ${block(m.files as unknown as Record<string, unknown>)}`,
    '}',
    '',
  ].join('\n');
}

/** The files plus their manifest: what the writer writes and `check` compares. */
export function withManifest(env: string, files: readonly FinalFile[]): FinalFile[] {
  if (files.some((f) => f.path === PROVENANCE_FILE)) throw new Error(`${env}/${PROVENANCE_FILE} is the writer's: no renderer may produce it`);
  return [...files, { path: PROVENANCE_FILE, content: serializeManifest(buildManifest(env, files)) }];
}

export function parseManifest(text: string): Manifest | undefined {
  try {
    const m = JSON.parse(text) as Manifest;
    if (typeof m !== 'object' || m === null || typeof m.files !== 'object' || m.files === null || typeof m.inputs !== 'object' || m.inputs === null || typeof m.version !== 'string') return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** What a manifest's text (`where`: its path, for the messages) says the environment runs (validate/rules-skew.ts). */
export function runningVersionsOf(text: string, where: string): RunningVersions {
  return runningOfManifest(parseManifest(text), where);
}

function runningOfManifest(m: Manifest | undefined, where: string): RunningVersions {
  if (!m) return { kind: 'unknown', where, why: 'is not a provenance manifest' };
  const v = m.versions;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) return { kind: 'unknown', where, why: "records no versions (written before the generator recorded them)" };
  return { kind: 'known', where, versions: v };
}

/**
 * What rendered/<env> says the environment runs: nothing (no tree: a new environment), or its manifest's versions.
 * Read from the working tree, never from git: synth works without it.
 */
export function runningVersions(renderedRoot: string, renderedDir: string, env: string): RunningVersions {
  return treeRecord(renderedRoot, renderedDir, env).running;
}

/**
 * What rendered/<env>/.provenance.json in the working tree records, read once: the running versions (runningVersions)
 * and since when the tree has carried each promoted version (undefined: no tree, no manifest, or none recorded).
 */
export function treeRecord(renderedRoot: string, renderedDir: string, env: string): { running: RunningVersions; dates?: VersionDates } {
  const dir = join(renderedRoot, env);
  const where = `${renderedDir}/${env}/${PROVENANCE_FILE}`;
  if (!existsSync(dir)) return { running: { kind: 'new' } };
  let text: string;
  try {
    text = readFileSync(join(dir, PROVENANCE_FILE), 'utf8');
  } catch {
    return { running: { kind: 'unknown', where, why: 'is missing (the tree has no manifest)' } };
  }
  const m = parseManifest(text);
  const dates = datesOf(m?.since);
  return { running: runningOfManifest(m, where), ...(dates ? { dates } : {}) };
}

/** Why a stale file differs, judged by the committed manifest (`old`) and the fresh render. */
export function staleReason(old: Manifest | undefined, fresh: FinalFile): string {
  const before = old?.files[fresh.path];
  if (!old || !before?.inputs || !fresh.provenance) return '';
  const now = fresh.provenance.inputs;
  const changed = [...new Set([...before.inputs, ...Object.keys(now)])].filter((k) => (before.inputs!.includes(k) ? old.inputs[k] : undefined) !== now[k]).sort();
  if (changed.length > 0) return `inputs changed: ${changed.join(', ')}`;
  if (old.version !== GENERATOR_VERSION) return `same inputs, generator ${old.version} → ${GENERATOR_VERSION}`;
  return 'same inputs: the generator changed, or the file was edited';
}

/**
 * Where the committed manifest disagrees with the committed tree it describes: files it lists that
 * are not there, files there it does not list, content that does not match its hash.
 */
export function manifestDisagreements(manifestText: string | undefined, onDisk: ReadonlyMap<string, string>): string[] {
  if (manifestText === undefined) return [`no ${PROVENANCE_FILE}`];
  const m = parseManifest(manifestText);
  if (!m) return [`${PROVENANCE_FILE} is not a provenance manifest`];
  const out: string[] = [];
  for (const [path, e] of Object.entries(m.files).sort(([a], [b]) => a.localeCompare(b))) {
    const content = onDisk.get(path);
    if (content === undefined) out.push(`lists ${path}, which is not in the tree`);
    else if (sha256(content) !== e.sha256) out.push(`${path} does not match its hash (edited after synth?)`);
  }
  for (const path of [...onDisk.keys()].sort()) if (path !== PROVENANCE_FILE && !(path in m.files)) out.push(`does not list ${path}`);
  return out;
}
