/**
 * Rendered files that carry SSM placeholders of npm run new-env (lib/placeholder.ts): one warning
 * per file, at the first one, naming what refuses it before it reaches a node. Goes away with the
 * refresh (npm run synth -- --env <env> --refresh-ssm) that locks the real values.
 */
import { findPlaceholders, PLACEHOLDER_PATTERN } from '../../lib/placeholder.js';
import type { FileChecker } from './registry.js';
import { distributions } from '../../distributions/registry.js';

/** What keeps a placeholder in this file from a node: its distribution's guard, else AWS itself. */
function guard(path: string): string {
  for (const d of distributions()) {
    const g = d.checks.placeholders?.guard(path);
    if (g !== undefined) return g;
  }
  return 'AWS refuses the value';
}

export const placeholderChecker: FileChecker = {
  name: 'placeholders',
  pattern: /./,
  check(f) {
    const found = findPlaceholders(f.content);
    if (found.length === 0) return [];
    const at = f.content.search(new RegExp(PLACEHOLDER_PATTERN.source));
    const before = f.content.slice(0, at).split('\n');
    const more = found.length > 1 ? ` (and ${found.length - 1} more)` : '';
    return [
      {
        severity: 'warning',
        rule: 'rendered.placeholder',
        file: f.file,
        line: before.length,
        col: before[before.length - 1]!.length + 1,
        path: [],
        message: `carries the SSM placeholder ${found[0]}${more} of npm run new-env: not deployable as it is (${guard(f.path)})`,
        hint: `create the SSM parameters, then npm run synth -- --env ${f.env} --refresh-ssm replaces every placeholder`,
      },
    ];
  },
};
