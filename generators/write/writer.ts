/**
 * The writer: the only code that touches rendered/. Every environment of a run is checked and built
 * in a temporary directory next to its tree before any is swapped in with renames
 * (writeEnvironments), so a failure leaves rendered/ as it was and a kill leaves each tree either
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

/** The file-system calls the writer makes while changing rendered/ (tests inject failures). */
export interface WriterIo {
  writeFile(path: string, content: string): void;
  link(from: string, to: string): void;
  rename(from: string, to: string): void;
}

const realIo: WriterIo = {
  writeFile: (path, content) => writeFileSync(path, content, { encoding: 'utf8', mode: 0o644 }),
  link: (from, to) => linkSync(from, to),
  rename: (from, to) => renameSync(from, to),
};

export interface EnvironmentFiles {
  env: string;
  files: readonly FinalFile[];
}

export interface WriteOptions {
  /** Environments whose trees are removed in the same all-or-nothing step (their files were deleted). */
  remove?: readonly string[];
  io?: WriterIo;
  /** Runs once every tree is built aside, before the first swap (synth writes the SSM locks here); a throw aborts. */
  beforeSwap?: () => void;
}

/** Every refusal the writer can make, checked before anything is written. */
function checkEnvironment(renderedRoot: string, env: string, files: readonly FinalFile[]): void {
  const dir = envDir(renderedRoot, env);
  const seen = new Set<string>();
  for (const f of files) {
    safeJoin(dir, f.path);
    if (seen.has(f.path)) throw new Error(`two rendered files share the path ${env}/${f.path}`);
    seen.add(f.path);
  }
}

/**
 * Write several environments and remove the trees of others, all or nothing: every path of every
 * environment is checked and every changed tree is built aside (rendered/.odp-tmp-<env>-<pid>)
 * before the first swap; a failure while checking or building leaves rendered/ untouched, and a
 * failure during the swaps puts the trees already swapped back. Nothing in rendered/ changes
 * unless every environment can be written.
 */
export function writeEnvironments(renderedRoot: string, envs: readonly EnvironmentFiles[], opts: WriteOptions = {}): { results: WriteResult[]; removed: { env: string; files: string[] }[] } {
  const { remove = [], io = realIo, beforeSwap } = opts;
  // 1. Refusals: names, paths, duplicates — of every environment, before any change.
  const names = new Set<string>();
  for (const { env, files } of envs) {
    checkEnvironment(renderedRoot, env, withManifest(env, files));
    if (names.has(env)) throw new Error(`environment ${env} is written twice`);
    names.add(env);
  }
  for (const env of remove) {
    envDir(renderedRoot, env);
    if (names.has(env)) throw new Error(`environment ${env} is both written and removed`);
  }
  mkdirSync(renderedRoot, { recursive: true });
  recover(renderedRoot);
  const plans = envs.map(({ env, files }) => {
    const plan = planEnvironment(renderedRoot, env, files);
    const result: WriteResult = { env, written: [...plan.stale, ...plan.missing].sort(), unchanged: plan.unchanged, removed: plan.extra };
    return { env, files: withManifest(env, files), plan, result, changed: result.written.length > 0 || result.removed.length > 0 };
  });
  const removed = remove.map((env) => ({ env, files: listFiles(envDir(renderedRoot, env)) })).filter((r) => r.files.length > 0 || existsSync(envDir(renderedRoot, r.env)));
  const tmpOf = (env: string): string => join(renderedRoot, `${TMP_PREFIX}${env}-${process.pid}`);
  const oldOf = (env: string): string => join(renderedRoot, `${OLD_PREFIX}${env}-${process.pid}`);
  const staged = plans.filter((p) => p.changed);
  // 2. Build every changed tree aside.
  try {
    for (const { env, files, plan } of staged) {
      const dir = envDir(renderedRoot, env);
      const tmp = tmpOf(env);
      rmSync(tmp, { recursive: true, force: true });
      const unchanged = new Set(plan.unchanged);
      for (const f of files) {
        const target = safeJoin(tmp, f.path);
        mkdirSync(dirname(target), { recursive: true });
        if (unchanged.has(f.path)) {
          try {
            io.link(safeJoin(dir, f.path), target);
            continue;
          } catch {
            // no hard links on this file system: fall through and write a copy
          }
        }
        io.writeFile(target, f.content);
      }
    }
    beforeSwap?.();
  } catch (err) {
    for (const { env } of staged) rmSync(tmpOf(env), { recursive: true, force: true });
    throw err;
  }
  // 3. Swap: each tree aside, the new one in; on failure, undo the swaps done so far.
  const done: { env: string; hadOld: boolean; hasNew: boolean }[] = [];
  try {
    for (const { env } of staged) {
      const dir = envDir(renderedRoot, env);
      const hadOld = existsSync(dir);
      if (hadOld) io.rename(dir, oldOf(env));
      done.push({ env, hadOld, hasNew: false });
      io.rename(tmpOf(env), dir);
      done[done.length - 1]!.hasNew = true;
    }
    for (const { env } of removed) {
      const dir = envDir(renderedRoot, env);
      io.rename(dir, oldOf(env));
      done.push({ env, hadOld: true, hasNew: false });
    }
  } catch (err) {
    for (const d of [...done].reverse()) {
      const dir = envDir(renderedRoot, d.env);
      if (d.hasNew) rmSync(dir, { recursive: true, force: true });
      if (d.hadOld) renameSync(oldOf(d.env), dir);
    }
    for (const { env } of staged) rmSync(tmpOf(env), { recursive: true, force: true });
    recover(renderedRoot);
    throw err;
  }
  for (const d of done) if (d.hadOld) rmSync(oldOf(d.env), { recursive: true, force: true });
  return { results: plans.map((p) => p.result), removed };
}

export function writeEnvironment(renderedRoot: string, env: string, files: readonly FinalFile[]): WriteResult {
  return writeEnvironments(renderedRoot, [{ env, files }]).results[0]!;
}

/** Remove the tree of an environment whose file was deleted. */
export function removeEnvironment(renderedRoot: string, env: string): string[] {
  const dir = envDir(renderedRoot, env);
  const files = listFiles(dir);
  rmSync(dir, { recursive: true, force: true });
  return files;
}
