/**
 * Where synth, check and validate read the versions an environment runs (validate/rules-skew.ts): the working tree's
 * rendered/<env>/.provenance.json by default (no git needed), or, with `--base REF` (CI: the pull request's base),
 * the same file at that git revision, so a change that ran synth more than once (1.34 → 1.35 → 1.36 in one pull
 * request) is compared with what the base branch rolled out, not with its own re-rendered tree. A REF git cannot
 * resolve (no git, a shallow clone without it) falls back to the working tree, with a note.
 */
import { join } from 'node:path';
import type { RunningVersions } from '../validate/rules-skew.js';
import { PROVENANCE_FILE, runningVersions, runningVersionsOf, treeRecord } from '../write/provenance.js';
import type { VersionDates } from '../write/since.js';
import { RENDERED_DIR } from '../write/writer.js';
import { git } from './git.js';

/** The running versions of `env`: at git revision `base` when given (resolveBase checked it), else the working tree's. */
export function runningOf(root: string, env: string, base: string | undefined): RunningVersions {
  if (base === undefined) return runningVersions(join(root, RENDERED_DIR), RENDERED_DIR, env);
  const dir = `${RENDERED_DIR}/${env}`;
  // `./` paths are relative to root, which may be a folder of the repository.
  if (!git(root, ['ls-tree', '--name-only', base, '--', `./${dir}/`])?.trim()) return { kind: 'new' };
  const where = `${base}:${dir}/${PROVENANCE_FILE}`;
  const text = git(root, ['show', `${base}:./${dir}/${PROVENANCE_FILE}`]);
  if (text === undefined) return { kind: 'unknown', where, why: 'is missing (the tree has no manifest)' };
  return runningVersionsOf(text, where);
}

/**
 * The running versions of `env` (runningOf) and the dates its working-tree manifest records (write/since.ts: always
 * the working tree's, which the next render carries forward), with one read of the manifest when `base` is unset.
 */
export function recordOf(root: string, env: string, base: string | undefined): { running: RunningVersions; dates?: VersionDates } {
  const own = treeRecord(join(root, RENDERED_DIR), RENDERED_DIR, env);
  return base === undefined ? own : { ...own, running: runningOf(root, env, base) };
}

/** `--base REF` as a commit git knows here, or undefined with the note to print when git or the revision is missing. */
export function resolveBase(root: string, ref: string | undefined): { base?: string; note?: string } {
  if (ref === undefined) return {};
  // Kept as written (the messages name it); git resolves it the same way for every environment of the run.
  if (git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])?.trim()) return { base: ref };
  return { note: `note: --base ${ref}: not a revision git knows here (or no git): the running versions are read from ${RENDERED_DIR}/ in the working tree` };
}
