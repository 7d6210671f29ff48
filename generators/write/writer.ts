/**
 * The writer: the only code that touches rendered/. Each environment is built in a temporary
 * directory next to its tree and swapped in with renames, so a failure or a kill leaves it either
 * fully old or fully new. Unchanged files are hard-linked from the old tree (their mtime stays),
 * files no longer generated disappear with the old tree, and no path may leave rendered/<env>/.
 * Every tree gets its provenance manifest (.provenance.json, see provenance.ts) as one more file.
 */
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { FinalFile } from '../render/header.js';
import { withManifest } from './provenance.js';

export const RENDERED_DIR = 'rendered';
const TMP_PREFIX = '.odp-tmp-';
const OLD_PREFIX = '.odp-old-';
const ENV_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface WriteResult {
  env: string;
  written: string[];
  unchanged: string[];
  removed: string[];
}

/** Throws unless `rel` is a plain relative path that stays inside `root`. */
export function safeJoin(root: string, rel: string): string {
  if (rel === '' || rel.startsWith('/') || rel.includes('\\') || rel.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new Error(`refusing to write '${rel}': not a plain relative path inside ${root}`);
  const abs = resolve(root, rel);
  if (!abs.startsWith(resolve(root) + sep)) throw new Error(`refusing to write '${rel}': outside ${root}`);
  return abs;
}

function envDir(renderedRoot: string, env: string): string {
  if (!ENV_NAME.test(env)) throw new Error(`refusing environment directory '${env}'`);
  return safeJoin(renderedRoot, env);
}

/** Every file below `dir`, as sorted '/'-separated relative paths. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, entry.name);
      if (entry.isDirectory()) walk(abs);
      else out.push(relative(dir, abs).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** Environments that have a tree under rendered/. */
export function listRenderedEnvironments(renderedRoot: string): string[] {
  if (!existsSync(renderedRoot)) return [];
  return readdirSync(renderedRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && ENV_NAME.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Finish or undo a swap that a killed run left half-done, and drop its temporary trees. */
export function recover(renderedRoot: string): void {
  if (!existsSync(renderedRoot)) return;
  for (const e of readdirSync(renderedRoot)) {
    if (e.startsWith(OLD_PREFIX)) {
      const env = e.slice(OLD_PREFIX.length).replace(/-\d+$/, '');
      const target = join(renderedRoot, env);
      if (!existsSync(target)) renameSync(join(renderedRoot, e), target);
      else rmSync(join(renderedRoot, e), { recursive: true, force: true });
    }
  }
  for (const e of readdirSync(renderedRoot)) if (e.startsWith(TMP_PREFIX)) rmSync(join(renderedRoot, e), { recursive: true, force: true });
}

function sameContent(abs: string, content: string): boolean {
  try {
    return lstatSync(abs).isFile() && readFileSync(abs, 'utf8') === content;
  } catch {
    return false;
  }
}

/** Compare without writing: what `writeEnvironment` would change (the manifest included). */
export function planEnvironment(renderedRoot: string, env: string, rendered: readonly FinalFile[]): { stale: string[]; missing: string[]; extra: string[]; unchanged: string[] } {
  const dir = envDir(renderedRoot, env);
  const files = withManifest(env, rendered);
  const existing = new Set(listFiles(dir));
  const stale: string[] = [];
  const missing: string[] = [];
  const unchanged: string[] = [];
  for (const f of files) {
    const abs = safeJoin(dir, f.path);
    if (!existing.has(f.path)) missing.push(f.path);
    else if (sameContent(abs, f.content)) unchanged.push(f.path);
    else stale.push(f.path);
    existing.delete(f.path);
  }
  return { stale, missing, extra: [...existing].sort(), unchanged };
}

export function writeEnvironment(renderedRoot: string, env: string, rendered: readonly FinalFile[]): WriteResult {
  const dir = envDir(renderedRoot, env);
  const files = withManifest(env, rendered);
  const seen = new Set<string>();
  for (const f of files) {
    safeJoin(dir, f.path);
    if (seen.has(f.path)) throw new Error(`two rendered files share the path ${env}/${f.path}`);
    seen.add(f.path);
  }
  mkdirSync(renderedRoot, { recursive: true });
  recover(renderedRoot);
  const plan = planEnvironment(renderedRoot, env, rendered);
  const result: WriteResult = { env, written: [...plan.stale, ...plan.missing].sort(), unchanged: plan.unchanged, removed: plan.extra };
  if (result.written.length === 0 && result.removed.length === 0) return result;

  const tmp = join(renderedRoot, `${TMP_PREFIX}${env}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const unchanged = new Set(plan.unchanged);
    for (const f of files) {
      const target = safeJoin(tmp, f.path);
      mkdirSync(dirname(target), { recursive: true });
      if (unchanged.has(f.path)) {
        try {
          linkSync(safeJoin(dir, f.path), target);
          continue;
        } catch {
          // no hard links on this file system: fall through and write a copy
        }
      }
      writeFileSync(target, f.content, { encoding: 'utf8', mode: 0o644 });
    }
    const old = join(renderedRoot, `${OLD_PREFIX}${env}-${process.pid}`);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    recover(renderedRoot);
    throw err;
  }
  return result;
}

/** Remove the tree of an environment whose file was deleted. */
export function removeEnvironment(renderedRoot: string, env: string): string[] {
  const dir = envDir(renderedRoot, env);
  const files = listFiles(dir);
  rmSync(dir, { recursive: true, force: true });
  return files;
}
