/**
 * Acknowledged warnings: `acknowledge: [{ rule, path, reason }]` in an environment file silences
 * the warning of that rule at that document path, so CI logs show only new warnings. An
 * acknowledgement that matches no warning of the run is refused (with the closest warning as
 * "did you mean"), so one that went stale (the warning was fixed, the path moved) surfaces
 * instead of hiding the next warning there. Errors cannot be acknowledged. When an error stopped the
 * run before every rule ran (`complete: false`: the rules that need the model did not run), an
 * acknowledgement matching nothing is not reported: its warning may simply not have been looked for,
 * and an error about it would only hide the real one (one naming an error is still refused).
 * A rule may accept an acknowledgement of what it would refuse (the version-skew rules, for a cluster rebuilt from
 * scratch: validate/rules-skew.ts): it then reports a `loud` warning, which the acknowledgement matches but which
 * stays printed. An acknowledgement of a rule the run could not judge (`unjudged`: the skew rules when no running
 * versions are compared, validate/rules-skew.ts unjudgedSkewRules) is not reported either. An unmatched skew
 * acknowledgement at a version key of the environment where no skew rule reports is stale (the rebuild is merged, or
 * nothing jumps): its hint says to remove it; one at any other path (a typo) gets the hint of any unmatched entry, the
 * version keys among the "did you mean" candidates.
 */
import { formatPath } from '../lib/paths.js';
import { hintFor } from '../lib/suggest.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { Diagnostic } from './diagnostics.js';
import { SKEW_RULES, STALE_SKEW_ACK, versionInputs } from './rules-skew.js';

export interface Acknowledgement {
  rule: string;
  path: string;
  reason: string;
}

const key = (rule: string, path: string): string => `${rule} at ${path}`;

/** The diagnostics without the acknowledged warnings, plus (when every rule ran) an error per acknowledgement matching none. */
export function applyAcknowledgements(env: ResolvedEnvironment, acks: readonly Acknowledgement[] | undefined, diagnostics: readonly Diagnostic[], complete = true, unjudged: readonly string[] = []): { diagnostics: Diagnostic[]; acknowledged: number } {
  if (!acks || acks.length === 0) return { diagnostics: [...diagnostics], acknowledged: 0 };
  const wanted = new Map(acks.map((a, i) => [key(a.rule, a.path), i]));
  const used = new Set<number>();
  const kept: Diagnostic[] = [];
  for (const d of diagnostics) {
    const i = d.severity === 'warning' ? wanted.get(key(d.rule, formatPath(d.path))) : undefined;
    if (i === undefined || d.loud) kept.push(d);
    if (i !== undefined) used.add(i);
  }
  const warnings = diagnostics.filter((d) => d.severity === 'warning').map((d) => key(d.rule, formatPath(d.path)));
  const errors = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => key(d.rule, formatPath(d.path))));
  // The skew rules: what they report (an error of theirs is what a rebuild acknowledges) and the keys they judge.
  const skew = diagnostics.filter((d) => SKEW_RULES.includes(d.rule));
  const versionKeys = Object.keys(versionInputs(env.data));
  acks.forEach((a, i) => {
    if (used.has(i)) return;
    const k = key(a.rule, a.path);
    if ((!complete || unjudged.includes(a.rule)) && !errors.has(k)) return;
    const pos = locate(env, ['acknowledge', i, 'path']);
    const isSkew = SKEW_RULES.includes(a.rule);
    const stale = isSkew && versionKeys.includes(a.path) && !skew.some((d) => formatPath(d.path) === a.path);
    // (Never the entry itself: another skew rule reporting at its key is the likelier match.)
    const candidates = isSkew ? [...new Set([...warnings, ...skew.map((d) => key(d.rule, formatPath(d.path))), ...versionKeys.map((p) => key(a.rule, p))])].filter((c) => c !== k) : warnings;
    const hint = errors.has(k) ? 'an error cannot be acknowledged: fix it' : stale ? STALE_SKEW_ACK : (hintFor(k, candidates) ?? (isSkew ? `${a.rule} is judged at the version keys of this environment: ${versionKeys.join(', ')}` : warnings.length === 0 ? 'this environment has no warning left: remove the entry' : `warnings of this run: ${warnings.join('; ')}`));
    kept.push({ severity: 'error', rule: 'acknowledge-unmatched', file: pos.file, line: pos.line, col: pos.col, path: ['acknowledge', i, 'path'], message: `acknowledges no warning: there is no ${a.rule} warning at ${a.path}`, hint });
  });
  return { diagnostics: kept, acknowledged: used.size };
}
