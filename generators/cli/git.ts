/**
 * What the promotion and planning commands read from git: a command's output (undefined when git
 * fails), and the environment files at a revision.
 */
import { execFileSync } from 'node:child_process';
import { ENV_DIR } from '../load/loader.js';

export function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  } catch {
    return undefined;
  }
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
