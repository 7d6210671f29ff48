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
import { createHash } from 'node:crypto';
import { sha256 } from '../lib/hash.js';
import { timed } from '../lib/timing.js';
import { PROVENANCE_FILE, runningVersionsOf, withManifest } from './provenance.js';
import type { RunningVersions } from '../validate/rules-skew.js';
import { FLEET_README } from '../fleet/matrix.js';

export { FLEET_README };

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

/** An empty, `.` or `..` segment, or a leading `/` (an empty first segment); the empty path too. */
const NOT_PLAIN_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** Absolute roots already known to be normalized (path.resolve returns them unchanged). */
const NORMALIZED_ROOTS = new Set<string>();

function normalizedRoot(root: string): boolean {
  if (NORMALIZED_ROOTS.has(root)) return true;
  // A relative root depends on the cwd: never cached. '/' is refused below (resolve('/') + sep is '//').
  if (!root.startsWith('/') || root === '/' || resolve(root) !== root) return false;
  if (NORMALIZED_ROOTS.size > 4096) NORMALIZED_ROOTS.clear();
  NORMALIZED_ROOTS.add(root);
  return true;
}

/** Throws unless `rel` is a plain relative path that stays inside `root`. */
export function safeJoin(root: string, rel: string): string {
  if (rel.includes('\\') || NOT_PLAIN_SEGMENT.test(rel)) throw new Error(`refusing to write '${rel}': not a plain relative path inside ${root}`);
  // An absolute, normalized root (every root the writer uses) and plain segments: resolve() would
  // return exactly this (path.resolve ran three times per written file; issue 23, seventh pass).
  if (sep === '/' && normalizedRoot(root)) return `${root}/${rel}`;
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

/**
 * A signature of the tree below `dir` from file metadata only (one lstat per file and per directory
 * holding one, no reads): sha256 over the directories' and files' paths, then each directory's inode,
 * mtime and ctime and each file's size, inode, ctime and mtime (as the numbers lstat gives,
 * milliseconds with the nanoseconds as a fraction). Undefined when the tree is missing or holds
 * anything but regular files and directories. While it is unchanged, so are the files' contents
 * (ctime changes with every write and cannot be set back) and the entries of every directory
 * (creating, removing or renaming an entry updates its directory's mtime and ctime, POSIX open,
 * unlink, rename, mkdir). The tree's own directory counts by inode and mtime only: the swap renames
 * it, which updates its ctime alone. `files` (sorted as listFiles sorts): the tree's listing when
 * known (the files the writer wrote, or the listing recorded with a signature), which spares listing
 * the directories; a file added since that listing changed the directory it was added to.
 */
export function treeSignature(dir: string, files?: readonly string[]): string | undefined {
  if (!existsSync(dir)) return undefined;
  try {
    // The paths hashed as one text, the metadata as one array of doubles: no BigInt stats, no number
    // formatting, no per-file string (a third less CPU and garbage for the 10,000 files of 100 trees
    // than formatting each lstat as text; issue 23, sixth pass). The listed paths are relative
    // paths below dir, as the writer recorded them.
    const list = files ?? listFiles(dir);
    const dirSet = new Set<string>(['']);
    for (const f of list) for (let i = f.indexOf('/'); i !== -1; i = f.indexOf('/', i + 1)) dirSet.add(f.slice(0, i));
    const dirs = [...dirSet].sort();
    const meta = new Float64Array(dirs.length * 3 + list.length * 4);
    let k = 0;
    for (const d of dirs) {
      const s = lstatSync(d === '' ? dir : `${dir}/${d}`, { throwIfNoEntry: false });
      if (!s?.isDirectory()) return undefined;
      meta[k++] = s.ino;
      meta[k++] = s.mtimeMs;
      meta[k++] = d === '' ? 0 : s.ctimeMs;
    }
    for (const f of list) {
      const s = lstatSync(`${dir}/${f}`, { throwIfNoEntry: false });
      if (!s?.isFile()) return undefined; // the writer writes regular files only: a symlink never matches
      meta[k++] = s.size;
      meta[k++] = s.ino;
      meta[k++] = s.ctimeMs;
      meta[k++] = s.mtimeMs;
    }
    return createHash('sha256').update(dirs.join('\n')).update('\0').update(list.join('\n')).update('\0').update(new Uint8Array(meta.buffer)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Environments that have a tree under rendered/. */
export function listRenderedEnvironments(renderedRoot: string): string[] {
  if (!existsSync(renderedRoot)) return [];
  return readdirSync(renderedRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && ENV_NAME.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Files under rendered/ outside every environment tree (relative to rendered/): files directly
 * under it, and everything below a directory that cannot be an environment's. Leaves out the
 * git-ignored `.odp-*` entries (the incremental state, the run lock, a killed run's staging trees).
 */
export function listStrayFiles(renderedRoot: string): string[] {
  if (!existsSync(renderedRoot)) return [];
  const out: string[] = [];
  for (const e of readdirSync(renderedRoot, { withFileTypes: true })) {
    if (e.name.startsWith('.odp-') || (e.name === FLEET_README && e.isFile())) continue;
    if (!e.isDirectory()) out.push(e.name);
    else if (!ENV_NAME.test(e.name)) out.push(...listFiles(join(renderedRoot, e.name)).map((f) => `${e.name}/${f}`));
  }
  return out.sort();
}

/**
 * Write the fleet matrix, rendered/${FLEET_README} (the one file synth writes outside the environments'
 * trees): beside it under a temporary name, then renamed over it, and only when its content changes.
 * Returns whether it was written.
 */
export function writeFleetReadme(renderedRoot: string, content: string): boolean {
  const abs = join(renderedRoot, FLEET_README);
  if (sameContent(abs, content)) return false;
  mkdirSync(renderedRoot, { recursive: true });
  const tmp = join(renderedRoot, `${TMP_PREFIX}${FLEET_README}`);
  writeFileSync(tmp, content);
  renameSync(tmp, abs);
  return true;
}

/** The fleet matrix as committed, or undefined. */
export function readFleetReadme(renderedRoot: string): string | undefined {
  const abs = join(renderedRoot, FLEET_README);
  return existsSync(abs) && lstatSync(abs).isFile() ? readFileSync(abs, 'utf8') : undefined;
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

export interface TreePlan {
  stale: string[];
  missing: string[];
  extra: string[];
  unchanged: string[];
}

/** Compare without writing: what `writeEnvironment` would change (the manifest included). */
export function planEnvironment(renderedRoot: string, env: string, rendered: readonly FinalFile[]): TreePlan {
  return planFiles(renderedRoot, env, withManifest(env, rendered));
}

function planFiles(renderedRoot: string, env: string, files: readonly FinalFile[], listed?: readonly string[]): TreePlan {
  const dir = envDir(renderedRoot, env);
  const existing = new Set(listed ?? listFiles(dir));
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

/** One environment checked, compared and (when changed) built aside, ready to swap in. */
export interface StagedEnvironment {
  env: string;
  result: WriteResult;
  /** Whether the tree changes (a temporary tree was built). */
  changed: boolean;
  /** sha256 of the manifest written (what the incremental state records). */
  manifestSha256: string;
  /**
   * What that manifest says the environment runs, as runningVersions reads it from rendered/<env> once
   * the tree is swapped in (the next run takes it from the incremental state instead of parsing the manifest).
   */
  running: RunningVersions;
  /**
   * treeSignature of the tree as it will be swapped in, when the writer knows its contents are
   * exactly `files`: an unchanged tree signed before its files were read and compared (an edit after
   * that changes the signature), or a tree whose every file the writer wrote itself. Undefined for a
   * tree with files hard-linked from the old one (their contents were read before the links).
   */
  signature?: string;
}

const tmpOf = (renderedRoot: string, env: string): string => join(renderedRoot, `${TMP_PREFIX}${env}-${process.pid}`);
const oldOf = (renderedRoot: string, env: string): string => join(renderedRoot, `${OLD_PREFIX}${env}-${process.pid}`);

/** Make rendered/ ready for staging: create it and finish or undo what a killed run left. Once per run, before the first stage. */
export function prepareStaging(renderedRoot: string): void {
  mkdirSync(renderedRoot, { recursive: true });
  recover(renderedRoot);
}

/**
 * Check one environment's files (names, paths, duplicates), compare them with its tree and, when
 * anything changed, build the new tree aside (rendered/.odp-tmp-<env>-<pid>): unchanged files are
 * hard-linked. rendered/<env> itself is untouched until commitStaged; discardStaged removes the
 * temporary tree. Called as soon as an environment renders (in a worker thread too), so a run holds
 * one environment's files at a time.
 */
export function stageEnvironment(renderedRoot: string, env: string, rendered: readonly FinalFile[], io: WriterIo = realIo): StagedEnvironment {
  return timed('write', () => {
    const files = withManifest(env, rendered);
    checkEnvironment(renderedRoot, env, files);
    const dir = envDir(renderedRoot, env);
    // Signed before planFiles reads the files: an edit after the signature changes it.
    const listed = listFiles(dir);
    const before = listed.length > 0 ? treeSignature(dir, listed) : undefined;
    const plan = planFiles(renderedRoot, env, files, listed);
    const result: WriteResult = { env, written: [...plan.stale, ...plan.missing].sort(), unchanged: plan.unchanged, removed: plan.extra };
    const changed = result.written.length > 0 || result.removed.length > 0;
    const manifestText = files[files.length - 1]!.content;
    const manifestSha256 = sha256(manifestText);
    const running = runningVersionsOf(manifestText, `${RENDERED_DIR}/${env}/${PROVENANCE_FILE}`);
    if (!changed) return { env, result, changed, manifestSha256, running, ...(before !== undefined ? { signature: before } : {}) };
    const tmp = tmpOf(renderedRoot, env);
    rmSync(tmp, { recursive: true, force: true });
    let linked = false;
    try {
      const unchanged = new Set(plan.unchanged);
      const made = new Set<string>();
      for (const f of files) {
        const target = safeJoin(tmp, f.path);
        const parent = dirname(target);
        if (!made.has(parent)) {
          mkdirSync(parent, { recursive: true });
          made.add(parent);
        }
        if (unchanged.has(f.path)) {
          try {
            io.link(safeJoin(dir, f.path), target);
            linked = true;
            continue;
          } catch {
            // no hard links on this file system: fall through and write a copy
          }
        }
        io.writeFile(target, f.content);
      }
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    const signature = linked ? undefined : treeSignature(tmp, files.map((f) => f.path).sort());
    return { env, result, changed, manifestSha256, running, ...(signature !== undefined ? { signature } : {}) };
  });
}

/** Remove the temporary trees of staged environments (a run that fails before commitStaged). */
export function discardStaged(renderedRoot: string, staged: readonly { env: string; changed: boolean }[]): void {
  for (const s of staged) if (s.changed) rmSync(tmpOf(renderedRoot, s.env), { recursive: true, force: true });
}

/**
 * Swap every staged tree in and remove the trees of `remove`, all or nothing: `beforeSwap` runs
 * first (a throw aborts, nothing swapped); a failure during the swaps puts the trees already
 * swapped back. The temporary trees are gone afterwards, whatever happened.
 */
export function commitStaged(
  renderedRoot: string,
  staged: readonly StagedEnvironment[],
  opts: Omit<WriteOptions, 'remove'> & { remove?: readonly string[] } = {},
): { results: WriteResult[]; removed: { env: string; files: string[] }[] } {
  const { remove = [], io = realIo, beforeSwap } = opts;
  const names = new Set<string>();
  for (const s of staged) {
    if (names.has(s.env)) {
      discardStaged(renderedRoot, staged);
      throw new Error(`environment ${s.env} is written twice`);
    }
    names.add(s.env);
  }
  const swapping = staged.filter((s) => s.changed);
  let removed: { env: string; files: string[] }[];
  try {
    for (const env of remove) {
      envDir(renderedRoot, env);
      if (names.has(env)) throw new Error(`environment ${env} is both written and removed`);
    }
    removed = remove.map((env) => ({ env, files: listFiles(envDir(renderedRoot, env)) })).filter((r) => r.files.length > 0 || existsSync(envDir(renderedRoot, r.env)));
    beforeSwap?.();
  } catch (err) {
    discardStaged(renderedRoot, staged);
    throw err;
  }
  return timed('write', () => {
    // Swap: each tree aside, the new one in; on failure, undo the swaps done so far.
    const done: { env: string; hadOld: boolean; hasNew: boolean }[] = [];
    try {
      for (const { env } of swapping) {
        const dir = envDir(renderedRoot, env);
        const hadOld = existsSync(dir);
        if (hadOld) io.rename(dir, oldOf(renderedRoot, env));
        done.push({ env, hadOld, hasNew: false });
        io.rename(tmpOf(renderedRoot, env), dir);
        done[done.length - 1]!.hasNew = true;
      }
      for (const { env } of removed) {
        const dir = envDir(renderedRoot, env);
        io.rename(dir, oldOf(renderedRoot, env));
        done.push({ env, hadOld: true, hasNew: false });
      }
    } catch (err) {
      for (const d of [...done].reverse()) {
        const dir = envDir(renderedRoot, d.env);
        if (d.hasNew) rmSync(dir, { recursive: true, force: true });
        if (d.hadOld) renameSync(oldOf(renderedRoot, d.env), dir);
      }
      discardStaged(renderedRoot, swapping);
      recover(renderedRoot);
      throw err;
    }
    for (const d of done) if (d.hadOld) rmSync(oldOf(renderedRoot, d.env), { recursive: true, force: true });
    return { results: staged.map((s) => s.result), removed };
  });
}

/**
 * Write several environments and remove the trees of others, all or nothing: every path of every
 * environment is checked and every changed tree is built aside (rendered/.odp-tmp-<env>-<pid>)
 * before the first swap; a failure while checking or building leaves rendered/ untouched, and a
 * failure during the swaps puts the trees already swapped back. Nothing in rendered/ changes
 * unless every environment can be written.
 */
export function writeEnvironments(renderedRoot: string, envs: readonly EnvironmentFiles[], opts: WriteOptions = {}): { results: WriteResult[]; removed: { env: string; files: string[] }[] } {
  const { io = realIo } = opts;
  // 1. Refusals: names, paths, duplicates — of every environment, before any change.
  const names = new Set<string>();
  for (const { env, files } of envs) {
    checkEnvironment(renderedRoot, env, withManifest(env, files));
    if (names.has(env)) throw new Error(`environment ${env} is written twice`);
    names.add(env);
  }
  for (const env of opts.remove ?? []) {
    envDir(renderedRoot, env);
    if (names.has(env)) throw new Error(`environment ${env} is both written and removed`);
  }
  prepareStaging(renderedRoot);
  // 2. Build every changed tree aside, 3. swap them in.
  const staged: StagedEnvironment[] = [];
  try {
    for (const { env, files } of envs) staged.push(stageEnvironment(renderedRoot, env, files, io));
  } catch (err) {
    discardStaged(renderedRoot, staged);
    throw err;
  }
  return commitStaged(renderedRoot, staged, opts);
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
