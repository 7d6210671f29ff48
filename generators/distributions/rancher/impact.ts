/**
 * What applying a changed node config takes in this family, per config target (node or auto-scaled
 * pool), from the rendered `<name>/<target>.yaml` and `<name>/userdata/<target>.yaml`:
 *
 * - The service reads /etc/rancher/<name>/config.yaml when it starts (the shared configfilearg parser):
 *   a changed key applies after rewriting the file on the node and restarting the service: a fixed node's config is
 *   its base-stack parameter (./node-config.ts) and ./apply-config.ts does both, one server at a time; a pool's is in
 *   its launch template, whose new version the nodes stack rolls.
 * - Labels and taints (`node-label`, `node-taint`) are applied only when the node registers; on a
 *   running node they change with kubectl (the docs of both: "node labels and taints are only applied
 *   at registration").
 * - The CNI, kube-proxy's presence, the pod/service CIDRs, the cluster domain and DNS, and the
 *   datastore are fixed when the cluster is created (RancherKeys.fixedAtCreation): changing them
 *   needs the cluster rebuilt.
 * - Anything else in the user-data (boot script, kernel parameters, PSA and audit files, the
 *   release) runs once at first boot: the instance is replaced (or the change made by hand).
 */
import type { EnvDiff } from '../../diff/diff.js';
import { code, ETCD_CONTROL_PLANES_DOWN } from '../../diff/words.js';
import { parseYamlStream } from '../../lib/yaml.js';
import type { DistributionDiff } from '../types.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RolloutStep } from '../../diff/lead.js';
import type { FixedFile, RancherKeys } from './model.js';
import { nodeRef, removalDrain } from '../../lib/k8s-nodes.js';
import { APPLY_CONFIG_SCRIPT } from './apply-config.js';
import { planConsequences } from './plan-consequences.js';
import { USER_DATA_NOT_RUN_ON_START } from '../../infra/aws/instance-updates.js';
import { terminateNodeCommand } from '../../infra/aws/termination.js';
import { NODE_INSTANCE_OUTPUT_PREFIX } from '../../infra/aws/stacks.js';
import { AWS_DIR, STACK_FILES } from '../../infra/aws/deploy.js';
import { BOOT_SETTINGS_PATH, parseBootSettings } from './boot-settings.js';

export type NodeAction = 'rebuild' | 'replace' | 'restart' | 'relabel';
export const NODE_ACTION_ORDER: readonly NodeAction[] = ['rebuild', 'replace', 'restart', 'relabel'];

export const nodeActionText = (keys: RancherKeys): Record<NodeAction, string> => ({
  rebuild: 'rebuild the cluster (a setting fixed at cluster creation changed: CNI, CIDRs, DNS, datastore)',
  replace: 'replace the instance with the new user-data (it runs once, at first boot), or apply the change by hand',
  restart: `a fixed node: sh ${keys.name}/${APPLY_CONFIG_SCRIPT} <node> as root on it once the base stack holds the new config (servers one at a time; it writes ${configPath(keys)} and restarts the ${keys.title} service); a pool: rolled by the nodes stack`,
  relabel: 'kubectl label/taint the node (labels and taints apply only when a node registers)',
});

const RELABEL_KEYS = ['node-label', 'node-taint'];

/** Where the user-data writes the node's config. */
const configPath = (keys: RancherKeys): string => `/etc/rancher/${keys.name}/config.yaml`;

export interface NodeImpact {
  /** Config target: node name or auto-scaled pool. */
  node: string;
  /** A server (control plane), from the head environment's model; absent when unknown. */
  controlPlane?: boolean;
  /** An auto-scaled pool (every instance of it), from the model. */
  pool?: boolean;
  /** The node's IP (fixed nodes), from the model. */
  address?: string;
  /** A removed node that had its own instance (a fixed node: the base tree's nodes stack has its instance output). */
  fixedInstance?: boolean;
  status: 'added' | 'removed' | 'changed';
  headline: NodeAction | 'new node' | 'removed node';
  actions: NodeAction[];
  /** `settings`: the first-boot settings a user-data change changed (key: old → new). */
  reasons: { path: string; action: NodeAction; steps?: string[]; configMoved?: boolean; bootOnly?: boolean; settings?: string[] }[];
}

/** Whether user data writes the node's config file (before nodeupdate, a fixed node's did; since, its parameter holds it). */
function writesConfig(text: string | undefined, path: string): boolean {
  if (text === undefined) return false;
  const data = (parseYamlStream(text)[0] ?? {}) as { write_files?: { path: string }[] };
  return (data.write_files ?? []).some((f) => f.path === path);
}

