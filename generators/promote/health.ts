/**
 * The health gate of npm run promote (`promotion.requireHealthy`): the source environment's cluster must have applied,
 * and be healthy at, a revision that contains the commit introducing each version moved. A soak measured from Git
 * history says when a version was committed, not whether the source ever ran it: this gate asks the cluster.
 *
 * The engine says what to read and reads it (Engine.health, citing the upstream status fields); the command runs the
 * reads (kubectl) and Git ancestry (`git merge-base --is-ancestor`). Pure: observations and ancestry in, refusals out.
 */
import type { ObservedObject } from '../engines/types.js';

/** A version moved and the commit of the source's history that introduced it (the soak gate's measure). */
export interface NeededCommit {
  /** e.g. `chart cert-manager v1.21.2`. */
  what: string;
  sha: string;
}

/** Whether `ancestor` is an ancestor of (or is) `descendant`; undefined: `descendant` is not a commit this repository has. */
export type IsAncestor = (ancestor: string, descendant: string) => boolean | undefined;

const short = (sha: string): string => sha.slice(0, 12);
const needs = (needed: readonly NeededCommit[]): string => needed.map((n) => `commit ${short(n.sha)} (${n.what})`).join(', ');

/**
 * The refusals of the gate (empty: it passes). `where` names the cluster read (its context), for the missing objects.
 */
export function healthRefusals(observed: { objects: readonly ObservedObject[]; missing: readonly string[] }, needed: readonly NeededCommit[], isAncestor: IsAncestor, where: string): string[] {
  const out: string[] = [];
  for (const m of observed.missing) out.push(`health gate: ${m} is not in ${where}: the source is not delivered there (or the context is another cluster's); needs ${needs(needed)}`);
  if (observed.objects.length === 0 && observed.missing.length === 0) out.push(`health gate: no delivery object of the source in ${where}; needs ${needs(needed)}`);
  for (const o of observed.objects) {
    const at = o.revisions.length > 0 ? o.revisions.map((r) => `${short(r.sha)} (${r.field})`).join(', ') : 'no Git revision';
    if (o.problem !== undefined) {
      out.push(`health gate: ${o.name} is not applied and healthy: ${o.problem}; at revision ${at}; needs ${needs(needed)}`);
      continue;
    }
    for (const r of o.revisions) {
      const unknown = needed.filter((n) => isAncestor(n.sha, r.sha) === undefined);
      const behind = needed.filter((n) => isAncestor(n.sha, r.sha) === false);
      if (unknown.length > 0) out.push(`health gate: ${o.name} has applied ${short(r.sha)} (${r.field}), a commit this repository does not have (git fetch): whether it contains ${needs(unknown)} is unknown`);
      else if (behind.length > 0) out.push(`health gate: ${o.name} is behind: it has applied ${short(r.sha)} (${r.field}), which does not contain ${needs(behind)}; wait for it to sync`);
    }
  }
  return out;
}
