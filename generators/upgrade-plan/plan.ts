/**
 * The upgrade plan of a change to one environment (npm run plan): the ordered steps it requires, each
 * with its gate and why it is safe or not. Versions first (the distribution's release, then
 * Kubernetes: one minor at a time, see ./skew.ts), then control planes one at a time (the datastore's
 * quorum), then worker pools one node at a time (their PodDisruptionBudgets), then charts (a new
 * major flagged); IAM roles the AWS base stack adds or removes while objects name them ordered against the merge
 * (./roles.ts). Pure: the base's merged document and the head's model in, steps out.
 */
import { drainsPools, TERMINATING_HOOK } from '../infra/aws/drain.js';
import { resolveAddons } from '../catalog/resolve.js';
import { engineNamed } from '../engines/registry.js';
import type { EnvironmentModel } from '../model/types.js';
import { promotableItems } from '../promote/items.js';
import { pinnedCharts } from './base-charts.js';
import { kubernetesSkew, minorOf, NEITHER_ORDER, releaseOrder, SKEW_SOURCE, SPLIT_HINT } from './skew.js';
import { knownVersionsText, kubeVersionProblems, unknownKubeVersionHint, type KubeVersionProblem } from '../catalog/kube-version.js';
import { distributionNamed } from '../distributions/registry.js';
import { plural } from '../diff/words.js';
import { roleSteps, type RoleChanges } from './roles.js';
import { drainTagSteps, type UntaggedGroup } from './drain-tags.js';
import { exportSteps, type ExportChanges } from './exports.js';

export interface PlanStep {
  title: string;
  gate: string;
  /** safe: proceed; caution: proceed watching what the reason says; refused: the change must be split or fixed first. */
  verdict: 'safe' | 'caution' | 'refused';
  reason: string;
}