/**
 * The one-time transition of a fixed node whose config left its user data for its base-stack parameter: the nodes stack
 * stops and starts it once (user data changed: "Some interruptions", CloudFormation one server at a time along the
 * DependsOn chain), and nothing is to be done on it: the running node keeps its config.yaml, the same text as the
 * parameter, and only a replacement's first boot reads the parameter.
 */
const configMovedText = (keys: RancherKeys, node: string): string =>
  `nothing by hand: the nodes stack update stops and starts ${node} once (CloudFormation, one server at a time along the DependsOn chain) with user data that no longer carries its config; the running node keeps ${configPath(keys)}, the same config as its new SSM parameter, which only a replacement's first boot reads (any other change of its boot script in the same merge still takes a replacement)`;

/**
 * A fixed node whose user data changed only in its boot script (the file runcmd runs, once per instance): the nodes
 * stack stops and starts it once with the new user data, which does not run again; the script only ever runs at a
 * first boot (a replacement's), so the running node keeps what its own first boot did and nothing is to be done on it.
 */
const bootOnlyText = (node: string): string =>
  `nothing by hand: the nodes stack update stops and starts ${node} once (CloudFormation, one server at a time along the DependsOn chain) with user data whose only change is its first-boot script, which runs at a first boot only (a replacement's): the running node keeps what its own first boot set up`;

/**
 * What changed in a user data besides its config (which has its own reasons): its first-boot script's code, the
 * settings that script sources (./boot-settings.ts: every value it takes from the environment, so its code carries
 * none), anything else it writes. Exact, from the files: the script is runcmd's first command, its settings the file
 * BOOT_SETTINGS_PATH. A user data from before the settings file (its script carried the values) has `settings`
 * undefined: whether a value changed cannot be told from the files, so that change is no script-only one.
 */
function userDataChange(base: string | undefined, head: string | undefined, configPath: string): { script: boolean; settings: string[] | undefined; moved: boolean; rest: boolean } {
  type Data = { write_files?: { path: string; content?: string }[]; runcmd?: string[][] };
  const parts = (text: string | undefined) => {
    const data = (text === undefined ? {} : (parseYamlStream(text)[0] ?? {})) as Data;
    const script = data.runcmd?.[0]?.[0];
    const files = data.write_files ?? [];
    const settings = files.find((f) => f.path === BOOT_SETTINGS_PATH)?.content;
    return {
      script: files.find((f) => f.path === script)?.content ?? '',
      settings: settings === undefined ? undefined : parseBootSettings(settings),
      rest: JSON.stringify({ ...data, write_files: files.filter((f) => f.path !== configPath && f.path !== script && f.path !== BOOT_SETTINGS_PATH) }),
    };
  };
  const b = parts(base);
  const h = parts(head);
  const settings =
    b.settings === undefined || h.settings === undefined
      ? undefined
      : [...new Set([...Object.keys(b.settings), ...Object.keys(h.settings)])]
          .sort()
          .filter((k) => b.settings![k] !== h.settings![k])
          .map((k) => `${k}: ${b.settings![k] ?? '(none)'} → ${h.settings![k] ?? '(none)'}`);
  return { script: b.script !== h.script, settings, moved: b.settings === undefined && h.settings !== undefined, rest: b.rest !== h.rest };
}

/**
 * The reason of a changed user data: its first-boot script's code alone (bootOnly: nothing by hand on a fixed node), or
 * the generic one, naming the first-boot settings that changed (key: old → new): the running node was set up with the
 * old values at its first boot.
 */
function userDataReason(c: ReturnType<typeof userDataChange>): NodeImpact['reasons'][number] {
  if (!c.rest && c.settings !== undefined && c.settings.length === 0) return { path: 'user-data (its first-boot script only)', action: 'replace', bootOnly: true };
  if (c.settings?.length) return { path: `user-data (first-boot settings: ${c.settings.join('; ')})`, action: 'replace', settings: c.settings };
  return { path: c.moved ? `user-data (its first-boot settings now in ${BOOT_SETTINGS_PATH})` : 'user-data', action: 'replace' };
}

/** The key a distribution of this family adds to an environment's diff (only when a node changed). */
export type RancherDiffEntries<Name extends string> = { [K in Name]?: NodeImpact[] };

const configOf = (text: string | undefined): Record<string, unknown> => (text === undefined ? {} : ((parseYamlStream(text)[0] ?? {}) as Record<string, unknown>));

