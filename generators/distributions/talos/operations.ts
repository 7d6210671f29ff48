/**
 * The exact talosctl commands for an environment's nodes: first apply, bootstrap, upgrades, etcd
 * snapshot and restore, kubeconfig. Pure: the CLI prints them, the README lists them.
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { readmeContext } from '../../render/readme/readme.js';
import type { ReadmeContext } from '../../render/readme/sections.js';
import { nodeLabels } from './machineconfig.js';
import { nodeNameByAddress } from '../../lib/k8s-nodes.js';
import { TALOS_DRAIN, TALOS_ETCD_HEALTHY, TALOS_ETCD_MEMBERS } from './release.js';
import { PORTABLE_BOUNDED } from '../../lib/portable-shell.js';

export interface CommandStep {
  title: string;
  /** Which part of the cluster's life the step belongs to (the runbook picks steps by it). */
  phase?: 'bootstrap' | 'upgrade-k8s' | 'snapshot' | 'restore';
  /** Shell lines; `#` lines explain. */
  lines: string[];
}

/** Working directory for materialized configs and the talosconfig: outside the repository. */
export const workDir = (env: string): string => `$HOME/.odp/${env}`;

/** The Node of an address or a quoted shell variable, as a quoted shell word. */
const nodeName = (node: string): string => `"${nodeNameByAddress(node.replace(/^"(.*)"$/, '$1'))}"`;
/** kubectl drain of that Node as the budgets allow, bounded (release.ts TALOS_DRAIN). */
const drain = (node: string): string => `kubectl drain ${nodeName(node)} ${TALOS_DRAIN.options} --timeout=${TALOS_DRAIN.timeout}`;

/**
 * A changed config by hand: live when Talos can; else drained (a Talos reboot stops pods without evicting them:
 * runbook.ts APPLY_NODE), staged, rebooted with `talosctl reboot`, which waits until the node is back (`--mode auto`
 * returns with the reboot only scheduled), and uncordoned. `node` is an address or a quoted shell variable.
 */
const applyChanged = (node: string, file: string): string =>
  `talosctl apply-config --nodes ${node} --file ${file} --mode no-reboot || { ${drain(node)} && talosctl apply-config --nodes ${node} --file ${file} --mode staged && talosctl reboot --nodes ${node} && kubectl uncordon ${nodeName(node)}; }`;

function poolNodesExpr(model: EnvironmentModel, t: ConfigTarget): string {
  const value = nodeLabels(model, t)['node.opendev.dev/pool'];
  return `$(kubectl get nodes -l node.opendev.dev/pool=${value} -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}')`;
}

/**
 * `any_cp CMD…`: CMD… --nodes CP, once, through the first control plane whose Talos API answers. The talosconfig's
 * endpoints are every control plane (`config endpoint` above; `--endpoints A,B,C` does the same for one call): with
 * several, talosctl dials `talosroundrobin:///A,B,C` (T@v1.13.9 pkg/machinery/client/connection.go:170-176), a
 * resolver that hands gRPC all of them, shuffled, under the round_robin balancer (resolver/roundrobin.go:64-104), which
 * sends each call over a connection that is up: an endpoint that is down costs nothing. But that only picks the hop: the
 * node a call acts on is `--nodes`, which the endpoint's apid forwards to, and a kubeconfig fetch, a server-side health
 * check, upgrade-k8s and an etcd snapshot act on one node and take it from `--nodes` or the talosconfig context's nodes,
 * refusing none ("nodes are not set for the command": cmd/talosctl/pkg/talos/global/client.go:83-110; kubeconfig.go:45,
 * health.go:113, upgrade-k8s.go:31, etcd.go:340-341 use WithClient; the snapshot also refuses several nodes). With the first control plane down, `--nodes <first>`
 * fails through any endpoint: so the node is picked here, among the control planes, by asking each one's version.
 * The scripts and the README's steps share it (the setup defines it); a message goes to stderr.
 * `etcd_cp CMD…` does the same for the calls that need etcd (the etcd snapshot, upgrade-k8s, the cluster health check):
 * through the first control plane whose etcd is healthy (release.ts TALOS_ETCD_HEALTHY: the service Running with its
 * quorum check passing, the local member seeing a leader), not merely one whose Talos API answers (its etcd may be
 * down, or cut off from the others); with none, it says so and goes through any_cp (the command then says why it fails).
 * `cp_preparing` picks the restore's bootstrap node among the control planes in Preparing, so a restore needs no
 * particular one (the first may be the one replaced or still booting).
 */
