/**
 * The Talos runbook as scripts, one per phase of a cluster's life (`npm run talos -- commands --env E
 * <phase>`): POSIX sh, `set -eu`, safe to pipe to a shell, in the runbook's order. Pure.
 *
 * Sources (research/day2.md §10-11; Talos v1.12.11 / v1.13.9, siderolabs/docs 5debdd92):
 * - `talosctl health` runs server-side on the one node given and needs that node's Kubeconfig API,
 *   which only control planes serve ("… is only available on control plane nodes": v1.13.9
 *   v1alpha1_cluster.go lines 34-37; v1.12.11 fails until the timeout): every gate names a control
 *   plane, and checks the whole cluster from there (workers included: pkg/cluster/check/default.go).
 * - `etcd members` asks the node's local etcd with WithRequireLeader (v1alpha1_server.go lines
 *   1827-1840): it fails while that member sees no leader, a quorum gate; control planes only.
 * - Talos 1.13's default upgrade API (LifecycleService.Upgrade) has no etcd quorum check (upgrade.go
 *   lines 86-131; lifecycle.go): the script upgrades control planes one at a time and waits for etcd
 *   and the cluster's health between them itself. `--preserve` would skip 1.12's check: never passed.
 * - Disaster recovery (disaster-recovery.mdx, identical in 1.12 and 1.13): every control plane reset
 *   (lines 93-103) or, when replaced, re-created from its config; all in etcd `Preparing` (lines
 *   105-112) before `bootstrap --recover-from` (127-133), with `--recover-skip-hash-check` for a
 *   `db` copied out of the data directory; the others join once the endpoint is up (line 147). A control plane lost for
 *   good is replaced (a new instance at its address, REPLACED), never left out: the recovering node restores the snapshot
 *   as a one-member cluster (T@v1.13.9 internal/app/machined/pkg/system/services/etcd.go:571-595, InitialCluster of
 *   itself alone, :590), and each other control plane joins as a new member (buildInitialCluster/addMember, :327-363),
 *   so no stale member needs `talosctl etcd remove-member`; left out, it would still be a Node of the restored API and a
 *   control plane of every rendered config, and the cluster's health checks would wait for it.
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { shQuote } from '../../render/delivery/bootstrap.js';
import { readmeContext } from '../../render/readme/readme.js';
import { ANY_CP, clusterSteps, setupSteps, workDir, type CommandStep } from './operations.js';
import type { NodeUpdateFacts } from '../../infra/aws/facts.js';
import { PROTECTED_ROLE, terminateNodeCommand } from '../../infra/aws/termination.js';
import { classImages } from './nodeclass.js';
import { POOL_NODE_LABEL, talosCluster, talosPool } from './model.js';
import { NODE_ADDRESS_LIST } from '../../lib/k8s-nodes.js';
import { TALOS_DRAIN, TALOS_ETCD_MEMBERS, TALOS_ETCD_MEMBERS_SECONDS, TALOS_MEMBERSHIP, TALOS_UPGRADE_FAILURE, talosContract } from './release.js';
import { drainFunctions } from '../../lib/node-drain.js';

/** The phases, in the runbook's order. */
export const RUNBOOK_PHASES = ['bootstrap', 'apply', 'upgrade', 'upgrade-k8s', 'restore'] as const;
export type RunbookPhase = (typeof RUNBOOK_PHASES)[number];

const q = shQuote;

/** Shell functions every script shares: polling with a deadline ($ODP_POLL seconds between tries). */
const PRELUDE = (tag: string): string[] => [
  'set -eu',
  `log() { echo "${tag}: $*" >&2; }`,
  '# Retry "$@" until it succeeds, at most $TRIES times, $ODP_POLL seconds apart.',
  'TRIES=${ODP_TRIES:-60}',
  '# On giving up, what the last try said (why it failed) goes to stderr.',
  'retry() { n=0; until out=$("$@" 2>&1); do n=$((n + 1)); [ "$n" -lt "$TRIES" ] || { printf \'%s\\n\' "$out" >&2; retried="$*"; log "gave up waiting: ${retried#bounded [0-9]* }"; return 1; }; sleep "${ODP_POLL:-10}"; done; }',
];

const linesOf = (steps: CommandStep[]): string[] => steps.flatMap((s) => [`# ${s.title}`, ...s.lines]);

/** The materialized config of a target, outside the repository. */
const materialize = (m: EnvironmentModel, t: ConfigTarget): string => `npm run talos -- config --env ${m.name} --node ${t.name} --out ${workDir(m.name)}/${t.name}.yaml`;

/** A pool's node addresses, asked of the cluster. */
const poolNodes = (t: ConfigTarget): string => `$(kubectl get nodes -l ${POOL_NODE_LABEL}=${t.pool.name} -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}')`;

/** `addr WORD`: refuses a word that is not an IP address before it reaches talosctl. */
const ADDR = `addr() { case "$1" in '' | *[!0-9a-fA-F.:]*) log "not an address: $1"; return 1 ;; esac; }`;

/**
 * Any control plane, and the nodes the loop cannot reach. talosctl reaches every node through the talosconfig's
 * endpoints, which the setup sets to every control plane (`talosctl config endpoint`): the client resolves them all,
 * shuffled, under gRPC's round_robin balancer, which uses only the connections that are up (T@v1.13.9 and T@v1.12.11
 * pkg/machinery/client/resolver/roundrobin.go:64-104), and apid on that endpoint proxies a `--nodes` call to the node.
 * So one control plane down costs no call that names another node. `any_cp CMD…` (defined by the setup, for the README's
 * steps too: operations.ts ANY_CP) runs `CMD… --nodes <cp>` once, through the first control plane whose Talos API
 * answers (a kubeconfig fetch, a health check, upgrade-k8s need one node, and the first may be the one down). `reach IP NAME` says whether a node answers; one that does not is named, skipped (nothing
 * done to it) and listed at the end, the script then failing: the loop goes on to the next node, and stops at the
 * next gate that fails (an unreachable control plane or a NotReady Node fails every gate: see gateLines).
 */
const REACH = [
  'UNREACHED=',
  "reach() { talosctl version --nodes \"$1\" >/dev/null 2>&1 && return 0; log \"$2 ($1): its Talos API does not answer through any control plane: skipped, nothing done to it\"; UNREACHED=\"${UNREACHED:+$UNREACHED }$2\"; return 1; }",
  "unreached() { [ -z \"$UNREACHED\" ] || log \"not reached, nothing done to them: $UNREACHED; run this script again once they answer\"; }",
];
const END_OF_LOOP = ['unreached', '[ -z "$UNREACHED" ] || exit 1'];