/** The user-data without the config it embeds (so a config change is not counted twice). */
function userDataRest(text: string | undefined, configPath: string): string {
  if (text === undefined) return '';
  const data = (parseYamlStream(text)[0] ?? {}) as { write_files?: { path: string }[] };
  return JSON.stringify({ ...data, write_files: (data.write_files ?? []).filter((f) => f.path !== configPath) });
}

/** The value a fixed file of the user data holds (undefined when the user data does not write that file). */
function fileValue(text: string | undefined, f: FixedFile): string | undefined {
  if (text === undefined) return undefined;
  const data = (parseYamlStream(text)[0] ?? {}) as { write_files?: { path: string; content?: string }[] };
  const file = (data.write_files ?? []).find((w) => w.path === f.file);
  return file?.content === undefined ? undefined : f.value(parseYamlStream(file.content)[0]);
}

/** Impact of one target's changes. */
export function nodeImpact(keys: RancherKeys, node: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): NodeImpact | undefined {
  const cfg = `${keys.name}/${node}.yaml`;
  const ud = `${keys.name}/userdata/${node}.yaml`;
  if (!base.has(cfg) && head.has(cfg)) return { node, status: 'added', headline: 'new node', actions: [], reasons: [] };
  if (base.has(cfg) && !head.has(cfg)) {
    const fixedInstance = base.get(`${AWS_DIR}/${STACK_FILES.nodes}`)?.includes(`${NODE_INSTANCE_OUTPUT_PREFIX}${node} (`) ?? false;
    return { node, status: 'removed', headline: 'removed node', actions: [], reasons: [], ...(fixedInstance ? { fixedInstance } : {}) };
  }
  const b = configOf(base.get(cfg));
  const h = configOf(head.get(cfg));
  const reasons: NodeImpact['reasons'] = [];
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(h)])].sort()) {
    if (JSON.stringify(b[key]) === JSON.stringify(h[key])) continue;
    reasons.push({ path: key, action: keys.fixedAtCreation.includes(key) ? 'rebuild' : RELABEL_KEYS.includes(key) ? 'relabel' : 'restart' });
  }
  for (const f of keys.fixedFiles?.() ?? []) {
    const from = fileValue(base.get(ud), f);
    const to = fileValue(head.get(ud), f);
    if (from !== undefined && to !== undefined && from !== to) reasons.push({ path: f.what, action: 'rebuild', steps: f.steps(from, to) });
  }
  if (userDataRest(base.get(ud), configPath(keys)) !== userDataRest(head.get(ud), configPath(keys))) {
    const moved = writesConfig(base.get(ud), configPath(keys)) && head.has(ud) && !writesConfig(head.get(ud), configPath(keys));
    reasons.push(
      moved
        ? { path: 'user-data (the config moved to its SSM parameter)', action: 'replace', configMoved: true }
        : userDataReason(userDataChange(base.get(ud), head.get(ud), configPath(keys))),
    );
  }
  if (reasons.length === 0) return undefined;
  const actions = NODE_ACTION_ORDER.filter((a) => reasons.some((r) => r.action === a));
  return { node, status: 'changed', headline: actions[0]!, actions, reasons };
}

/**
 * Impacts of every changed target of one environment (paths relative to rendered/<env>/): the
 * configs with user data beside them (other files of the folder, e.g. a backup tool's, are no node).
 */
export function nodeImpacts(keys: RancherKeys, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): NodeImpact[] {
  const re = new RegExp(`^${keys.name}/([^/]+)\\.yaml$`);
  const isNode = (n: string): boolean => base.has(`${keys.name}/userdata/${n}.yaml`) || head.has(`${keys.name}/userdata/${n}.yaml`);
  const nodes = new Set([...base.keys(), ...head.keys()].map((p) => re.exec(p)?.[1]).filter((n): n is string => n !== undefined && isNode(n)));
  return [...nodes].sort().flatMap((n) => nodeImpact(keys, n, base, head) ?? []);
}

/** What an action of one impact takes: a fixed node's one-time config move is no replacement (configMovedText). */
const actionText = (keys: RancherKeys, i: NodeImpact, a: NodeAction): string =>
  a === 'replace' && !i.pool && i.reasons.some((r) => r.configMoved) ? configMovedText(keys, i.node) : nodeActionText(keys)[a];

export const nodeImpactLines = (keys: RancherKeys, i: NodeImpact): string[] => [
  `${i.node}: ${i.headline}${i.actions.length > 1 ? ` (then ${i.actions.slice(1).join(', ')})` : ''}`,
  ...i.actions.map((a) => `    ${a}: ${actionText(keys, i, a)}`),
  ...i.reasons.map((r) => `    ${r.path}: ${r.action}`),
];