export interface UpgradePlan {
  env: string;
  steps: PlanStep[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const major = (v: string): number | undefined => {
  const m = /^v?(\d+)\./.exec(v);
  return m ? Number(m[1]) : undefined;
};

/**
 * `roles`: IAM roles the change adds to or removes from the AWS base stack while objects name them (roles.ts
 * roleChanges, read off both trees): their step comes first (stack before merge) or last (stack after the sync).
 * `baseCharts`: add-on → chart version the base ran (base-charts.ts baseChartVersions; default: the
 * base document's pins). `engine`: the engine's own releases at the base and in the head
 * (base-charts.ts engineVersions), when the caller read both trees. `untagged`: pool groups whose running
 * instances the change leaves without the drain handler's tag (drain-tags.ts untaggedGroups, read off both
 * trees): its step comes first of all. `exportsOrder`: exports of the AWS base stack the nodes stack starts or stops
 * importing (exports.ts exportChanges, read off both trees): which stack goes first, right after the drain tags.
 */
export function upgradePlan(
  base: Record<string, unknown> | undefined,
  head: EnvironmentModel,
  headData: Record<string, unknown>,
  baseCharts?: ReadonlyMap<string, string>,
  engine?: { base: ReadonlyMap<string, string>; head: ReadonlyMap<string, string> },
  roles?: RoleChanges,
  untagged?: readonly UntaggedGroup[],
  exportsOrder?: ExportChanges,
): UpgradePlan {
  const steps: PlanStep[] = [];
  const before = new Map(base ? promotableItems(base).map((i) => [i.id, i.value]) : []);
  const after = new Map(promotableItems(headData).map((i) => [i.id, i.value]));
  let nodesRoll = false;

  // 1–2. The distribution's release (node OS or supervisor) and Kubernetes, each against the
  // distribution's support matrix; ordered so that every pair on the way is supported.
  const dist = distributionNamed(head.cluster.distribution);
  const matrix = dist?.upgrade;
  const releaseKey = Object.keys(dist?.schema.release ?? {}).map((k) => `cluster.${k}`)[0];
  const r0 = releaseKey ? before.get(releaseKey) : undefined;
  const r1 = releaseKey ? after.get(releaseKey) : undefined;
  // A release that ships its Kubernetes (DistributionUpgrade.kubernetesOf): the skew applies to the release's Kubernetes.
  const k0 = (r0 && matrix?.kubernetesOf?.(r0)) ?? before.get('kubernetes');
  const k1 = (r1 && matrix?.kubernetesOf?.(r1)) ?? after.get('kubernetes');
  const releaseChanged = !!base && !!r1 && r0 !== r1;
  const kubeChanged = !!base && !!k0 && !!k1 && k0 !== k1;
  const source = matrix ? ` (${matrix.source})` : '';
  let releaseStep: PlanStep | undefined;
  let kubeStep: PlanStep | undefined;
  if (releaseChanged) {
    nodesRoll = true;
    const unlisted = matrix?.unlisted(r1!);
    releaseStep = unlisted
      ? { title: `${releaseKey}: ${r0 ?? '(unset)'} → ${r1}`, gate: 'release table', verdict: 'refused', reason: `${unlisted}${source}` }
      : { title: `${releaseKey}: ${r0 ?? '(unset)'} → ${r1}`, gate: 'distribution release', verdict: 'caution', reason: 'every node is upgraded (control planes first, one at a time, then the pools, below); check the release notes' };
  }
  for (const [id, value] of after) {
    if (!id.startsWith('cluster.') || id === releaseKey || before.get(id) === value || !base) continue;
    nodesRoll = true;
    steps.push({ title: `${id}: ${before.get(id) ?? '(unset)'} → ${value}`, gate: 'distribution release', verdict: 'caution', reason: 'every node is upgraded (control planes first, one at a time, then the pools, below); check the release notes' });
  }
  if (kubeChanged) {
    nodesRoll = true;
    const shipped = r1 && matrix?.kubernetesOf?.(r1) ? ` (shipped by ${r1})` : '';
    const skew = kubernetesSkew(k0!, k1!);
    kubeStep = { title: `Kubernetes ${k0} → ${k1}${shipped}`, gate: 'version skew', verdict: skew.verdict, reason: skew.reason };
  }
  // The support matrix: every (release, Kubernetes) pair the rollout passes through.
  const unsupported = (r: string | undefined, k: string | undefined): string | undefined => (matrix && r && k ? matrix.unsupported(r, k) : undefined);
  const refuse = (step: PlanStep, why: string): PlanStep => ({ ...step, gate: 'support matrix', verdict: 'refused', reason: `${why}${source}` });
  if (releaseStep && kubeStep && !matrix?.kubernetesOf && releaseStep.verdict !== 'refused' && kubeStep.verdict !== 'refused') {
    // Two steps: release first (the default) or Kubernetes first, whichever passes a supported pair.
    const { order, releaseFirst, kubeFirst } = releaseOrder(matrix, r0, r1!, k0!, k1!);
    if (order === 'release') steps.push(releaseStep, kubeStep);
    else if (order === 'kubernetes') steps.push(kubeStep, { ...releaseStep, reason: `after Kubernetes: ${releaseFirst}, so the release waits for Kubernetes ${k1}; ${releaseStep.reason}` });
    else steps.push(refuse(releaseStep, `${NEITHER_ORDER}: ${releaseFirst}; ${kubeFirst}. ${SPLIT_HINT}`), kubeStep);
  } else {
    const pair = unsupported(r1, after.get('kubernetes'));
    if (releaseStep) steps.push(releaseStep.verdict !== 'refused' && pair ? refuse(releaseStep, pair) : releaseStep);
    if (kubeStep) {
      // A release that ships its Kubernetes: its pair is checked with the release step.
      const why = matrix?.kubernetesOf ? undefined : unsupported(r1 ?? r0, k1);
      steps.push(kubeStep.verdict !== 'refused' && why ? refuse(kubeStep, why) : kubeStep);
    }
  }

  // Charts whose kubeVersion, at the version the head runs, does not admit the Kubernetes it runs
  // on (Helm refuses to render them), or is not recorded: with the chart's own step when it changes
  // (below), else as a step of their own when Kubernetes changes.
  const chartsBefore = baseCharts ?? (base ? pinnedCharts(base) : new Map<string, string>());
  const chartChanged = (addon: string, version: string): boolean => !!base && chartsBefore.has(addon) && chartsBefore.get(addon) !== version;
  const targetKube = kubeChanged ? k1! : head.cluster.kubernetesVersion;
  const kubeProblems = new Map(kubeVersionProblems(head, targetKube).map((p) => [p.addon, p]));
  const kubeVerdict = (p: KubeVersionProblem): Pick<PlanStep, 'verdict' | 'reason'> =>
    p.kind === 'outside'
      ? { verdict: 'refused', reason: `the chart admits '${p.constraint}' (${p.source}): Helm refuses to render it on Kubernetes ${targetKube}, so add-on ${p.addon} stops syncing; move to a chart version that admits ${targetKube} first` }
      : { verdict: 'caution', reason: `its kubeVersion at ${p.version} is not known (the catalog records ${knownVersionsText(p.known ?? [])}), so whether Helm renders it on Kubernetes ${targetKube} is not checked: ${unknownKubeVersionHint(p)}` };
  if (kubeChanged)
    for (const p of kubeProblems.values())
      if (!chartChanged(p.addon, p.version)) steps.push({ title: `chart ${p.chart} ${p.version} on Kubernetes ${k1}`, gate: 'chart kubeVersion', ...kubeVerdict(p) });

  // The nodes read the release at first boot from the base stack's parameter (DistributionUpgrade.releaseAtBoot): the
  // merge changes that parameter only, no node's user data, so the nodes stack is untouched (no fixed node stopped, no
  // pool refreshed) and the Plans upgrade the running nodes. What remains: an instance launched before the server Plan
  // is done boots the new release, a kubelet one minor newer than the API server on a minor bump.
  // (Not while a step above refuses the change: it is split first.)
  const atBoot = releaseChanged && !steps.some((s) => s.verdict === 'refused') ? matrix?.releaseAtBoot : undefined;
  if (atBoot) {
    const pools = head.pools.filter((p) => p.count !== undefined).map((p) => p.name);
    const m0 = minorOf(k0 ?? '');
    const m1 = minorOf(k1 ?? '');
    const newer = m0 !== undefined && m1 !== undefined && m1 > m0 && pools.length > 0;
    steps.push({
      title: `base stack: release parameter ${atBoot.parameter(head)} names ${r1}`,
      gate: 'release parameter',
      verdict: newer ? 'caution' : 'safe',
      reason: [
        `${atBoot.inPlace}; the merge changes only this parameter of the AWS base stack, no node's user data: the nodes stack is untouched (no fixed node is stopped, no pool refreshed), and an instance launched later boots ${r1}`,
        newer
          ? `. Until ${atBoot.done}, a new instance of pool${pools.length === 1 ? '' : 's'} ${pools.join(', ')} (a scale-out, a replaced instance) boots ${r1} while the API server still runs ${r0}: a kubelet one minor newer than the API server, which the skew policy forbids (${SKEW_SOURCE}); only instances launched in those minutes, not the running ones`
          : '',
      ].join(''),
    });
  }

  if (nodesRoll) {
    // 3. Control planes one at a time, the datastore's quorum kept. With the state in an external PostgreSQL (Kine in
    // each server) the servers are no members of anything: no quorum, no snapshot of theirs (the database's backup).
    const cps = head.controlPlaneNodes;
    const n = cps.length;
    const quorum = Math.floor(n / 2) + 1;
    const external = head.cluster.datastore.type === 'kine-postgres';
    cps.forEach((node, i) =>
      steps.push({
        title: `control plane ${i + 1}/${n}: ${node.name}`,
        gate: external ? 'API servers' : 'quorum',
        verdict: n === 1 ? 'caution' : 'safe',
        reason:
          n === 1
            ? `the only control plane: the API is down while it upgrades (workloads keep running); ${external ? 'back up the PostgreSQL database first (the cluster state is there)' : 'take a datastore snapshot first'}`
            : external
              ? `the cluster state is in PostgreSQL (Kine in each server), which the upgrade does not touch: no quorum among the servers, the other ${n - 1} keep serving the API through the endpoint: wait until it is back (Node Ready) before the next`
              : `${n - 1} of ${n} members stay up, quorum is ${quorum}: wait until it is back and healthy (members and API ready) before the next`,
      }),
    );
    // 4. Worker pools, one node at a time, drained under their PodDisruptionBudgets.
    const workers = head.pools.filter((p) => p.role !== 'controlplane');
    const drains = drainsPools(head);
    for (const p of workers) {
      const size = p.count ?? p.nodes.length;
      // Workloads that may run on this pool (its name or any pool; its architecture or any).
      const here = head.workloads.filter((w) => (!w.placement.pool || w.placement.pool === p.name) && (w.placement.arch === 'any' || w.placement.arch === p.arch));
      const blocking = here.filter((w) => (w.disruptionBudget?.minAvailable !== undefined && w.disruptionBudget.minAvailable >= w.replicas) || w.disruptionBudget?.maxUnavailable === 0);
      const pinned = head.workloads.filter((w) => w.placement.pool === p.name);
      if (blocking.length > 0) steps.push({ title: `pool ${p.name} (${size} nodes)`, gate: 'PodDisruptionBudget', verdict: 'refused', reason: `${blocking.map((w) => w.name).join(', ')}: a budget that allows no disruption (minAvailable ≥ replicas, or maxUnavailable 0) blocks every drain; lower it or add replicas first` });
      else if (size <= 1 && pinned.length > 0) steps.push({ title: `pool ${p.name} (${size} node)`, gate: 'drain capacity', verdict: 'caution', reason: `a pool too small to drain: ${pinned.map((w) => w.name).join(', ')} run only here and are down while its node upgrades; add a node for the upgrade` });
      else steps.push({ title: `pool ${p.name} (${size} node${size === 1 ? '' : 's'})`, gate: 'PodDisruptionBudget', verdict: 'safe', reason: `one node at a time: cordon, drain (budgets allow it), upgrade, uncordon${p.count === undefined ? '' : drains ? `; an instance refresh of the pool (new image, instance type or user data) drains each old instance through the eviction API too (budgets hold), by the AWS Node Termination Handler under the group's EC2_INSTANCE_TERMINATING hook, for at most its ${TERMINATING_HOOK.heartbeatSeconds} s` : '; an instance refresh of the pool terminates old instances without a drain (aws-node-termination-handler is disabled)'}` });
    }
  }

  // 5. Charts at another version (the environment's pin or the catalog's, as the base's rendered tree
  // ran them when the caller read it): a new major flagged, a kubeVersion that refuses flagged.
  for (const a of resolveAddons(head)) {
    const old = chartsBefore.get(a.name);
    if (!a.chart || !old || !chartChanged(a.name, a.chart.version)) continue;
    const m0 = major(old);
    const m1 = major(a.chart.version);
    const isMajor = m0 !== undefined && m1 !== undefined && m1 > m0;
    const title = `chart ${a.name} ${old} → ${a.chart.version}`;
    const p = kubeProblems.get(a.name);
    const majorReason = `read the chart's upgrade notes for ${a.chart.version} (${a.catalog?.upgradeNotes ?? `no link in the catalog; chart repository ${a.chart.repoURL}`}) before merging: values or CRDs may have changed`;
    if (p) {
      const v = kubeVerdict(p);
      steps.push({ title, gate: 'chart kubeVersion', verdict: v.verdict, reason: isMajor ? `${v.reason}; a new major version: ${majorReason}` : v.reason });
    } else steps.push({ title, gate: isMajor ? 'new major version' : 'chart version', verdict: isMajor ? 'caution' : 'safe', reason: isMajor ? majorReason : 'same major version' });
  }
  // 6. The engine's own release (besides its chart): it upgrades itself in place.
  for (const [name, version] of engine?.head ?? []) {
    const old = engine?.base.get(name);
    if (base && old && old !== version)
      steps.push({ title: `${name} ${old} → ${version}`, gate: 'engine release', verdict: 'caution', reason: `the GitOps engine upgrades its own controllers to ${version} when this syncs; read ${name}'s release notes for ${version} (deprecated or removed APIs) before merging` });
  }
  // 7. What the engine's own semantics require (a hub letting a managed environment go).
  steps.push(...(engineNamed(head.gitops)?.planSteps?.(base, head) ?? []));
  // 0 and 8. IAM roles the objects name, created or deleted by the AWS base stack: which goes first (./roles.ts).
  const order = roleSteps(head.name, roles);
  // First: running pool instances the change leaves without the drain handler's tag (./drain-tags.ts).
  // Then: which of the two AWS stacks goes first when the nodes stack starts or stops importing an export (./exports.ts).
  return { env: head.name, steps: [...drainTagSteps(head, untagged), ...exportSteps(head.name, exportsOrder), ...order.before, ...steps, ...order.after] };
}

export function formatPlan(p: UpgradePlan): string {
  if (p.steps.length === 0) return `${p.env}: nothing to roll out (no version, node or chart change).\n`;
  const mark = { safe: 'safe', caution: 'CAUTION', refused: 'REFUSED' } as const;
  return `${p.env}: ${p.steps.length} step${p.steps.length === 1 ? '' : 's'}, in order\n${p.steps.map((s, i) => `  ${i + 1}. ${s.title}\n     gate: ${s.gate} — ${mark[s.verdict]}: ${s.reason}`).join('\n')}\n`;
}

/** The plan's summary for the review comment: one line per refused or cautious step. */
export function planSummaryMarkdown(p: UpgradePlan): string {
  const notable = p.steps.filter((s) => s.verdict !== 'safe');
  if (p.steps.length === 0) return '';
  return `**Upgrade plan for \`${p.env}\`** (npm run plan -- --env ${p.env}): ${plural(p.steps.length, 'step')}${notable.length ? `; ${notable.length} need${notable.length === 1 ? 's' : ''} attention:` : ', all safe.'}\n${notable.map((s) => `- ${s.verdict === 'refused' ? '⛔' : '⚠️'} ${s.title} (${s.gate}): ${s.reason}`).join('\n')}\n`;
}