/**
 * The gate after any node's change: etcd has a leader on EVERY control plane (a quorum gate: with one member down,
 * another control plane down would cost etcd its quorum, so the script stops there and names it), then `talosctl
 * health` through the first control plane whose etcd is healthy (etcd_cp), told which nodes to expect: the control planes and the
 * workers the Kubernetes API lists now. Without the lists health expects discovery's members (T@v1.13.9
 * internal/app/machined/internal/server/v1alpha1/v1alpha1_cluster.go:126-163: explicit lists first, else the
 * discovery service; cmd/talosctl/cmd/talos/health.go:150-165, flags :216-219; identical at v1.12.11), and an instance a
 * pool's refresh terminated stays a member until its affiliate's TTL expires, 30 minutes (audit12: discovery_service.go
 * :40, 272-277): every gate after a refresh would wait that out. With the lists, a Node that is not Ready or still
 * cordoned still fails it (K8sAllNodesReadyAssertion and K8sAllNodesSchedulableAssertion list every Node:
 * pkg/cluster/check/kubernetes.go:216-260; default.go:25-81), and so does a listed node whose Talos API or kubelet
 * does not answer (default.go:140-196). What it gives up, a Talos member with no Node, is the restore's concern: its
 * health check keeps discovery (restoreScript). The gate runs after every change and, through `ready`, before the first
 * one (the cluster must be healthy before a node is changed or goes down): a control plane or a Node that is down fails
 * it, so the per-node loop never changes a node past a node it could not reach (REACH).
 */
function gateLines(m: EnvironmentModel, cps = m.controlPlaneNodes): string[] {
  return [
    '# health: the cluster through a control plane, expecting the control planes and the workers the API lists now.',
    'health() {',
    `  listed=$(kubectl get nodes -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}') || return 1`,
    '  workers=',
    '  for n in $listed; do addr "$n" || return 1; case " $CPS " in *" $n "*) continue ;; esac; workers="${workers:+$workers,}$n"; done',
    `  etcd_cp talosctl health --wait-timeout 10m --control-plane-nodes ${cps.map((n) => n.ip).join(',')} \${workers:+--worker-nodes "$workers"}`,
    '}',
    '# gate: after every change, and before the first one (ready): a gate that fails stops the script.',
    'GATED=',
    `gate() {`,
    '  GATED=',
    ...cps.map((n) => `  retry ${TALOS_ETCD_MEMBERS} --nodes ${n.ip} || { log ${q(`control plane ${n.name} (${n.ip}): its etcd has no leader, or its Talos API does not answer: another control plane down now would cost etcd its quorum; bring it back (or replace it), then run this script again`)}; unreached; return 1; }`),
    '  retry health || { log "the cluster is not healthy (talosctl said why above): nothing more is changed"; unreached; return 1; }',
    '  GATED=yes',
    '}',
    '# ready: the cluster passed a gate since the last change (else the gate now), before a node is changed.',
    'ready() { [ -n "$GATED" ] || gate; }',
  ];
}

/**
 * An auto-scaled pool during a Talos upgrade. Never upgraded in place: the nodes stack update that comes with
 * the new version (at the merge with Git sync, or deploy.sh nodes) points its launch template at the new AMI
 * (`/odp/images/talos/<version>/…`), and CloudFormation's AutoScalingInstanceRefresh replaces every instance
 * (100 % minimum healthy: a replacement first; one at a time, infra/aws/roll.ts). The replacements boot the new version in maintenance mode and
 * wait under the launch hook for talos-join.sh; the refresh terminates an old instance only once its replacement
 * is InService (through the termination hook's drain). An in-place `talosctl upgrade` of an old instance would be
 * lost work at best, and a reboot under a drain or a termination at worst. Done when every Node of the pool runs
 * the version: Talos' os-release PRETTY_NAME is "Talos (<tag>)" (T@v1.13.9:pkg/machinery/version/osrelease.go:15-27
 * OSReleaseFor(Name, Tag), constants.OSReleaseTemplate), which the kubelet reports as the Node's osImage; an
 * old instance's Node goes when the cloud controller sees it terminated.
 */