export const ANY_CP = (cps: string[]): string[] => [
  ...PORTABLE_BOUNDED,
  `CPS='${cps.join(' ')}'`,
  '# cp_answers CP: its Talos API answers. cp_etcd CP: its etcd service Running and healthy, its member seeing a leader.',
  'cp_answers() { talosctl version --nodes "$1" >/dev/null 2>&1 && return 0; echo "control plane $1: its Talos API does not answer" >&2; return 1; }',
  `cp_etcd() { cp_answers "$1" || return 1; cp_svc=$(talosctl service etcd --nodes "$1" 2>/dev/null) && printf '%s\\n' "$cp_svc" | grep -q '^STATE  *${TALOS_ETCD_HEALTHY.state}' && printf '%s\\n' "$cp_svc" | grep -q '^HEALTH  *${TALOS_ETCD_HEALTHY.health}' && ${TALOS_ETCD_MEMBERS} --nodes "$1" >/dev/null 2>&1 && return 0; echo "control plane $1: its etcd is not ${TALOS_ETCD_HEALTHY.state} and healthy (talosctl service etcd / etcd members --nodes $1)" >&2; return 1; }`,
  '# cp_preparing CP: its etcd waits for a bootstrap (a restore\'s --recover-from).',
  `cp_preparing() { talosctl service etcd --nodes "$1" 2>/dev/null | grep -q '^STATE  *Preparing' && return 0; echo "control plane $1: its etcd is not Preparing" >&2; return 1; }`,
  '# pick_cp TEST CP…: the first CP that passes TEST (each one that does not is said).',
  'pick_cp() { cp_test=$1; shift; for cp in "$@"; do if "$cp_test" "$cp"; then echo "$cp"; return 0; fi; done; return 1; }',
  '# any_cp CMD…: CMD --nodes CP, once, through the first control plane whose Talos API answers (the first one may be down).',
  'any_cp() { cp=$(pick_cp cp_answers $CPS) || { echo "no control plane answers" >&2; return 1; }; "$@" --nodes "$cp"; }',
  '# etcd_cp CMD…: the same through the first control plane whose etcd is healthy (a snapshot, upgrade-k8s, health); else, said, any_cp.',
  'etcd_cp() { cp=$(pick_cp cp_etcd $CPS) || { echo "no control plane has a healthy etcd: through the first one that answers" >&2; any_cp "$@"; return; }; "$@" --nodes "$cp"; }',
];

export function setupSteps(model: EnvironmentModel): CommandStep[] {
  const dir = workDir(model.name);
  const cps = model.controlPlaneNodes.map((n) => n.ip);
  return [
    {
      title: 'Talos client configuration',
      lines: [
        `mkdir -p -m 700 ${dir}`,
        `npm run talos -- secrets export --env ${model.name} --out ${dir}/secrets.yaml`,
        // --force: every script (and the README's bootstrap) starts with this setup, and gen config refuses a file that
        // exists without it (T@v1.13.9 cmd/talosctl/cmd/mgmt/gen/gen.go:32-41, the same at v1.12.11): the talosconfig is
        // derived from the secrets, so writing it anew loses nothing (`config endpoint` below sets its endpoints again).
        `talosctl gen config ${model.cluster.name} ${model.cluster.endpoint} --with-secrets ${dir}/secrets.yaml --output-types talosconfig --force -o ${dir}/talosconfig`,
        `export TALOSCONFIG=${dir}/talosconfig`,
        `talosctl config endpoint ${cps.join(' ')}`,
        ...ANY_CP(cps),
      ],
    },
  ];
}

