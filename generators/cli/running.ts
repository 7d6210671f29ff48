/**
 * Where synth, check and validate read the versions an environment runs (validate/rules-skew.ts): the working tree's
 * rendered/<env>/.provenance.json by default (no git needed), or, with `--base REF` (CI: the pull request's base),
 * the same file at that git revision, so a change that ran synth more than once (1.34 → 1.35 → 1.36 in one pull
 * request) is compared with what the base branch rolled out, not with its own re-rendered tree. In a git work tree an
 * empty REF (a failed `$(git merge-base …)` in CI) or one git cannot resolve (a shallow clone without it) is a usage
 * error (exit 2, git.ts commitOrFail, as plan and diff refuse it): falling back would compare the change with its own
 * tree and pass what the base refuses. Only without git at all (no git binary, or root in no repository) are the
 * running versions read from the working tree, with a note.
 */
import { join } from 'node:path';
import type { RunningVersions } from '../validate/rules-skew.js';
import { PROVENANCE_FILE, runningVersions, runningVersionsOf, treeRecord } from '../write/provenance.js';
import type { VersionDates } from '../write/since.js';
import { RENDERED_DIR } from '../write/writer.js';
import { commitOrFail, git } from './git.js';

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

/**
 * `--base REF` checked: the revision to read the running versions at, or, without git (no binary, or root in no
 * work tree), the note to print before reading them from the working tree. Throws a UsageError in a git work tree
 * when REF is empty or no commit git knows (commitOrFail).
 */
export function resolveBase(root: string, ref: string | undefined): { base?: string; note?: string } {
  if (ref === undefined) return {};
  // `git rev-parse --is-inside-work-tree` fails without git and outside a repository (prints false inside .git/).
  if (git(root, ['rev-parse', '--is-inside-work-tree'])?.trim() !== 'true') {
    return { note: `note: --base ${ref === '' ? '""' : ref}: no git here (no git binary, or ${root} is in no git work tree): the running versions are read from ${RENDERED_DIR}/ in the working tree` };
  }
  commitOrFail(root, ref);
  // Kept as written (the messages name it); git resolves it the same way for every environment of the run.
  return { base: ref };
}

/** The parsed `--base` option through resolveBase (check, validate, synth: before their lock), its note printed on stderr. */
export function baseOption(root: string, value: unknown): string | undefined {
  const { base, note } = resolveBase(root, typeof value === 'string' ? value : undefined);
  if (note) process.stderr.write(note + '\n');
  return base;
}