function poolUpgradeLines(m: EnvironmentModel, pools: ConfigTarget[]): string[] {
  if (pools.length === 0) return [];
  const version = talosCluster(m).version;
  const join = `${m.renderedDir}/aws/talos-join.sh`;
  return [
    '# Auto-scaled pools: never upgraded in place. The nodes stack update that comes with this version (the merge, with',
    '# Git sync; or deploy.sh nodes) points their launch templates at its AMI and starts an instance refresh: the',
    '# replacements boot it in maintenance mode and wait under the launch hook until talos-join.sh applies their config;',
    '# the refresh retires each old instance (drained) once its replacement is InService. Done when every Node of the',
    `# pool reports osImage "Talos (${version})" (Talos' os-release PRETTY_NAME).`,
    'POOL_TRIES=${ODP_POOL_TRIES:-180}',
    'refresh_pool() {',
    '  k=0',
    '  join=yes',
    '  while :; do',
    `    if [ -n "$join" ]; then sh ${join} "$1" || { log "pool $1: the instances named above did not join; fix them, then run this script again"; return 1; }; fi`,
    `    images=$(kubectl get nodes -l ${POOL_NODE_LABEL}="$1" -o jsonpath='{range .items[*]}{.status.nodeInfo.osImage}{"\\n"}{end}') || { log "pool $1: kubectl get nodes failed"; return 1; }`,
    `    if ! printf '%s\\n' "$images" | grep -v '^$' | grep -qvxF ${q(`Talos (${version})`)}; then log "pool $1: every Node runs Talos ${version}"; return 0; fi`,
    '    k=$((k + 1))',
    `    [ "$k" -lt "$POOL_TRIES" ] || { log "pool $1: Nodes still run another Talos version: has the nodes stack update (with the AMI of ${version}) started the instance refresh? aws autoscaling describe-instance-refreshes tells"; return 1; }`,
    '    sleep "${ODP_POLL:-10}"',
    '    # talos-join.sh again only when replacements wait under the launch hook (it materializes the config each run).',
    `    join=$(sh ${join} "$1" waiting) || { log "pool $1: its instances waiting under the launch hook could not be listed"; return 1; }`,
    '  done',
    '}',
    ...pools.flatMap((t) => [`log ${q(`pool ${t.name}: joining the instance refresh's replacements (Talos ${version})`)}`, `refresh_pool ${t.name}`, 'gate']),
  ];
}

/**
 * kubectl in the apply and upgrade scripts (a pool's Nodes, a node's osImage, talos-join.sh) must ask THIS cluster, not
 * whatever KUBECONFIG (or ~/.kube/config) the shell has: a fresh admin kubeconfig through the Talos API, which the
 * talosconfig made from the environment's secrets reaches. `--merge=false --force` writes the file anew (mode 0600)
 * instead of merging into an existing one (T@v1.13.9:cmd/talosctl/cmd/talos/kubeconfig.go:44-125, flags 184-186).
 */
function kubeconfigLines(m: EnvironmentModel): string[] {
  const file = `${workDir(m.name)}/kubeconfig`;
  return [
    "# kubectl asks this cluster (whatever KUBECONFIG the shell had): a fresh admin kubeconfig through the Talos API of a control plane.",
    `any_cp talosctl kubeconfig --merge=false --force ${file} || { log 'no control plane gave a kubeconfig (talosctl said why above)'; exit 1; }`,
    `export KUBECONFIG=${file}`,
  ];
}

/**
 * \`aws/deploy.sh node-update\` on Talos (infra/aws/deploy.ts): the script reaches the cluster the way the runbook's
 * scripts do, through the Talos API. It needs the talosconfig the runbook's setup writes (from the environment's
 * secrets: \`npm run talos -- secrets export\`, which a deploy script does not run); without it the script refuses at the
 * start, printing the setup's commands. With it, a fresh admin kubeconfig through the first control plane that answers
 * (kubeconfigLines, any_cp). The datastore's gate is the runbook's (gateLines): etcd has a leader on every control plane
 * (\`talosctl etcd members\` asks the node's local etcd WithRequireLeader: v1alpha1_server.go lines 1827-1840), asked
 * live, so one passing gate counts.
 */
export function nodeUpdateFacts(m: EnvironmentModel): NodeUpdateFacts {
  const dir = workDir(m.name);
  const anyCp = ANY_CP(m.controlPlaneNodes.map((n) => n.ip));
  const setup = setupSteps(m)[0]!.lines.filter((l) => !anyCp.includes(l));
  // Only what node-update calls (any_cp and what it uses): the etcd and restore pickers would be dead code there.
  const unused = /^(# )?(cp_etcd|cp_preparing|etcd_cp)\b/;
  const functions = anyCp.filter((l) => !unused.test(l)).map((l) => (l.startsWith('# cp_answers CP:') ? '# cp_answers CP: its Talos API answers.' : l));
  return {
    functions,
    access: [
      `TALOSCONFIG=\${TALOSCONFIG:-${dir}/talosconfig}`,
      `[ -s "$TALOSCONFIG" ] || { log "node-update reaches this cluster through the Talos API, and there is no talosconfig at $TALOSCONFIG. Write it with the Talos runbook's setup (from the repository root), then run this again:"; printf '  %s\\n' ${setup.map(q).join(' ')} >&2; exit 1; }`,
      'export TALOSCONFIG',
      `mkdir -p -m 700 ${dir}`,
      ...kubeconfigLines(m),
    ],
    datastore: [
      'for cp in $CPS; do',
      `  ${TALOS_ETCD_MEMBERS} --nodes "$cp" >/dev/null 2>&1 || { NOT_OK="control plane $cp: its etcd has no leader, or its Talos API does not answer within ${TALOS_ETCD_MEMBERS_SECONDS} s (talosctl etcd members --nodes $cp)"; return 1; }`,
      'done',
    ],
    stable: 1,
    gate: 'etcd has a leader on every control plane (talosctl etcd members)',
  };
}

/**
 * A changed config, one node at a time (the apply script; and the upgrade script before it upgrades a node): live when
 * Talos can (`--mode no-reboot`: refused, changing nothing, when a field outside CanApplyImmediate's list changed:
 * T@v1.13.9 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go:245-249; the list: ./diff.ts IMMEDIATE,
 * internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go:130-217); otherwise staged (persisted for the next
 * boot: v1alpha1_server.go:317-320) and rebooted with `talosctl reboot`, which waits until the node booted again (the
 * boot ID changed) and is ready (--wait defaults to true: cmd/talosctl/cmd/talos/track.go:19-23, reboot.go:92-115).
 * Not `--mode auto`: it returns as soon as the reboot is scheduled (apply-config has no --wait: apply-config.go:123-128,
 * the reboot runs in a goroutine: v1alpha1_server.go:322-335), and the node's etcd and kubelet keep answering while
 * the reboot first waits for the kubelet's finalizers and graceful shutdown and stops the pods
 * (v1alpha1_sequencer.go:238-255, v1alpha1_sequencer_tasks.go:994-1044; etcd stops only in the later stopServices phase, :479-515): the gate
 * could pass on the node still up, and the next control plane go down with it (etcd quorum gone).
 * Only that refusal leads to the reboot (its message, the same at v1.12.11 and v1.13.9: v1alpha1_runtime.go:202/213,
 * returned as InvalidArgument): an unreachable node or a config it rejects stops the script instead.
 *
 * A reboot does not drain: the Reboot sequence stops the pods (StopAllPods) without evicting them (T@v1.13.9 and
 * T@v1.12.11 internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer.go:238-256 / 236-254, no CordonAndDrainNode;
 * only Upgrade has it, :425-436), and `talosctl reboot` has no --drain in 1.12 (1.13's --drain defaults to false:
 * cmd/talosctl/cmd/talos/reboot.go:142-143). So apply_node drains itself, the way every kubectl and every talosctl can:
 * see DRAIN_NODE. So does upgrade_node: `talosctl upgrade` drains too, but on a node running 1.12 that drain gives up
 * after 5 minutes and the node reboots through the budget (release.ts upgradeDrainOnBudget, with the sources).
 */
const IMMEDIATE_REFUSED = "can't be applied in immediate mode";

/**
 * drain_node IP WHAT: the IP's Node drained by the one bounded drain of every rendered script (lib/node-drain.ts
 * drainFunctions, row `reboot` through release.ts TALOS_DRAIN: talosctl's own drain's options and 5-minute default,
 * overridden by $ODP_DRAIN_TIMEOUT, checked at the script's start). A drain a budget holds past the timeout: the node
 * uncordoned, neither staged nor rebooted (WHAT), and the script stops saying which budget to look at. A node with no
 * Node (never registered) has nothing to drain. `drained` names the Node apply_node uncordons once it is back (a
 * cordoned Node fails the health gate).
 */
const DRAIN_NODE = [
  ...drainFunctions(TALOS_DRAIN.policy, { kubectl: 'kubectl', say: (t) => `log "${t}"` }),
  'drain_timeout',
  '# drain_node IP WHAT: the Node drained as the budgets allow; if it cannot be, uncordoned, and WHAT (what did not happen) said.',
  'drain_node() {',
  `  nodes=$(kubectl ${NODE_ADDRESS_LIST})`,
  `  drained=$(printf '%s\\n' "$nodes" | awk -v ip="$1" '$2 == ip { print $1; exit }')`,
  '  if [ -z "$drained" ]; then log "$1: no Node registered: nothing to drain"; return 0; fi',
  '  case "$drained" in *[!a-z0-9.-]*) log "not a Node name: $drained"; return 1 ;; esac',
  '  if drain_bounded "$drained" "$2" "$1 ($drained)"; then return 0; fi',
  '  unreached',
  '  return 1',
  '}',
];

/** `running IP`: the Talos version a node runs, `talosctl version`'s Server Tag (release.ts TALOS_UPGRADE_FAILURE). */
const RUNNING = [
  "# running IP: the Talos version the node runs (talosctl version: the Server's Tag); empty when its API does not answer.",
  `running() { talosctl version --nodes "$1" 2>/dev/null | awk '/^Server:/ { s = 1 } s && $1 == "Tag:" { print $2; exit }'; }`,
];

/**
 * `fits IP NAME`, before a config is pushed: the node runs the config's Talos minor or a newer one (release.ts
 * talosContract, TALOS_UPGRADE_ORDER: an older machined refuses a config for a newer minor as a whole, and a newer one
 * reads an older config). A node still on an older minor is refused, nothing applied, naming the upgrade script (Talos
 * first, then its config), instead of sending the config and reading the refusal.
 */
function fitsLines(m: EnvironmentModel): string[] {
  const version = talosCluster(m).version ?? '';
  const c = talosContract(version);
  if (!c) return ['fits() { :; }'];
  const want = `${c.major}.${c.minor}`;
  return [
    `# fits IP NAME: the node runs Talos ${want} or newer, the contract of its config (an older Talos refuses it as a whole).`,
    'fits() {',
    '  now=$(running "$1")',
    "  maj=${now#v}; min=${maj#*.}; maj=${maj%%.*}; min=${min%%.*}",
    `  case "$maj.$min" in '' | *[!0-9.]* | .* | *.) log "$2 ($1): its Talos version could not be read (talosctl version said: $now): nothing applied"; unreached; return 1 ;; esac`,
    `  if [ "$maj" -gt ${c.major} ] || { [ "$maj" -eq ${c.major} ] && [ "$min" -ge ${c.minor} ]; }; then return 0; fi`,
    `  log "$2 ($1): it runs Talos $now, older than its config (rendered for Talos ${version}, which an older Talos refuses as a whole): nothing applied. Upgrade it first: ${runbookCommand(m.name, 'upgrade')} (Talos first, with the config it runs, then this config)"`,
    '  unreached',
    '  return 1',
    '}',
  ];
}

/** What Talos says when a config is for a newer Talos than the node runs (release.ts TALOS_UPGRADE_ORDER). */
const NEWER_CONFIG = ['unknown keys found during decoding', 'not registered'];

const APPLY_NODE = [
  '# not_applied IP OUT: why a node refused its config (OUT: what talosctl said), and the nodes not reached; fails.',
  'not_applied() {',
  `  case "$2" in ${NEWER_CONFIG.map((t) => `*${q(t)}*`).join(' | ')}) log "$1: this config is for a newer Talos than the node runs (talosctl said why above): the upgrade script upgrades a node first, then applies its config" ;; *) log "$1: its config was not applied (talosctl said why above)" ;; esac`,
  '  unreached',
  '  return 1',
  '}',
  '# dry_run IP FILE: what the config would change (talosctl apply-config --dry-run), or why the node refuses it.',
  'dry_run() { if out=$(talosctl apply-config --nodes "$1" --file "$2" --dry-run 2>&1); then printf \'%s\\n\' "$out"; else printf \'%s\\n\' "$out" >&2; not_applied "$1" "$out"; fi; }',
  '# apply_node IP FILE: live if Talos can; else drained, staged, rebooted (talosctl waits), uncordoned; then the gate.',
  'apply_node() {',
  '  ready',
  '  GATED=',
  '  if out=$(talosctl apply-config --nodes "$1" --file "$2" --mode no-reboot 2>&1); then printf \'%s\\n\' "$out" >&2; gate; return 0; fi',
  '  printf \'%s\\n\' "$out" >&2',
  `  case "$out" in *${q(IMMEDIATE_REFUSED)}*) ;; *) not_applied "$1" "$out"; return 1 ;; esac`,
  '  log "$1: its config cannot be applied live (talosctl said why above): drained, staged, then rebooted (talosctl reboot waits until it is back)"',
  "  drain_node \"$1\" 'its config neither staged nor rebooted'",
  '  talosctl apply-config --nodes "$1" --file "$2" --mode staged',
  '  talosctl reboot --nodes "$1"',
  '  [ -z "$drained" ] || kubectl uncordon "$drained"',
  '  gate',
  '}',
];

/**
 * The upgrade, one fixed node at a time, control planes first (release.ts TALOS_UPGRADE_ORDER, upgradeDrainOnBudget):
 * the cluster gated, the node drained by kubectl (never past a budget: a node that cannot be drained stops the script,
 * uncordoned and not upgraded, where Talos' own drain would reboot it through the budget after 5 minutes on 1.12),
 * `talosctl upgrade` (with the config it runs; it waits until the node is back), uncordoned (Talos leaves a Node kubectl
 * cordoned as it is), gated; then the new version's config (apply_node). A node already at the version only gets the
 * config (a re-run after a failure).
 *
 * A `talosctl upgrade` that fails never leaves the node cordoned silently: upgrade_failed asks the node where the
 * failure left it (release.ts TALOS_UPGRADE_FAILURE, with the sources) and says the next step:
 * - it runs the new version (talosctl failed after the reboot): uncordoned and gated, the script goes on;
 * - it does not answer (rebooting, or not back): its Node stays cordoned; once it answers, uncordon and run again;
 * - its Upgrade sequence stopped part way (1.12: stage upgrading/rebooting, services stopped): reboot it, uncordon, run again;
 * - the image installed but not booted (1.13: talosctl's own drain, or its reboot, failed after the install, e.g. a
 *   pod scheduled on the node after the script's drain): uncordoned; next, a drained reboot into the image (not a
 *   second install: on GRUB it would overwrite the slot of the running version, on sd-boot delete its UKI, and rollback
 *   could not go back to it: release.ts TALOS_UPGRADE_FAILURE);
 * - nothing installed (the image not pulled, the install or the request refused): uncordoned; run again once fixed.
 */
const UPGRADE_NODE = (version: string): string[] => [
  `# A node whose Node already reports osImage "Talos (${version})" is not upgraded again (a re-run after a failure).`,
  `current() { kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address} {.status.nodeInfo.osImage}{"\\n"}{end}' | grep -qxF "$1 Talos (${version})"; }`,
  '# upgrade_failed IP NAME OUT: where a failed talosctl upgrade (OUT: what it said) left the node, and the next step.',
  'upgrade_failed() {',
  '  now=$(running "$1")',
  `  if [ "$now" = ${q(version)} ]; then log "$2 ($1): talosctl upgrade failed (said above) after the node booted Talos ${version}: it runs it; uncordoned, then gated"; [ -z "$drained" ] || kubectl uncordon "$drained"; return 0; fi`,
  `  if [ -z "$now" ]; then log "$2 ($1): talosctl upgrade failed (said above) and its Talos API does not answer now: it is rebooting (into Talos ${version} if its install was done) or down. Its Node \${drained:-(none)} stays cordoned. Next: once it answers, kubectl uncordon \${drained:-<its Node>}, then run this script again (it skips a node that runs ${version})"; unreached; return 1; fi`,
  `  stage=$(talosctl get machinestatus --nodes "$1" -o jsonpath='{.spec.stage}' 2>/dev/null) || stage=`,
  `  case "$stage" in ${TALOS_UPGRADE_FAILURE.sequenceStages.join(' | ')}) log "$2 ($1): its upgrade sequence stopped part way (talosctl said why above; machine stage $stage, Talos $now): its pods and services are stopped, and only a reboot brings it back. Its Node \${drained:-(none)} stays cordoned. Next: talosctl reboot --nodes $1 (it boots $now, or ${version} if its install was done), then kubectl uncordon \${drained:-<its Node>}, then run this script again"; unreached; return 1 ;; esac`,
  '  [ -z "$drained" ] || kubectl uncordon "$drained"',
  `  case "$3" in *${q(TALOS_UPGRADE_FAILURE.installed)}*) log "$2 ($1): Talos ${version} is installed but not booted: talosctl's own drain or its reboot failed after the install (said above). The node runs $now again, uncordoned; its next reboot, any one, boots ${version} with the config it runs. Next: give the pod talosctl could not evict room, then reboot it drained: kubectl drain \${drained:-<its Node>} ${TALOS_DRAIN.options} --timeout=${TALOS_DRAIN.timeout} && talosctl reboot --nodes $1 && kubectl uncordon \${drained:-<its Node>}; then run this script again (it skips a node that runs ${version}). Not this script first: a second install would replace the boot entry of $now (GRUB: over its slot; sd-boot: its UKI deleted), and talosctl rollback could no longer go back to it"; unreached; return 1 ;; esac`,
  '  log "$2 ($1): not upgraded: its image was not installed (talosctl said why above). It runs $now, uncordoned. Next: fix the cause, then run this script again (safe: nothing changed on the node)"',
  '  unreached',
  '  return 1',
  '}',
  '# upgrade_node IP NAME IMAGE: gated, drained (as the budgets allow), upgraded with the config it runs (talosctl waits), uncordoned, gated.',
  'upgrade_node() {',
  `  if current "$1"; then log "$2 already runs Talos ${version}"; return 0; fi`,
  '  ready',
  '  GATED=',
  '  log "upgrading $2"',
  "  drain_node \"$1\" 'not upgraded'",
  '  if out=$(talosctl upgrade --nodes "$1" --image "$3" 2>&1); then',
  "    printf '%s\\n' \"$out\" >&2",
  '    [ -z "$drained" ] || kubectl uncordon "$drained"',
  '  else',
  "    printf '%s\\n' \"$out\" >&2",
  '    upgrade_failed "$1" "$2" "$out"',
  '  fi',
  '  gate',
  '}',
];

/**
 * The upgrade script; with `only` (a fixed node's name: `commands --env E upgrade --node N`), the same script for that
 * one node: the same functions (the gate before and after, the drain, upgrade_node's diagnosis of a failed upgrade),
 * that node's line alone, no pool. The README's per-node step is that one command, not hand-typed drain/upgrade/uncordon
 * lines (which left the node cordoned when the upgrade failed, and said nothing of where it was left).
 */
function upgradeScript(m: EnvironmentModel, only?: string): string[] {
  const pick = (t: ConfigTarget) => only === undefined || t.name === only;
  const cps = m.configTargets.filter((t) => t.pool.role === 'controlplane' && pick(t));
  const workers = m.configTargets.filter((t) => t.pool.role !== 'controlplane' && t.node && pick(t));
  const pools = m.configTargets.filter((t) => !t.node && only === undefined);
  if (only !== undefined && cps.length + workers.length !== 1) throw new Error(`${m.name} has no fixed node ${only} (a pool is upgraded through its instance refresh: the whole upgrade script)`);
  const image = (t: ConfigTarget) => classImages(m, talosPool(t.pool).nodeClass).installer;
  const version = talosCluster(m).version ?? '';
  const out = [
    ADDR,
    ...REACH,
    ...kubeconfigLines(m),
    ...gateLines(m),
    ...DRAIN_NODE,
    ...APPLY_NODE,
    ...RUNNING,
    ...UPGRADE_NODE(version),
  ];
  for (const t of [...cps, ...workers]) out.push(materialize(m, t));
  out.push(`# Each fixed node: Talos ${version} first, with the config it runs (an older Talos refuses a config for a newer one), then its new config.`);
  if (only === undefined) out.push('# Control planes one at a time: etcd healthy (a leader on every member) and the cluster healthy before the next.');
  const node = (t: ConfigTarget, what: string) =>
    `if reach ${t.node!.ip} ${t.name}; then upgrade_node ${t.node!.ip} ${q(`${what} ${t.name}`)} ${image(t)}; apply_node ${t.node!.ip} ${workDir(m.name)}/${t.name}.yaml; fi`;
  for (const t of cps) out.push(node(t, 'control plane'));
  if (workers.length > 0) out.push('# Fixed workers one at a time, each gated through a control plane (workers serve no health API).');
  for (const t of workers) out.push(node(t, 'worker'));
  out.push(...END_OF_LOOP);
  out.push(...poolUpgradeLines(m, pools));
  out.push(`log ${q(only === undefined ? `every node of ${m.name} upgraded` : `${only} upgraded to Talos ${version}`)}`);
  return out;
}

/** The apply script; `only`: one node's or pool's config alone (the review comment's per-node step: runbookCommand). */
function applyScript(m: EnvironmentModel, only?: string): string[] {
  const targets = m.configTargets.filter((t) => only === undefined || t.name === only);
  if (only !== undefined && targets.length !== 1) throw new Error(`${m.name} has no node or auto-scaled pool ${only}`);
  const out = [ADDR, ...REACH, ...kubeconfigLines(m), ...gateLines(m), ...DRAIN_NODE, ...APPLY_NODE, ...RUNNING, ...fitsLines(m)];
  for (const t of [...targets].sort((a, b) => Number(b.pool.role === 'controlplane') - Number(a.pool.role === 'controlplane'))) {
    const file = `${workDir(m.name)}/${t.name}.yaml`;
    out.push(`# ${t.name}`, materialize(m, t));
    if (t.node) out.push(`if reach ${t.node.ip} ${t.name}; then fits ${t.node.ip} ${t.name}; dry_run ${t.node.ip} ${file}; apply_node ${t.node.ip} ${file}; fi`);
    else
      out.push(
        // Listed first: a failing kubectl inside `for n in $(…)` would not stop the script (set -e ignores it there).
        `nodes=${poolNodes(t)}`,
        `[ -n "$nodes" ] || log ${q(`pool ${t.name}: no Node registered; instances it launches get this config from talos-join.sh`)}`,
        `for n in $nodes; do if reach "$n" "$n"; then fits "$n" "$n"; apply_node "$n" ${file}; fi; done`,
      );
  }
  out.push(...END_OF_LOOP);
  return out;
}

function bootstrapScript(m: EnvironmentModel): string[] {
  const steps = clusterSteps(m, readmeContext(m).engine).filter((s) => s.phase === 'bootstrap');
  const fixed = [...m.configTargets.filter((t) => t.node && t.pool.role === 'controlplane'), ...m.configTargets.filter((t) => t.node && t.pool.role !== 'controlplane')];
  const out = ['# First apply: the nodes wait in maintenance mode (control planes first).'];
  for (const t of fixed) out.push(materialize(m, t), `talosctl apply-config --insecure --nodes ${t.node!.ip} --file ${workDir(m.name)}/${t.name}.yaml`);
  out.push(...linesOf(steps));
  const pools = m.configTargets.filter((t) => !t.node);
  if (pools.length > 0) out.push('# Auto-scaled pools: their instances wait under the launch lifecycle hook.', ...pools.map((t) => `sh ${m.renderedDir}/aws/talos-join.sh ${t.name}`));
  // The whole bootstrap once workers join: its engine release waits (bounded) for a node its pods can run on.
  if (m.cluster.network.cni === 'cilium') out.push('# Workers joining: the GitOps engine (its release waits up to 20 minutes for a Ready node it can run on).', `sh ${m.renderedDir}/${readmeContext(m).engine.bootstrapScript}`);
  return out;
}

/**
 * After a restore, every worker's kubelet (fixed nodes and the pools' instances alike) restarted. A kubelet registers its
 * Node once, at start, and never again (kubernetes/kubernetes pkg/kubelet/kubelet_node_status.go registerWithAPIServer:
 * registrationCompleted is never reset; issue #71398): a worker that joined after the snapshot (a pool's scale-out or
 * instance refresh) has no Node in the restored API and would stay out of the cluster, and `talosctl health` waits for
 * it ("all k8s nodes to report": the Nodes must match discovery's members, siderolabs/talos v1.13.9
 * pkg/cluster/check/default.go:103-110, kubernetes.go:30-77) until it gives up. The workers are discovery's members
 * (`talosctl get members`, the discovery service: the Kubernetes registry is off) other than the control planes; a
 * restart of a kubelet whose Node exists changes nothing for its pods. One that cannot be reached is named, not fatal.
 */
function workerKubeletRestart(controlPlanes: string[]): string[] {
  return [
    '# Workers: a kubelet registers its Node only when it starts; one that joined after the snapshot has none now.',
    `members=$(any_cp talosctl get members -o ${q('jsonpath={.spec.addresses[0]}')})`,
    ADDR,
    `for n in $members; do addr "$n" || exit 1; case ${q(` ${controlPlanes.join(' ')} `)} in *" $n "*) continue ;; esac; talosctl service kubelet restart --nodes "$n" || log "worker $n: kubelet not restarted (unreachable?): restart it, or replace the instance"; done`,
  ];
}

function restoreScript(m: EnvironmentModel): string[] {
  const cps = m.configTargets.filter((t) => t.node && t.pool.role === 'controlplane');
  const dir = workDir(m.name);
  return [
    '# Destructive: wipes etcd on every control plane and restores the snapshot. Say so explicitly.',
    `[ "\${ODP_CONFIRM_RESTORE:-}" = ${q(m.name)} ] || { log ${q(`refusing: set ODP_CONFIRM_RESTORE=${m.name} to wipe etcd of every control plane and restore SNAPSHOT`)}; exit 2; }`,
    `SNAPSHOT=\${SNAPSHOT:-${dir}/db.snapshot}`,
    '[ -s "$SNAPSHOT" ] || { log "no snapshot at $SNAPSHOT (talosctl etcd snapshot, or the etcd-backup add-on\'s upload decrypted with age -d)"; exit 2; }',
    '# A db copied out of a data directory (talosctl cp /var/lib/etcd/member/snap/db) has no integrity hash.',
    'SKIP_HASH=; [ "${SNAPSHOT_FROM_DB_COPY:-}" = 1 ] && SKIP_HASH=--recover-skip-hash-check',
    '# Control planes replaced by new instances (names, space-separated): they boot in maintenance mode and get their config.',
    'REPLACED=${REPLACED:-}',
    'replaced() { case " $REPLACED " in *" $1 "*) return 0 ;; esac; return 1; }',
    '# Every control plane not replaced answers before anything is wiped: the bootstrap needs all of them Preparing, and',
    '# one that does not answer would stop the run with etcd already wiped on the ones before it. One lost for good is',
    '# replaced: the restored etcd has the recovering node as its only member, the others join it as new ones.',
    ...cps.map((t) => `replaced ${t.name} || talosctl version --nodes ${t.node!.ip} >/dev/null 2>&1 || { log ${q(`control plane ${t.name} (${t.node!.ip}): its Talos API does not answer: nothing was reset. Bring it back; or, lost for good, boot a new instance at ${t.node!.ip} (maintenance mode) and run this again with REPLACED=${t.name}: the restored etcd starts with the recovering node as its only member and the replacement joins it (no talosctl etcd remove-member: the lost member is not in it)`)}; exit 1; }`),
    ...cps.flatMap((t) => [
      `if replaced ${t.name}; then`,
      `  ${materialize(m, t)}`,
      `  talosctl apply-config --insecure --nodes ${t.node!.ip} --file ${dir}/${t.name}.yaml`,
      'else',
      `  talosctl reset --nodes ${t.node!.ip} --graceful=false --reboot --system-labels-to-wipe EPHEMERAL`,
      'fi',
    ]),
    '# Every control plane must wait for bootstrap (etcd Preparing) before the restore.',
    ...cps.map((t) => `retry sh -c ${q(`talosctl service etcd --nodes ${t.node!.ip} | grep -q 'STATE *Preparing'`)}`),
    '# One node bootstraps from the snapshot (a second bootstrap would start a second etcd cluster: operations.ts',
    '# clusterSteps): any control plane in Preparing, a kept one (not REPLACED) first; the restore needs no particular one.',
    'KEPT=',
    ...cps.map((t) => `replaced ${t.name} || KEPT="\${KEPT:+$KEPT }${t.node!.ip}"`),
    'RECOVER=$(pick_cp cp_preparing $KEPT $CPS) || { log "no control plane has its etcd in Preparing: nothing was bootstrapped"; exit 1; }',
    'talosctl bootstrap --nodes "$RECOVER" --recover-from "$SNAPSHOT" $SKIP_HASH',
    '# The other control planes join once the endpoint is up; then the whole cluster is checked through a control plane that answers.',
    ...cps.map((t) => `retry ${TALOS_ETCD_MEMBERS} --nodes ${t.node!.ip}`),
    ...workerKubeletRestart(cps.map((t) => t.node!.ip)),
    'retry etcd_cp talosctl health --wait-timeout 15m',
    `log "etcd of ${m.name} restored on $RECOVER; ${cps.length} control planes healthy"`,
  ];
}

/** upgrade-k8s through the first control plane whose etcd is healthy (etcd_cp, as the README's step). */
function upgradeK8sScript(m: EnvironmentModel): string[] {
  const to = m.cluster.kubernetesVersion;
  return [
    '# Upgrade Kubernetes: a dry run, then the upgrade, through a control plane whose etcd is healthy.',
    `etcd_cp talosctl upgrade-k8s --to ${to} --dry-run`,
    `etcd_cp talosctl upgrade-k8s --to ${to}`,
  ];
}

/**
 * The etcd members as a control plane sees them (release.ts TALOS_MEMBERSHIP): `members_via CP` prints one
 * `ID ADDRESS LEARNER` line per member (the address of its first peer URL). Every check of the join and remove
 * scripts asks through a control plane whose etcd is healthy (operations.ts cp_etcd).
 */
function membersLines(): string[] {
  const c = TALOS_MEMBERSHIP.columns;
  const col = (n: number) => (n === 0 ? '$NF' : `$(NF-${n})`);
  return [
    "# members_via CP: the etcd members CP's local member sees, as 'ID ADDRESS LEARNER' lines.",
    `members_via() { mv_out=$(${TALOS_ETCD_MEMBERS} --nodes "$1") || return 1; printf '%s\\n' "$mv_out" | awk 'NR > 1 && NF >= 5 { p = ${col(c.peerUrls)}; sub(/^[a-z]+:\\/\\//, "", p); sub(/,.*$/, "", p); if (p ~ /^\\[/) { sub(/^\\[/, "", p); sub(/\\].*$/, "", p) } else sub(/:[0-9]+$/, "", p); print ${col(c.id)}, p, ${col(c.learner)} }'; }`,
  ];
}

/** The fixed node or pool of the model named `name` (the CLI names only targets of the environment). */
function targetOf(m: EnvironmentModel, name: string): ConfigTarget {
  const t = m.configTargets.find((x) => x.name === name);
  if (!t) throw new Error(`${m.name} has no node or auto-scaled pool ${name}`);
  return t;
}

/**
 * Why the join or remove script refuses a target, before it is rendered (the CLI says it, exit 2): a pool's instances
 * join by talos-join.sh under the launch hook; the last control plane is never removed (etcd has no other member,
 * and the cluster no API server).
 */
export function nodeOperationRefusal(m: EnvironmentModel, op: NodeOperation, name: string): string | undefined {
  const t = targetOf(m, name);
  if (op === 'join' && !t.node) return `${name} is an auto-scaled pool: its instances join by sh ${m.renderedDir}/aws/talos-join.sh ${name} (under the launch hook), not by a first apply`;
  if (op === 'remove' && t.node && t.pool.role === 'controlplane' && m.controlPlaneNodes.length === 1)
    return `${name} is the only control plane of ${m.name}: never removed (etcd has no other member to keep the cluster's state, and the cluster no other API server)`;
  return undefined;
}

/**
 * `join --node N`: the first apply of a new fixed node (release.ts TALOS_MEMBERSHIP): the cluster gated first (without
 * it), its config with `apply-config --insecure` while it waits in maintenance mode; a control plane only while no other
 * one is still a learner, then waited for until it is a voting member whose etcd sees a leader; a worker until its Node
 * registers. Then the gate with it. A node whose Talos API already answers (configured: a re-run) gets nothing applied.
 */
function joinScript(m: EnvironmentModel, name: string): string[] {
  const t = targetOf(m, name);
  const ip = t.node!.ip;
  const cp = t.pool.role === 'controlplane';
  const others = m.controlPlaneNodes.filter((n) => n.ip !== ip);
  const file = `${workDir(m.name)}/${t.name}.yaml`;
  const out = [ADDR, ...REACH, ...kubeconfigLines(m), ...gateLines(m, others), ...membersLines(), materialize(m, t)];
  out.push(`# ${t.name}: the cluster healthy without it first.`, 'ready');
  if (cp)
    out.push(
      '# etcd takes one learner at a time: a control plane joins once every member is a voting one.',
      `via=$(pick_cp cp_etcd ${others.map((n) => n.ip).join(' ')}) || { log ${q(`${t.name} (${ip}) not applied: no other control plane has a healthy etcd to join`)}; exit 1; }`,
      `members=$(members_via "$via") || { log ${q(`${t.name} (${ip}) not applied: the etcd members could not be listed`)}; exit 1; }`,
      `learning=$(printf '%s\\n' "$members" | awk '$3 == "true" { print $2 }')`,
      `[ -z "$learning" ] || { log ${q(`${t.name} (${ip}) not applied: control plane`)}" $learning "${q('is still joining etcd (a learner): run this again once it is a voting member (its own join waits for that)')}; exit 1; }`,
    );
  out.push(
    `if talosctl version --nodes ${ip} >/dev/null 2>&1; then`,
    `  log ${q(`${t.name} (${ip}) is configured already (its Talos API answers with the cluster's certificates): nothing applied; a changed config goes through ${runbookCommand(m.name, 'apply', t.name)}`)}`,
    'else',
    `  talosctl apply-config --insecure --nodes ${ip} --file ${file} || { log ${q(`${t.name} (${ip}): its first config was not applied (talosctl said why above): is the instance up and in maintenance mode?`)}; exit 1; }`,
    'fi',
  );
  if (cp)
    out.push(
      `# joined: ${t.name}'s member is a voting one (promoted from learner) and its local etcd sees a leader.`,
      `joined() { members_via "$via" | awk -v ip=${ip} '$2 == ip && $3 == "false" { ok = 1 } END { exit !ok }' && ${TALOS_ETCD_MEMBERS} --nodes ${ip} >/dev/null; }`,
      `retry joined || { log ${q(`${t.name} (${ip}): its etcd member did not become a healthy voting member: talosctl etcd members --nodes ${ip}, talosctl service etcd --nodes ${ip}; no other control plane joins before it does`)}; exit 1; }`,
    );
  else
    out.push(
      `registered() { kubectl ${NODE_ADDRESS_LIST} | awk -v ip=${ip} '$2 == ip { ok = 1 } END { exit !ok }'; }`,
      `retry registered || { log ${q(`${t.name} (${ip}): its Node did not register (talosctl service kubelet --nodes ${ip})`)}; exit 1; }`,
    );
  out.push(`# ${t.name} joined: the cluster gated with it.`, ...gateLines(m), 'gate', `log ${q(`${t.name} (${ip}) joined ${m.name}`)}`);
  return out;
}

/**
 * `remove --node N`, run where N is still in the environment (before the merge that removes it; the merge's nodes stack
 * update then terminates a worker's instance, while a control plane's carries termination protection, which that update
 * cannot get past: its last words name `deploy.sh terminate-node N`, to run before the merge). A control plane (release.ts TALOS_MEMBERSHIP): the live member list first,
 * refused when N is the last member or when the members left would not keep a quorum of healthy ones; then drained as
 * the budgets allow, `talosctl etcd leave`, its member seen gone, `talosctl reset` (wipes, powers off), its Node deleted,
 * and the cluster gated without it. One whose Talos API does not answer: its member removed by ID through a healthy
 * control plane (`etcd remove-member`), its Node deleted. A fixed worker: drained, reset, its Node deleted, gated. A
 * pool: each registered Node drained (left running and cordoned: a powered-off instance would be replaced by its group);
 * the merge deletes the group.
 */
function removeScript(m: EnvironmentModel, name: string): string[] {
  const refused = nodeOperationRefusal(m, 'remove', name);
  if (refused) throw new Error(refused);
  const t = targetOf(m, name);
  // A fixed control plane's instance carries termination protection (infra/aws/termination.ts): the merge's nodes stack
  // update cannot terminate it (its cleanup skips it, leaving it stopped on its fixed address), so it is terminated first.
  const merge = `merge the change that removes ${t.name} from environments/${m.name}.yaml`;
  const next = t.node && t.pool.role === PROTECTED_ROLE
    ? `next, before the merge: ${terminateNodeCommand(m.name, t.name)} (its instance carries termination protection, which the nodes stack update cannot get past: it would stay, stopped, on ${t.node.ip} with its disk); then ${merge}`
    : `next: ${merge}: its nodes stack update terminates the ${t.node ? 'instance' : "group's instances"}`;
  const out = [ADDR, ...REACH, ...kubeconfigLines(m), ...DRAIN_NODE];
  if (!t.node)
    return [
      ...out,
      `nodes=${poolNodes(t)}`,
      `for n in $nodes; do addr "$n" || exit 1; drain_node "$n" 'not drained' || exit 1; done`,
      `log ${q(`pool ${t.name}: every Node drained (cordoned, left running until its group goes); ${next}`)}`,
    ];
  const ip = t.node.ip;
  const others = m.controlPlaneNodes.filter((n) => n.ip !== ip);
  out.push(...gateLines(m, others));
  const nodeOf = `$(kubectl ${NODE_ADDRESS_LIST} | awk '$2 == "${ip}" { print $1 }')`;
  const deleteNode = [`node=${nodeOf}`, '[ -z "$node" ] || kubectl delete node "$node"'];
  if (t.pool.role !== 'controlplane') {
    out.push(
      `if talosctl version --nodes ${ip} >/dev/null 2>&1; then`,
      `  drain_node ${ip} 'not reset' || exit 1`,
      `  talosctl reset --nodes ${ip}`,
      'else',
      `  log ${q(`${t.name} (${ip}): its Talos API does not answer: nothing is reset on it`)}`,
      'fi',
      ...deleteNode,
      'gate',
    );
  } else {
    out.push(
      ...membersLines(),
      `# Quorum first: the members ${t.name}'s removal leaves must keep a quorum of healthy ones, and it is never the last.`,
      `via=$(pick_cp cp_etcd ${others.map((n) => n.ip).join(' ')}) || { log ${q(`${t.name} (${ip}) not removed: no other control plane has a healthy etcd (its removal would leave etcd without a quorum)`)}; exit 1; }`,
      `members=$(members_via "$via") || { log ${q(`${t.name} (${ip}) not removed: the etcd members could not be listed`)}; exit 1; }`,
      `self=$(printf '%s\\n' "$members" | awk '$2 == "${ip}" { print $1 }')`,
      `left=$(printf '%s\\n' "$members" | awk '$2 != "${ip}" && $3 == "false" { print $2 }')`,
      `learning=$(printf '%s\\n' "$members" | awk '$3 == "true" { print $2 }')`,
      `[ -z "$learning" ] || { log ${q(`${t.name} (${ip}) not removed: control plane`)}" $learning "${q('is still joining etcd (a learner): run this again once it is a voting member')}; exit 1; }`,
      `[ -n "$left" ] || { log ${q(`${t.name} (${ip}) not removed: it is the last etcd member`)}; exit 1; }`,
      'total=0; healthy=0',
      `for n in $left; do addr "$n" || exit 1; total=$((total + 1)); if ${TALOS_ETCD_MEMBERS} --nodes "$n" >/dev/null 2>&1; then healthy=$((healthy + 1)); else log "control plane $n: its etcd has no leader, or its Talos API does not answer"; fi; done`,
      'need=$((total / 2 + 1))',
      `[ "$healthy" -ge "$need" ] || { log ${q(`${t.name} (${ip}) not removed: it would cost etcd its quorum:`)}" of the $total members left only $healthy would be healthy, $need needed. Bring the others back first"; exit 1; }`,
      `if talosctl version --nodes ${ip} >/dev/null 2>&1; then`,
      `  drain_node ${ip} 'not removed' || exit 1`,
      `  if [ -n "$self" ]; then talosctl etcd leave --nodes ${ip}; fi`,
      `  gone() { ! members_via "$via" | awk '$2 == "${ip}" { found = 1 } END { exit !found }'; }`,
      `  retry gone || { log ${q(`${t.name} (${ip}): its etcd member is still listed: nothing was reset`)}; exit 1; }`,
      '  # Left already: the reset finds no member to leave; it drains again, wipes the node and powers it off.',
      `  talosctl reset --nodes ${ip}`,
      'else',
      `  log ${q(`${t.name} (${ip}): its member is removed through a control plane (it cannot leave itself); nothing is reset on it`)}`,
      `  if [ -n "$self" ]; then talosctl etcd remove-member "$self" --nodes "$via"; fi`,
      'fi',
      ...deleteNode,
      'gate',
    );
  }
  out.push(`log ${q(`${t.name} (${ip}) removed from ${m.name}: ${next}`)}`);
  return out;
}

const BODY: Record<RunbookPhase, (m: EnvironmentModel) => string[]> = {
  bootstrap: bootstrapScript,
  apply: applyScript,
  upgrade: upgradeScript,
  'upgrade-k8s': upgradeK8sScript,
  restore: restoreScript,
};

const TITLE: Record<RunbookPhase, string> = {
  bootstrap: 'first apply of every fixed node, etcd bootstrap, kubeconfig',
  apply: 'apply changed configs, control planes first, each gated through a control plane',
  upgrade: 'upgrade Talos, control planes one at a time with etcd healthy between, then fixed workers; pools through their instance refresh',
  'upgrade-k8s': 'upgrade Kubernetes (talosctl upgrade-k8s through a control plane whose etcd is healthy)',
  restore: 'disaster recovery: restore etcd from a snapshot on every control plane',
};

/** The phases whose script takes one node (`--node`): a fixed node's upgrade; a node's or pool's config. */
export const NODE_PHASES: readonly RunbookPhase[] = ['upgrade', 'apply'];

/** The scripts for one node only (`commands --env E <op> --node N`): a new node's first apply; a node's removal. */
export const NODE_OPERATIONS = ['join', 'remove'] as const;
export type NodeOperation = (typeof NODE_OPERATIONS)[number];
export type RunbookScript = RunbookPhase | NodeOperation;
const isOperation = (p: RunbookScript): p is NodeOperation => (NODE_OPERATIONS as readonly string[]).includes(p);

/**
 * How the commands CLI (commands/talos.ts) prints a runbook script, piped to sh: the one spelling the review comment
 * (./diff-report.ts), the scripts' own advice and the CLI's messages use, so none can name a command the CLI refuses.
 */
export function runbookCommand(env: string, phase: RunbookScript, node?: string): string {
  checkNode(phase, node);
  return `npm run -s talos -- commands --env ${env} ${phase}${node === undefined ? '' : ` --node ${node}`} | sh`;
}

/** The script of one phase (POSIX sh); `upgrade` with a node: that fixed node's upgrade alone (upgradeScript); `apply` with a node: its config alone. */
export function runbookScript(m: EnvironmentModel, phase: RunbookScript, node?: string): string {
  checkNode(phase, node);
  if (isOperation(phase)) {
    const refused = nodeOperationRefusal(m, phase, node!);
    if (refused) throw new Error(refused);
  }
  if (node === undefined) return script(m, phase, TITLE[phase as RunbookPhase], BODY[phase as RunbookPhase](m));
  return script(m, phase, NODE_TITLE[phase as NodeScript](node), NODE_BODY[phase as NodeScript](m, node));
}

/** A node's script names the node (--node): the node operations always, the phases with a node those of NODE_PHASES. */
function checkNode(phase: RunbookScript, node: string | undefined): void {
  if (isOperation(phase) && node === undefined) throw new Error(`the ${phase} script is for one node: --node N`);
  if (!isOperation(phase) && node !== undefined && !NODE_PHASES.includes(phase)) throw new Error(`the ${phase} script is for the whole cluster: --node goes with ${[...NODE_PHASES, ...NODE_OPERATIONS].join(', ')} only`);
}

type NodeScript = 'upgrade' | 'apply' | NodeOperation;
const NODE_TITLE: Record<NodeScript, (node: string) => string> = {
  upgrade: (n) => `upgrade Talos on ${n} alone, gated before and after`,
  apply: (n) => `apply the config of ${n} alone, gated`,
  join: (n) => `first apply of the new node ${n} (maintenance mode), gated; a control plane waited for as a voting etcd member`,
  remove: (n) => `remove ${n} from the cluster (quorum checked, drained, etcd left, reset, Node deleted), gated`,
};

const NODE_BODY: Record<NodeScript, (m: EnvironmentModel, node: string) => string[]> = {
  upgrade: upgradeScript,
  apply: applyScript,
  join: joinScript,
  remove: removeScript,
};

function script(m: EnvironmentModel, phase: RunbookScript, title: string, body: string[]): string {
  return [
    '#!/bin/sh',
    `# odp-gitops: ${title} — environment ${m.name}. Run from the repository root.`,
    ...PRELUDE(`odp-talos-${phase}`),
    ...linesOf(setupSteps(m)),
    ...body,
    '',
  ].join('\n');
}