/** The one command of a fixed node's Talos upgrade (the README's per-node step): the upgrade script for that node. */
export const upgradeNodeCommand = (env: string, node: string): string => `npm run -s talos -- commands --env ${env} upgrade --node ${node} | sh`;

export function targetSteps(model: EnvironmentModel, t: ConfigTarget): CommandStep[] {
  const dir = workDir(model.name);
  const file = `${dir}/${t.name}.yaml`;
  const materialize = `npm run talos -- config --env ${model.name} --node ${t.name} --out ${file}`;
  if (!t.node) {
    const nodes = poolNodesExpr(model, t);
    return [
      {
        title: `${t.name}: launch (auto-scaled pool)`,
        // New pool instances boot in maintenance mode and wait under the launch lifecycle hook of the
        // nodes stack; the join script applies the pool's config to each and lets it go InService.
        lines: [`sh ${model.renderedDir}/aws/talos-join.sh ${t.name}`],
      },
      {
        title: `${t.name}: apply a changed config to running nodes`,
        lines: [materialize, `for n in ${nodes}; do ${applyChanged('"$n"', file)}; done`],
      },
      {
        // Never in place: the new version's AMI in the launch template replaces the pool (runbook.ts poolUpgradeLines).
        title: `${t.name}: upgrade Talos`,
        lines: [
          '# the nodes stack update (new AMI) replaces the instances through an instance refresh; join the replacements',
          `sh ${model.renderedDir}/aws/talos-join.sh ${t.name}`,
        ],
      },
    ];
  }
  const ip = t.node.ip;
  return [
    {
      title: `${t.name}: first apply (node in maintenance mode)`,
      lines: [materialize, `talosctl apply-config --insecure --nodes ${ip} --file ${file}`],
    },
    {
      title: `${t.name}: apply a changed config`,
      lines: [
        materialize,
        `talosctl apply-config --nodes ${ip} --file ${file} --dry-run`,
        applyChanged(ip, file),
      ],
    },
    {
      // The upgrade script for this node alone (runbook.ts upgradeScript): gated, drained by kubectl (Talos' own drain
      // would reboot through a budget on 1.12: release.ts upgradeDrainOnBudget), upgraded with the config it runs,
      // uncordoned, gated; then the new version's config (release.ts TALOS_UPGRADE_ORDER). A failed upgrade is diagnosed
      // there (upgrade_failed: where it left the node, and the next step), which hand-typed lines could not do.
      title: `${t.name}: upgrade Talos`,
      lines: [upgradeNodeCommand(model.name, t.name)],
    },
  ];
}

/** The engine the steps hand over to (its bootstrap script): the environment's, unless given. */
type EngineFacts = ReadmeContext['engine'];

