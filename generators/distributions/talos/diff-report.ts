/**
 * The Talos part of the semantic diff (Distribution.diff) and of its reports (text and the PR comment's
 * Markdown): per node what applying its changed config takes, the talosctl commands in order, then the once-per-cluster steps.
 */
import type { EnvDiff, TreeDiff } from '../../diff/diff.js';
import { cell, code, ETCD_CONTROL_PLANES_DOWN, plural } from '../../diff/words.js';
import type { DistributionDiff, DistributionDiffReport } from '../types.js';
import type { Rollout, RolloutStep } from '../../diff/lead.js';
import { ACTION_ORDER, ACTION_TEXT, identifyTalosDocument, TALOS_NODE_CONFIG, talosDiffContext, talosEnvImpact, talosTotals, type ClusterStep, type TalosImpact } from './diff.js';
import { runbookCommand } from './runbook.js';
import { terminateNodeCommand } from '../../infra/aws/termination.js';

/** `2 upgrade, 6 new nodes`: action names stay as they are, node counts are pluralized. */
function talosCounts(entries: Iterable<[string, number]>): string {
  return [...entries]
    .filter(([, n]) => n > 0)
    .map(([k, n]) => (k.endsWith('node') ? plural(n, k) : `${n} ${k}`))
    .join(', ');
}

function talosSummary(t: readonly TalosImpact[]): string {
  const by = new Map<string, number>();
  for (const i of t) by.set(i.headline, (by.get(i.headline) ?? 0) + 1);
  return talosCounts(by);
}

/** The commands one node (or pool) needs, in the order to run them; cluster steps are separate. */
export function nodeCommands(env: string, t: TalosImpact): string[] {
  // A new fixed node's first apply and a removed node's removal are the runbook's join and remove scripts (runbook.ts
  // joinScript, removeScript: control planes one at a time, waited for in etcd; the quorum checked before a removal).
  // The removal runs before the merge, where the node is still in the environment; the merge's nodes stack update then
  // terminates a fixed worker's instance (a pool's group). A fixed control plane's instance carries termination
  // protection, which the update's cleanup cannot get past (infra/aws/deploy.ts removedGate: it would skip the instance
  // and leave it stopped on its fixed address): deploy.sh terminate-node terminates it before the merge.
  if (t.status === 'added') return t.pool ? [`sh rendered/${env}/aws/talos-join.sh ${t.node} (for each instance the pool launches)`] : [runbookCommand(env, 'join', t.node)];
  if (t.status === 'removed') return [runbookCommand(env, 'remove', t.node), ...(t.controlPlane && !t.pool ? [terminateNodeCommand(env, t.node)] : [])];
  const a = new Set(t.actions);
  // A pool is never upgraded in place (runbook.ts poolUpgradeLines): the new installer comes with a new AMI in its launch
  // template, whose instance refresh replaces the instances; their replacements get the new config when they join.
  if (t.pool && a.has('upgrade')) return [`the nodes stack update (the new AMI) replaces its instances through an instance refresh; join the replacements: sh rendered/${env}/aws/talos-join.sh ${t.node}`];
  // The runbook's script for this node alone, as the commands CLI prints it (runbook.ts runbookCommand), never talosctl
  // typed here: a fixed node's upgrade (drained by kubectl, Talos first with the config it runs, uncordoned, gated, then
  // its new config: release.ts TALOS_UPGRADE_ORDER, upgradeDrainOnBudget) or its config (apply_node: live when Talos can,
  // else drained, staged and rebooted, talosctl waiting; a pool's registered nodes one at a time).
  if (a.has('upgrade')) return [runbookCommand(env, 'upgrade', t.node)];
  if (!(a.has('reboot') || a.has('no-reboot') || a.has('sync-manifests'))) return [];
  return t.pool ? [runbookCommand(env, 'apply', t.node), `new instances of the pool get it from sh rendered/${env}/aws/talos-join.sh ${t.node}`] : [runbookCommand(env, 'apply', t.node)];
}

/**
 * The cluster step's command: the runbook's upgrade-k8s script, which runs `talosctl upgrade-k8s --to <the environment's
 * kubernetesVersion>` (a dry run first) through the first control plane whose etcd is healthy (operations.ts etcd_cp),
 * not a named one: the first control plane may be the one down, and a comment cannot define the shell helper.
 */
export function clusterCommand(env: string): string {
  return runbookCommand(env, 'upgrade-k8s');
}

/** What happens to the node, in words, by headline. */
const EFFECT: Record<TalosImpact['headline'], { effect: string; disruptive: boolean }> = {
  upgrade: { effect: 'upgrades Talos (installs the new image and reboots)', disruptive: true },
  reboot: { effect: 'reboots (the config changes a field Talos cannot apply live)', disruptive: true },
  'upgrade-k8s': { effect: 'Kubernetes components roll (upgrade-k8s; no reboot)', disruptive: false },
  'sync-manifests': { effect: 'applied live; then the bootstrap manifests are synced', disruptive: false },
  'no-reboot': { effect: 'applied live (no reboot)', disruptive: false },
  'new node': { effect: 'new node: joins with its config after the merge (control planes one at a time)', disruptive: false },
  'removed node': { effect: 'removed BEFORE the merge, from the base branch where it is still listed (quorum checked, drained, etcd left, reset, Node deleted); a control plane\'s instance (termination protection) is then terminated with deploy.sh terminate-node, still before the merge; a worker\'s the merge terminates', disruptive: true },
  none: { effect: 'unchanged', disruptive: false },
};

