/**
 * What the promotion and planning commands read from git: a command's output (undefined when git
 * fails), and the environment files at a revision.
 */
import { execFileSync } from 'node:child_process';
import { ENV_DIR } from '../load/loader.js';
import { UsageError } from '../validate/diagnostics.js';

export function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  } catch {
    return undefined;
  }
}

/**
 * The commit `--base REF` names in root (plan, diff, and check, validate and synth in a git work tree: running.ts),
 * or a UsageError (exit 2): an empty REF (in CI, a failed command substitution such as `$(git merge-base …)` expands
 * to nothing, and an empty --base must not silently compare the working tree with itself) or one git cannot resolve.
 */
export function commitOrFail(root: string, ref: string): string {
  if (ref.trim() === '') {
    throw new UsageError(`--base ${JSON.stringify(ref)}: an empty revision (a command substitution that failed, such as $(git merge-base …), expands to nothing)  (compute the revision in its own shell statement first, so that its failure stops the script: base=$(git merge-base HEAD origin/main), then --base "$base")`);
  }
  const commit = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])?.trim();
  if (!commit) throw new UsageError(`--base ${ref}: not a git revision in ${root}  (a branch, tag or commit of this repository, e.g. what git merge-base HEAD origin/main prints; a shallow clone lacks older commits: fetch them, e.g. fetch-depth: 0 in actions/checkout)`);
  return commit;
}

/** The environment files at a revision (npm run plan, and npm run diff for the plans' summaries). */
export function sourcesAt(root: string, ref: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of (git(root, ['ls-tree', '-r', '--name-only', ref, '--', `${ENV_DIR}/`]) ?? '').split('\n').filter(Boolean)) {
    const text = git(root, ['show', `${ref}:${f}`]);
    if (text !== undefined) out.set(f, text);
  }
  return out;
}