export function clusterSteps(model: EnvironmentModel, engine: EngineFacts = readmeContext(model).engine): CommandStep[] {
  const dir = workDir(model.name);
  const first = model.controlPlaneNodes[0];
  if (!first) return [];
  const cps = model.controlPlaneNodes;
  // Every step below but the first bootstrap goes through a control plane that answers (any_cp, defined by the setup), the
  // ones that need etcd (health, upgrade-k8s, the snapshot) through one whose etcd is healthy (etcd_cp).
  const health = 'etcd_cp talosctl health --wait-timeout 15m';
  // With cluster.network.cni none (Cilium), nodes stay NotReady until the CNI runs, so `health`
  // cannot pass before bootstrap.sh has installed it; and Talos reboots a node whose kubelet is
  // still waiting after 10 minutes (the Talos Cilium guide: "will reboot the node to retry after
  // 10 minutes, this is expected behavior") — install it right after the kubeconfig.
  const cniByBootstrap = model.cluster.network.cni === 'cilium';
  return [
    {
      title: 'Bootstrap etcd (once, on the first control plane only)',
      phase: 'bootstrap',
      // One named node, never "any that answers": bootstrap makes that node's etcd a new single-member cluster the
      // others join (T@v1.13.9 cmd/talosctl/cmd/talos/bootstrap.go:28-33, refusing more than one node :41-43); run on another node
      // too (the first one slow to answer) it would be a second cluster. The first control plane is that node.
      // The first apply must have reached it: without it there is nothing to bootstrap.

      lines: [`talosctl bootstrap --nodes ${first.ip}`, ...(cniByBootstrap ? [] : [health])],
    },
    { title: 'kubeconfig', phase: 'bootstrap', lines: [`any_cp talosctl kubeconfig ${dir}/kubeconfig`, `export KUBECONFIG=${dir}/kubeconfig`] },
    ...(cniByBootstrap
      ? [
          {
            // `nodes`: only the releases nodes need to become Ready; the engine's pods wait for workers (BOOTSTRAP_PRELUDE).
            title: `Cilium and the cloud controller, right away (no CNI yet: nodes stay NotReady, and Talos reboots a node still waiting after 10 minutes); ${model.fleet.hub ? `the hub's access (${model.fleet.hub.name} manages this cluster)` : engine.title} once workers have joined`,
            phase: 'bootstrap' as const,
            lines: [`sh ${model.renderedDir}/${engine.bootstrapScript} nodes`, health],
          },
        ]
      : []),
    {
      title: 'Upgrade Kubernetes',
      phase: 'upgrade-k8s',
      lines: [`etcd_cp talosctl upgrade-k8s --to ${model.cluster.kubernetesVersion} --dry-run`, `etcd_cp talosctl upgrade-k8s --to ${model.cluster.kubernetesVersion}`],
    },
    { title: 'etcd snapshot', phase: 'snapshot', lines: [`etcd_cp talosctl etcd snapshot ${dir}/etcd-$(date -u +%Y%m%dT%H%M%SZ).snapshot`] },
    {
      title: 'etcd restore (all control planes lost or quorum gone)',
      phase: 'restore',
      lines: [
        '# Snapshots from the etcd-backup add-on are age-encrypted (and maybe zstd-compressed): decrypt first.',
        `# age -d -i age-key.txt <cluster>-<time>.snap.age > ${dir}/db.snapshot`,
        ...cps.map((n) => `talosctl reset --nodes ${n.ip} --graceful=false --reboot --system-labels-to-wipe EPHEMERAL`),
        '# every control plane (replaced instances: first apply with --insecure instead of reset) must show etcd "Preparing"',
        ...cps.map((n) => `talosctl service etcd --nodes ${n.ip}`),
        '# for a db copied out of a data directory add --recover-skip-hash-check; the script: commands --env <env> restore',
        '# one node (every control plane waits in Preparing, all of them reached above): a second would be a second cluster;',
        '# the first control plane in Preparing (any of them: the restore needs no particular one)',
        `talosctl bootstrap --nodes "$(pick_cp cp_preparing $CPS)" --recover-from ${dir}/db.snapshot`,
        health,
      ],
    },
  ];
}

/** All steps (or one target's), as shell text. */
export function commandsText(model: EnvironmentModel, targetName?: string, engine: EngineFacts = readmeContext(model).engine): string {
  const targets = targetName ? model.configTargets.filter((t) => t.name === targetName) : model.configTargets;
  const first = model.controlPlaneNodes[0];
  // With --node: the cluster-wide steps only for the first control plane (it bootstraps etcd).
  const cluster = !targetName || (first && targets[0]?.node?.name === first.name) ? clusterSteps(model, engine) : [];
  const steps = [...setupSteps(model), ...targets.flatMap((t) => targetSteps(model, t)), ...cluster];
  return steps.map((s) => `# ${s.title}\n${s.lines.join('\n')}\n`).join('\n');
}
