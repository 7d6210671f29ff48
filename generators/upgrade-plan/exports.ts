/**
 * Exports of the AWS base stack the nodes stack imports (`Fn::ImportValue <cluster>:<Name>`: security group ids,
 * instance profile names, infra/aws/stacks.ts), added or removed by a change: read off the two rendered trees. The
 * two stacks are updated separately — `deploy.sh base` and `deploy.sh nodes`, or one Git sync configuration per
 * stack, both started by the same merge in no set order — and CloudFormation refuses either order's wrong half:
 *
 * - an import names an export that must exist: Fn::ImportValue imports "only values that have been exported within
 *   the same Region" (AWS CloudFormation template reference, "Fn::ImportValue"), so the importing stack's update
 *   fails on a missing one and rolls back;
 * - "After another stack imports an output value, you can't delete the stack that is exporting the output value or
 *   modify the exported output value. All the imports must be removed before you can delete the exporting stack or
 *   modify the output value" (same page): the base stack's update that drops an export the running nodes stack still
 *   imports fails and rolls back.
 *
 * Each failed update rolls its own stack back, and the change is then not applied until that stack is updated
 * again in the right order. So: exports added → the base stack first, then the
 * nodes stack; exports removed → the nodes stack first, then the base stack. Pure: files in, changes out.
 */
import { splitFile } from '../diff/documents.js';
import { importsOf } from '../diff/aws-impact.js';
import type { PlanStep } from './plan.js';

export interface ExportChanges {
  /** Exports the head's nodes stack imports that only the head's base stack creates: base stack first. */
  added: string[];
  /** Exports the base's nodes stack imports that the head's base stack no longer creates: nodes stack first. */
  removed: string[];
}

const BASE_STACK = 'aws/base.yaml';
const NODES_STACK = 'aws/nodes.yaml';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function template(path: string, files: ReadonlyMap<string, string>): Record<string, unknown> | undefined {
  const text = files.get(path);
  const doc = text === undefined ? undefined : splitFile(path, text)[0]?.value;
  return isRecord(doc) ? doc : undefined;
}

/** Export names a template's Outputs declare. */
export function exportsOf(t: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  for (const o of Object.values(isRecord(t?.Outputs) ? t.Outputs : {})) if (isRecord(o) && isRecord(o.Export) && typeof o.Export.Name === 'string') out.add(o.Export.Name);
  return out;
}

/** The exports whose creation or deletion orders the two stacks' updates, from the two trees. */
export function exportChanges(env: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): ExportChanges {
  const stacks = (files: ReadonlyMap<string, string>) => ({ exports: exportsOf(template(`${env}/${BASE_STACK}`, files)), imports: importsOf(template(`${env}/${NODES_STACK}`, files)) });
  // Without the stacks at the base (no rendered tree, a new environment: the first deploy runs base then nodes) nothing is known.
  if (!base.has(`${env}/${BASE_STACK}`) || !base.has(`${env}/${NODES_STACK}`) || !head.has(`${env}/${BASE_STACK}`)) return { added: [], removed: [] };
  const before = stacks(base);
  const after = stacks(head);
  return {
    added: [...after.imports].filter((x) => after.exports.has(x) && !before.exports.has(x)).sort(),
    removed: [...before.imports].filter((x) => before.exports.has(x) && !after.exports.has(x)).sort(),
  };
}

/** The plan's step ordering the two stacks, first of the AWS steps (before merging). */
export function exportSteps(env: string, c: ExportChanges | undefined): PlanStep[] {
  if (!c || (c.added.length === 0 && c.removed.length === 0)) return [];
  const deploy = (stack: 'base' | 'nodes') => `sh rendered/${env}/aws/deploy.sh ${stack}`;
  const gitSync = 'With Git sync the merge starts both stacks\u2019 updates in no set order: run the first one from this branch and wait for it before merging';
  const failed = 'the other order fails that stack\u2019s update, which rolls back, and leaves the change unapplied until it is deployed again in this order';
  const names = (xs: string[]) => xs.join(', ');
  if (c.added.length > 0 && c.removed.length > 0)
    return [
      {
        title: `AWS exports added (${names(c.added)}) and removed (${names(c.removed)}) in one change`,
        gate: 'AWS stacks order',
        verdict: 'caution',
        reason: `no order of the two stacks is safe: the nodes stack imports exports only the new base stack creates, and the new base stack drops exports the running nodes stack imports (CloudFormation refuses to remove an output another stack references, and an import of a missing export). Split the change: first the one that adds (${deploy('base')}, then ${deploy('nodes')}), later the one that removes (${deploy('nodes')}, then ${deploy('base')}). ${gitSync}`,
      },
    ];
  if (c.added.length > 0)
    return [
      {
        title: `before merging: update the AWS base stack, which creates the exports the nodes stack now imports (${names(c.added)})`,
        gate: 'AWS base stack before the nodes stack',
        verdict: 'caution',
        reason: `run ${deploy('base')}, wait until it has finished, then ${deploy('nodes')} (or merge); ${failed}. ${gitSync}`,
      },
    ];
  return [
    {
      title: `before merging: update the AWS nodes stack, which stops importing the exports the base stack drops (${names(c.removed)})`,
      gate: 'AWS nodes stack before the base stack',
      verdict: 'caution',
      reason: `run ${deploy('nodes')}, wait until it has finished, then ${deploy('base')} (or merge); ${failed}. ${gitSync}`,
    },
  ];
}
