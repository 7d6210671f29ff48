/**
 * The Talos part of the semantic diff (Distribution.diff) and of its reports (text and the PR comment's
 * Markdown): per node what applying its changed config takes, the talosctl commands in order, then the once-per-cluster steps.
 */
import type { EnvDiff, TreeDiff } from '../../diff/diff.js';
import { cell, code, plural } from '../../diff/words.js';
import type { DistributionDiff, DistributionDiffReport } from '../types.js';
import { ACTION_ORDER, ACTION_TEXT, identifyTalosDocument, TALOS_NODE_CONFIG, talosDiffContext, talosEnvImpact, talosTotals, type ClusterStep, type TalosImpact } from './diff.js';
import { workDir } from './operations.js';

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

const nodesArg = (t: TalosImpact): string => (t.pool ? `<each node of pool ${t.node}>` : t.address ?? t.node);
const configFile = (env: string, t: TalosImpact): string => `${workDir(env)}/${t.node}.yaml`;

/** The commands one node (or pool) needs, in the order to run them; cluster steps are separate. */
export function nodeCommands(env: string, t: TalosImpact): string[] {
  const n = nodesArg(t);
  const file = configFile(env, t);
  if (t.status === 'added') return t.pool ? [`sh rendered/${env}/aws/talos-join.sh ${t.node} (for each instance the pool launches)`] : [`talosctl apply-config --insecure --nodes ${n} --file ${file}`];
  if (t.status === 'removed') return t.pool ? [`drain and delete the pool's nodes, then talosctl reset --nodes ${n}`] : [`kubectl drain ${t.node} --ignore-daemonsets --delete-emptydir-data`, `kubectl delete node ${t.node}`, `talosctl reset --nodes ${n}`];
  const out: string[] = [];
  const a = new Set(t.actions);
  if (a.has('reboot')) out.push(`talosctl apply-config --nodes ${n} --file ${file} --mode auto (reboots)`);
  else if (a.has('no-reboot') || a.has('sync-manifests') || a.has('upgrade')) out.push(`talosctl apply-config --nodes ${n} --file ${file}`);
  if (a.has('upgrade')) out.push(`talosctl upgrade --nodes ${n} --image ${t.installImage ?? '<machine.install.image>'}`);
  if (t.pool && out.length > 0) out.push(`new instances of the pool get it from sh rendered/${env}/aws/talos-join.sh ${t.node}`);
  return out;
}

export function clusterCommand(s: ClusterStep): string {
  return `talosctl upgrade-k8s --nodes ${s.via ?? '<a control plane>'} --to ${s.to ?? '<version>'}`;
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
  for (const s of e.cluster) out.push(`  cluster: ${clusterStepText(s)}`, `    $ ${clusterCommand(s)}`);
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
  for (const s of e.cluster) items.push([`**Cluster step** (${clusterStepText(s)}): ${code(clusterCommand(s))}`, '']);
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
};

export const TALOS_DIFF: DistributionDiff = {
  identify: (path, value) => identifyTalosDocument(path, value),
  get nodeConfig() {
    return TALOS_NODE_CONFIG;
  },
  context: (m) => talosDiffContext(m),
  impact: (change, ctx) => talosEnvImpact(change, ctx),
  totals: (envs) => talosTotals(envs),
  report: TALOS_DIFF_REPORT,
};