/** What the impact knows of each config target from the head environment's model. */
type Targets = Record<string, { controlPlane: boolean; pool: boolean; address?: string }>;

/** Every user-data reason of a node is a change of its first-boot script alone. */
const bootOnly = (i: NodeImpact): boolean => i.reasons.filter((r) => r.action === 'replace').every((r) => r.bootOnly);

/** The first-boot settings a node's user-data change changed, for its by-hand step ('' when none did). */
const changedSettings = (i: NodeImpact): string => {
  const all = i.reasons.flatMap((r) => r.settings ?? []);
  return all.length ? `; the first-boot settings that changed: ${all.join('; ')}` : '';
};

/** Effect, disruption and commands of one node step for the review comment's lead. */
function rolloutStep(keys: RancherKeys, env: string, i: NodeImpact): RolloutStep {
  const cfg = configPath(keys);
  const host = i.address ?? i.node;
  const effect: Record<NodeImpact['headline'], string> = {
    rebuild: 'cluster rebuild (a setting fixed at creation changed)',
    replace:
      !i.pool && i.reasons.some((r) => r.configMoved)
        ? 'stopped and started once by the nodes stack (its config moves to its SSM parameter)'
        : !i.pool && bootOnly(i)
        ? 'stopped and started once by the nodes stack (only its first-boot script changed)'
        : 'replaced (new user data runs at first boot only)',
    restart: i.pool ? `instances replaced by ones booting the new ${cfg}` : `service restarts with the new ${cfg}`,
    relabel: 'labels or taints change (kubectl)',
    'new node': 'new node: joins with its user data',
    'removed node': i.fixedInstance ? 'removed: drained, deleted and its instance terminated, before the merge' : 'removed: drained and deleted',
  };
  const commands: string[] = [];
  commands.push(...i.reasons.flatMap((r) => r.steps ?? []));
  // A removed fixed node's instance is terminated before the merge: a server's carries termination protection
  // (infra/aws/termination.ts), which the merge's nodes stack update cannot get past (its cleanup skips the instance,
  // whose server runs on and registers its Node again); deploy.sh nodes refuses that update (deploy.ts removedGate).
  if (i.status === 'removed') commands.push(removalDrain(nodeRef(i.node, i.address)), `kubectl delete node ${nodeRef(i.node, i.address)}`, ...(i.fixedInstance ? [`${terminateNodeCommand(env, i.node)} (before the merge: a server's instance carries termination protection, which the merge's stack update cannot get past)`] : []));
  // A fixed node's config is its base-stack parameter (./node-config.ts): the merge changes the value and stops no
  // instance; apply-config.sh brings the running node to it (one server at a time, gated: ./apply-config.ts). A pool's
  // is in its launch template: the nodes stack's instance refresh replaces its instances.
  else if (i.actions.includes('restart'))
    commands.push(
      i.pool
        ? `nothing by hand: the nodes stack update rolls pool ${i.node} (instance refresh: each instance is replaced by one that boots with the new config)`
        : `after the base stack update (it writes the node's config parameter; no instance stops): ssh ${host} sudo sh -s -- ${i.node} < rendered/${env}/${keys.name}/${APPLY_CONFIG_SCRIPT}`,
    );
  if (i.actions.includes('relabel')) commands.push(`kubectl label node ${nodeRef(i.node, i.address)} --overwrite KEY=VALUE and kubectl taint node ${nodeRef(i.node, i.address)} KEY=VALUE:EFFECT, for each new node-label and node-taint of rendered/${env}/${keys.name}/${i.node}.yaml`);
  // A pool's new user data is a new launch template version, which the nodes stack update rolls through an instance
  // refresh (AutoScalingInstanceRefresh). A fixed node is an AWS::EC2::Instance: CloudFormation stops and starts it
  // with the new user data (UserData: "Some interruptions"), which cloud-init does not run again (once per instance,
  // diff/aws-impact.ts), and nothing relaunches a fixed instance that was terminated by hand, except a raised
  // nodes[].replacement (a new logical id: infra/aws/stacks.ts), the README's replacement runbook.
  if (i.actions.includes('replace'))
    commands.push(
      !i.pool && i.reasons.some((r) => r.configMoved)
        ? configMovedText(keys, i.node)
        : !i.pool && bootOnly(i)
        ? bootOnlyText(i.node)
        : i.pool
        ? `nothing by hand: the nodes stack update rolls pool ${i.node} (instance refresh: each instance is replaced by one that boots with the new user data)`
        : `the nodes stack update stops and starts ${i.node} with the new user data, which does not run again (once per instance): make the change on the node by hand (ssh ${host}${changedSettings(i)}), or replace the node with a reviewed change (README "Replacing a lost fixed node": deploy.sh terminate-node ${i.node}, its cluster-side step, then raise nodes[].replacement); do not terminate the instance otherwise — nothing else relaunches a fixed node`,
    );
  return {
    node: i.node,
    ...(i.pool ? { pool: true } : {}),
    controlPlane: i.controlPlane ?? false,
    effect: effect[i.headline],
    disruptive: i.status === 'removed' || i.actions.some((a) => a !== 'relabel'),
    commands,
    // etcd and the API back before the next server: every server's Node Ready again (by label: a Node is named after
    // its EC2 private DNS name, not the environment's node name).
    ...(i.controlPlane && i.status !== 'removed' ? { gate: 'kubectl wait node -l node-role.kubernetes.io/control-plane=true --for=condition=Ready --timeout=10m' } : {}),
  };
}