/** The node steps of the review comment's lead: each node's commands; control planes gated on `talosctl health` (etcd, API). */
function rollout(e: EnvDiff): Rollout {
  const steps = e.talos.map((t): RolloutStep => {
    const { effect, disruptive } = EFFECT[t.headline];
    // talosctl health, run on a control plane, waits for etcd to be healthy and its members consistent
    // (research/day2.md 10a: pkg/cluster/check/default.go).
    const gate = t.controlPlane && !t.pool && t.status !== 'removed' ? `talosctl health --nodes ${t.address ?? t.node} --wait-timeout 10m` : undefined;
    return { node: t.node, ...(t.pool ? { pool: true } : {}), controlPlane: t.controlPlane, effect, disruptive, commands: nodeCommands(e.env, t), ...(gate ? { gate } : {}) };
  });
  return { steps, after: e.cluster.map((s) => ({ what: clusterStepText(s), command: clusterCommand(e.env) })) };
}

function clusterStepText(s: ClusterStep): string {
  const what = s.action === 'upgrade-k8s' ? `Kubernetes ${s.from ? `${s.from} → ` : ''}${s.to ?? '?'}` : `sync the bootstrap manifests at Kubernetes ${s.to ?? '?'}`;
  return `${what}, once for the cluster after the node steps (covers ${plural(s.nodes.length, 'node')})`;
}

function talosLines(env: string, t: TalosImpact): string[] {
  const lines = [`${t.node}: ${t.headline}${t.actions.length > 1 ? ` (then ${t.actions.slice(1).join(', ')})` : ''}`];
  for (const a of t.actions) lines.push(`    ${a}: ${ACTION_TEXT[a]}`);
  for (const c of nodeCommands(env, t)) lines.push(`    $ ${c}`);
  for (const r of t.reasons) lines.push(`    ${r.path}: ${r.action} — ${r.why}`);
  return lines;
}

function text(e: EnvDiff): string[] {
  if (!e.talos.length) return [];
  const out = ['Talos impact:'];
  for (const ti of e.talos) out.push(...talosLines(e.env, ti).map((l) => `  ${l}`));
  for (const s of e.cluster) out.push(`  cluster: ${clusterStepText(s)}`, `    $ ${clusterCommand(e.env)}`);
  return out;
}

function markdown(e: EnvDiff): string[][] {
  const items: string[][] = [];
  if (e.talos.length === 0) return items;
  const rows = ['| node | impact | commands |', '|---|---|---|'];
  for (const t of e.talos) {
    const cmds = nodeCommands(e.env, t);
    const onlyCluster = cmds.length === 0 && t.actions.some((a) => a === 'upgrade-k8s' || a === 'sync-manifests');
    const impact = `**${t.headline}**${t.actions.length > 1 ? `, then ${t.actions.slice(1).join(', ')}` : ''}`;
    rows.push(`| ${cell(code(t.pool ? `${t.node} (pool)` : t.node))} | ${cell(impact)} | ${cmds.map((c) => cell(code(c))).join(', then ') || (onlyCluster ? 'cluster step below' : '—')} |`);
  }
  items.push(['**Talos impact**', '', ...rows, '']);
  for (const s of e.cluster) items.push([`**Cluster step** (${clusterStepText(s)}): ${code(clusterCommand(e.env))}`, '']);
  for (const t of e.talos) {
    if (t.reasons.length) items.push([`<sub>${code(t.node)}: ${t.reasons.map((r) => `${code(r.path)} → ${r.action}`).join(', ')}</sub>`, '']);
  }
  return items;
}

export const TALOS_DIFF_REPORT: DistributionDiffReport = {
  get actions() {
    return ACTION_ORDER;
  },
  totals: (t: TreeDiff['totals']) => {
    const value = talosCounts(Object.entries(t.talos));
    return value ? { label: 'Talos nodes', value } : undefined;
  },
  summary: (e) => (e.talos.length ? `Talos: ${talosSummary(e.talos)}` : undefined),
  column: { title: 'Talos', cell: (e) => talosSummary(e.talos) || '—' },
  text,
  markdown,
  rollout,
};

export const TALOS_DIFF: DistributionDiff = {
  identify: (path, value) => identifyTalosDocument(path, value),
  get nodeConfig() {
    return TALOS_NODE_CONFIG;
  },
  context: (m) => talosDiffContext(m),
  // Every control plane runs an etcd member.
  controlPlanesDown: () => ETCD_CONTROL_PLANES_DOWN,
  impact: (change, ctx) => talosEnvImpact(change, ctx),
  totals: (envs) => talosTotals(envs),
  report: TALOS_DIFF_REPORT,
};
