/**
 * What a change of one of the family's system-upgrade-controller Plans does (DistributionDiffReport.consequences):
 * the review comment's lead says it before anything else that GitOps applies, since a Plan upgrades nodes.
 *
 * Source: rancher/system-upgrade-controller v0.20.1 (f1362a3f), pkg/upgrade/plan/plan.go DigestStatus: the Plan's
 * hash (`status.latestHash`) is a digest of `status.latestVersion` (the resolved `spec.version` or `spec.channel`),
 * `spec.serviceAccountName` and the content of `spec.secrets`; a selected Node whose `plan.upgrade.cattle.io/<plan>`
 * label differs from it gets the upgrade Job (pkg/upgrade/handle_upgrade.go), `spec.concurrency` at a time, cordoned
 * (`spec.cordon`) or drained (`spec.drain`) first. Any other field (prepare, tolerations, concurrency) takes effect at
 * the next upgrade and upgrades no node by itself; a node newly selected (`spec.nodeSelector`) carries no label yet and
 * runs the Job.
 */
import type { Consequence, ObjectSides } from '../../diff/consequences.js';
import { changedPaths } from '../../diff/fields.js';
import { some } from '../../diff/words.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isPlan = (v: Record<string, unknown> | undefined): v is Record<string, unknown> => v !== undefined && v.apiVersion === 'upgrade.cattle.io/v1' && v.kind === 'Plan';
const spec = (v: Record<string, unknown> | undefined): Record<string, unknown> => (isMap(v?.spec) ? v.spec : {});
const json = (v: unknown): string => JSON.stringify(v ?? null);

/** `node-role.kubernetes.io/control-plane In true`, from a Plan's nodeSelector. */
function selects(v: Record<string, unknown>): string {
  const sel = spec(v).nodeSelector;
  const labels = isMap(sel) && isMap(sel.matchLabels) ? Object.entries(sel.matchLabels).map(([k, x]) => `${k}=${String(x)}`) : [];
  const exprs = isMap(sel) && Array.isArray(sel.matchExpressions)
    ? sel.matchExpressions.filter(isMap).map((e) => `${String(e.key)} ${String(e.operator)}${Array.isArray(e.values) ? ` ${e.values.join(',')}` : ''}`)
    : [];
  return [...labels, ...exprs].join(', ') || 'every node';
}

const release = (v: Record<string, unknown>): string => String(spec(v).version ?? spec(v).channel ?? '?');
const how = (v: Record<string, unknown>): string => `${String(spec(v).concurrency ?? 1)} at a time, ${isMap(spec(v).drain) ? 'drained' : spec(v).cordon === true ? 'cordoned (not drained)' : 'not cordoned'}`;

export function planConsequences({ base, head }: ObjectSides): Consequence[] {
  if (!isPlan(head ?? base)) return [];
  if (!head) return [{ group: 'config', text: 'removed: the nodes it selected are no longer upgraded by it' }];
  if (!base) return [{ group: 'nodes', text: `new: upgrades the nodes it selects (${selects(head)}) to ${release(head)}, ${how(head)}` }];
  const out: Consequence[] = [];
  const b = spec(base);
  const h = spec(head);
  if (json(b.version) !== json(h.version) || json(b.channel) !== json(h.channel)) out.push({ group: 'nodes', text: `upgrades the nodes it selects (${selects(head)}) ${release(base)} → ${release(head)}, ${how(head)}` });
  else if (json(b.serviceAccountName) !== json(h.serviceAccountName) || json(b.secrets) !== json(h.secrets)) out.push({ group: 'nodes', text: `runs its upgrade again on every node it selects (${selects(head)}): its hash reads the service account and secrets, ${how(head)}` });
  if (json(b.nodeSelector) !== json(h.nodeSelector)) out.push({ group: 'nodes', text: `now selects ${selects(head)} (was ${selects(base)}): a node newly selected runs its upgrade to ${release(head)}` });
  const rest = changedPaths(b, h).filter((p) => !/^(version|channel|serviceAccountName|secrets|nodeSelector)\b/.test(p));
  if (rest.length > 0) out.push({ group: 'config', text: `${some(rest.map((p) => `spec.${p}`))} changed: used by its next upgrade; upgrades no node by itself` });
  return out;
}