/**
 * What the servers down together take with them, by datastore: embedded etcd, its quorum; Kine on PostgreSQL, only the
 * API (the database is outside the cluster: no quorum among the servers, which are peers on it); Kine on SQLite, the
 * single server's API and datastore together.
 */
export function rancherControlPlanesDown(m: EnvironmentModel): string {
  const d = m.cluster.datastore;
  if (d.type === 'kine-postgres') return 'the API, until one of them is back; the datastore, PostgreSQL outside the cluster, has no quorum among them to lose';
  if (d.type === 'kine-sqlite') return 'the API and the datastore, SQLite on the single server';
  return ETCD_CONTROL_PLANES_DOWN;
}

/**
 * What a fixed node's changed user data does, for the AWS part of the diff (instead of the generic MAYBE text, whose
 * "by hand" does not hold for a config): CloudFormation stops and starts the instance (UserData: "Some interruptions")
 * for nothing (USER_DATA_NOT_RUN_ON_START, the one wording); its config is its SSM parameter, which apply-config.sh
 * brings to the running node (./node-config.ts, ./apply-config.ts), and its first-boot script and settings reach it
 * only through a replacement (nodes[].replacement, the README's replacement runbook); the node's own impact (above)
 * says whether its change is a script-only one (nothing by hand) or a setting's (which one).
 */
export const rancherFixedUserData = (keys: RancherKeys): string =>
  `CloudFormation stops and starts the instance (the servers one at a time along the DependsOn chain); ${USER_DATA_NOT_RUN_ON_START}. The node keeps ${configPath(keys)}, whose changes reach it from its SSM parameter through ${keys.name}/${APPLY_CONFIG_SCRIPT}; a changed first-boot script or setting takes effect on a replacement only (nodes[].replacement: README "Replacing a lost fixed node"), and the node's ${keys.title} impact says whether anything is to be done on it by hand`;

/** The diff part of a distribution of this family: per-node impact under its own key. */
export function rancherDiff(keys: RancherKeys): DistributionDiff {
  const of = (e: EnvDiff): NodeImpact[] => (e as unknown as RancherDiffEntries<string>)[keys.name] ?? [];
  return {
    controlPlanesDown: rancherControlPlanesDown,
    fixedUserData: () => rancherFixedUserData(keys),
    context: (m): Targets =>
      Object.fromEntries(m.configTargets.map((t) => [t.name, { controlPlane: t.pool.role === 'controlplane', pool: !t.node, ...(t.node ? { address: t.node.ip } : {}) }])),
    impact: ({ base, head }, context) => {
      const targets = (context ?? {}) as Targets;
      const impacts = nodeImpacts(keys, base, head).map((i) => (targets[i.node] ? { ...i, ...targets[i.node] } : i));
      return { entries: impacts.length > 0 ? { [keys.name]: impacts } : {}, nodes: impacts.length };
    },
    report: {
      actions: NODE_ACTION_ORDER,
      text: (e) => (of(e).length ? [`${keys.title} impact:`, ...of(e).flatMap((ni) => nodeImpactLines(keys, ni).map((l) => `  ${l}`))] : []),
      markdown: (e) => {
        if (!of(e).length) return [];
        const rows = ['| node | impact | what it takes |', '|---|---|---|'];
        for (const n of of(e)) rows.push(`| ${code(n.node)} | **${n.headline}** | ${n.actions.map((a) => actionText(keys, n, a)).join('; then ') || '—'} |`);
        return [[`**${keys.title} impact**`, '', ...rows, '']];
      },
      rollout: (e) => ({ steps: of(e).map((i) => rolloutStep(keys, e.env, i)) }),
      consequences: planConsequences,
    },
  };
}
