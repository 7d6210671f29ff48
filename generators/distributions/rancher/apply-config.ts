/**
 * The runbook step that brings a running fixed node to the environment's current config (`<name>/apply-config.sh`),
 * run as root on the node: `sh apply-config.sh <node>`. The config a fixed node boots with is its base-stack parameter
 * (./node-config.ts), read once at first boot; a settings merge changes that value and touches no instance, so a running
 * node keeps its file until this runs. The service reads /etc/rancher/<name>/config.yaml when it starts (./impact.ts:
 * a changed key applies after editing the file and restarting the service).
 *
 * One server at a time, each gated: on a server the script refuses to start unless every server of the environment
 * has a Ready Node (another one still restarting, or down, is a server this restart must not join), and after its
 * bounded restart (./boot.ts boundedStartLines) it waits until every server's Node is Ready again before it says the
 * next may go. Its kubectl asks the local API server with the server's admin kubeconfig (each member passes its kubectl
 * and kubeconfig, cited in its render.ts): a read that answers needs this server's API server and its datastore.
 *
 * An agent (a fixed worker) has no admin kubeconfig: its kubelet's credentials (<data-dir>/agent/kubelet.kubeconfig,
 * user system:node:<name>) pass the Node authorizer only for its own Node and its kubelet Lease in kube-node-lease, so
 * it can neither take the Lease in kube-system nor evict pods (kubectl drain). It goes in three runs of this script
 * (applycfg2): `sh apply-config.sh <agent>` on a server takes the lock, passes the gate and drains the agent, then hands
 * the Lease to it (holder "agent <name> drained for its run; by …", renewed then, so the agent's run has a whole
 * duration); the run on the agent refuses unless its Node is cordoned, applies, waits for its Node Ready and annotates
 * its Node with the config's sha256 (APPLIED_ANNOTATION: allowed to a node on itself); a run on a server again adopts
 * the handed Lease, and once the annotation is this config's and the Node Ready it uncordons the agent and releases
 * the lock (before the agent's run it says what to run and keeps the lock handed). No SSM Run Command: the plan gives
 * the servers' role no ssm:SendCommand, and a server able to run commands on every node is more than this needs.
 * The hand-over is state on the agent's Node (HANDOVER_ANNOTATION) and on the Lease (its node named: lib/cluster-lock.ts
 * LEASE_HANDED_TO): while a Node carries it, every other server run refuses, naming it (the Lease may have expired or been
 * deleted by hand meanwhile); the finish needs the hand-over's config to be this script's and the agent's applied
 * annotation, removed at the hand-over, to be this config's; ODP_ABANDON_HANDOVER=<agent> ends it without the agent's
 * run, uncordoning its Node once Ready. A server run that loses the lock after its restart still reads the gate (read
 * only) and says its result before exit 3. Every kubectl request is bounded (lib/kubectl-timeout.ts).
 *
 * It applies only the value of its own rendering: the parameter's sha256 must be the one rendered here (the base stack
 * deployed from the same commit); a node already holding it is left alone (no restart).
 *
 * Hardened (applycfg):
 * - One server at a time across operators: a server run holds a cluster-wide lock, the Lease kube-system/<CLUSTER_LOCK.name>,
 *   from before its first gate until it exits (a trap on EXIT deletes it when this run holds it): lib/cluster-lock.ts, the
 *   same lock `aws/deploy.sh node-update` takes (so a server restart and a fixed node's stop never overlap), with its
 *   sources (create refused with AlreadyExists, an expired Lease taken over with its resourceVersion, the refusal's
 *   expiry and delete command).
 *   The run renews it (lock() again: a PUT with the resourceVersion it last wrote) before its write and after its
 *   restart; the duration exceeds the longest stretch between renewals (APPLY_LOCK_STRETCH), so a live run is not taken
 *   over, and a renewal refused (Conflict: another run took it; NotFound: deleted) stops the run before its write.
 * - The gate is the datastore's health as well as Node Ready (APPLY_HEALTH): the local API server's `/readyz/etcd`
 *   check (kube-apiserver's storage check, a read of <prefix>/health through its storage client: k8s.io/apiserver
 *   pkg/server/options/etcd.go addEtcdHealthEndpoint, pkg/storage/storagebackend/factory/etcd3.go newETCD3Check; on
 *   Kine the read reaches its SQL database: the Kine repository's pkg/server/get.go -> backend Get), and on embedded etcd
 *   every server's Node condition EtcdIsVoter True (the family's shared etcd code, pkg/etcd/etcd.go
 *   manageLearners/setEtcdStatusCondition, cited with its repository in each member's render.ts: the etcd leader sets
 *   it every 15 s per member from that member's Status, False with reason Unhealthy when it does not answer,
 *   MemberIsLearner, or NotAMember). The condition exists only for members whose Node has the etcd role (manageLearners walks
 *   the Nodes), so a member whose Node is gone (a replaced server's, left behind) is invisible to it: on embedded etcd
 *   the gate also reads etcd's own member list (ApplyConfigSpec.members, given by the member) and refuses a member that is
 *   no server's, a learner, or a count other than the servers'. After the restart the gate must hold on
 *   APPLY_GATE.stable polls in a row, longer than that 15 s tick, so a condition set before the restart cannot pass it.
 * - A schedulable server (no NoSchedule/NoExecute taint in its config) is drained before its restart (`kubectl drain`:
 *   evictions through the Eviction API, which PodDisruptionBudgets gate; bounded by --timeout) and uncordoned once the
 *   gate passes again; a drain that does not finish uncordons it and changes nothing.
 */
import type { EnvironmentModel, Node } from '../../model/types.js';
import { shellValue } from '../../lib/shapes.js';
import { createHash } from 'node:crypto';
import { parseYamlStream } from '../../lib/yaml.js';
import { boundedStartLines, bootScriptOf, SERVICE_READY_SECONDS, shQuote } from './boot.js';
import { configFileText, configParameterName } from './node-config.js';
import type { RancherKeys } from './model.js';
import { NODE_ADDRESS_LIST } from '../../lib/k8s-nodes.js';
import { drainFunctions, drainOptions, durationSeconds, NODE_DRAIN } from '../../lib/node-drain.js';
import { CLUSTER_LOCK, leaseLockLines, NODE_HANDOVER_ANNOTATION } from '../../lib/cluster-lock.js';
import { KUBECTL_REQUEST_TIMEOUT, KUBECTL_TIMEOUT_FLAG } from '../../lib/kubectl-timeout.js';
import type { NodeUpdateFacts } from '../../infra/aws/facts.js';

export const APPLY_CONFIG_SCRIPT = 'apply-config.sh';
const TAG = 'odp-apply-config';

/**
 * How long a server waits for every server's Node to be Ready and the datastore healthy again after its restart
 * (tries × interval s), and how many passing polls in a row it needs: `stable` polls span more than the 15 s in which
 * the etcd leader refreshes EtcdIsVoter (the family's pkg/etcd/etcd.go manageTickerTime = 15 s @ 2614da01, a 2021 copy).
 */
export const APPLY_GATE = { tries: 60, interval: 10, stable: 3 } as const;

/**
 * The most kubectl requests of one gate poll (cluster_ok), each bounded by KUBECTL_REQUEST_TIMEOUT: the Node list, the
 * datastore check and, on embedded etcd, the etcd pods' list and one etcdctl per running etcd pod until one answers: up
 * to seven servers ("an etcd cluster probably should have no more than seven nodes": etcd.io docs, FAQ "What is
 * maximum cluster size?").
 */
const APPLY_GATE_REQUESTS = 3 + 7;
/**
 * The post-restart gate's bound in seconds: its polls stop at APPLY_GATE.tries or once tries × interval seconds have
 * passed (a poll whose requests time out takes longer than its interval), whichever comes first; the last poll, started
 * before that, ends within its requests' timeouts.
 */
export const APPLY_GATE_SECONDS = APPLY_GATE.tries * APPLY_GATE.interval + APPLY_GATE_REQUESTS * durationSeconds(KUBECTL_REQUEST_TIMEOUT);

/**
 * The drain of a schedulable server before its restart: the one bounded drain (../../lib/node-drain.ts), row `restart`
 * (PDBs honoured, bounded, uncordoned when it does not finish). A pod no controller re-creates stops it (no --force):
 * the restart keeps that pod running, since the family's units are KillMode=process (only the main process is
 * stopped; the containers keep running under their shims: each member's index.ts cites its unit), and the message
 * names each such pod and the command that deletes it.
 */
export const APPLY_DRAIN = NODE_DRAIN.restart;

/**
 * The drain's default bound in seconds (a Go duration in the table: `600s`); ODP_DRAIN_TIMEOUT may raise it up to
 * DRAIN_TIMEOUT_MAX, which leaves the Lease room for the drain's stretch (lib/node-drain.ts; see the design notes).
 */
const APPLY_DRAIN_SECONDS = durationSeconds(APPLY_DRAIN.timeout);
/**
 * The longest stretch of a server run between two renewals of its Lease (lock() called again): taken -> gate + drain
 * (APPLY_DRAIN) -> renewed -> write + bounded restart (SERVICE_READY_SECONDS) -> renewed -> the post-restart gate
 * (APPLY_GATE) + uncordon -> released. The Lease's duration must exceed it (test/apply-config.test.ts asserts it), so a
 * live run is never taken over between renewals; each renewal is a PUT carrying the resourceVersion this run last
 * wrote, so a renewal that succeeds proves no other run took the Lease meanwhile, and one that fails stops the run.
 */
export const APPLY_LOCK_STRETCH = Math.max(APPLY_DRAIN_SECONDS, SERVICE_READY_SECONDS, APPLY_GATE_SECONDS);

/**
 * What a fixed agent's own run writes on its Node once its config is applied and its Node Ready again: the config's
 * sha256, as an annotation. Its kubelet's credentials may: the Node authorizer lets a node update its own Node object,
 * and the NodeRestriction admission plugin refuses, on a node's update of itself, only a changed configSource, taints,
 * ownerReferences or labels outside the allowed set, not annotations (kubernetes/kubernetes
 * plugin/pkg/admission/noderestriction/admission.go admitNode, Update branch). The server run that drained the agent
 * reads it to finish (uncordon, release the lock).
 */
export const APPLIED_ANNOTATION = 'odp-gitops.io/apply-config-sha256';

/**
 * What a server run writes on an agent's Node when it has drained it and hands the lock over for the agent's own run:
 * `<node>:<sha256 of the config handed over for>` (a server's admin kubeconfig may annotate any Node), removing the
 * agent's APPLIED_ANNOTATION in the same request, so the annotation the finishing run reads was written after this
 * hand-over, by an agent run that checked its file. It marks the Node as cordoned by a hand-over until the finishing
 * run (or ODP_ABANDON_HANDOVER) uncordons it and removes it: every server run refuses to change another node while one
 * is marked (whatever became of the Lease: expired, or deleted by hand), the agent's own run refuses a hand-over for a
 * config other than its script's, and the finishing run one whose config is not its script's.
 */
export const HANDOVER_ANNOTATION = NODE_HANDOVER_ANNOTATION;

/**
 * An agent's way back from a config that broke it (its service refused the file or keeps failing, or its Node never
 * Ready): each run that writes a new config keeps the file it replaces as `<config>.previous` (0600, on the node), and
 * `ODP_ROLLBACK=<agent> sh apply-config.sh <agent>`, as root on the agent, puts that file back and restarts the service
 * (bounded), then waits for its Node Ready. It needs neither SSM nor the API server to start (the agent's kubelet
 * reaches the API through the agent's own process, down while the config is broken): only the wait for Ready asks.
 * It does not write APPLIED_ANNOTATION, so a server run then abandons the hand-over (ODP_ABANDON_HANDOVER), saying the
 * agent runs its previous config. Agents only: a server's restart is gated by the cluster lock and the datastore's
 * health, which a rollback could not pass while its server is down; a server's way back is a fixed config, merged.
 */
export const ROLLBACK_SUFFIX = '.previous';

/** What the gate reads (see the header for the sources). */
export const APPLY_HEALTH = { readyz: '/readyz/etcd', voterCondition: 'EtcdIsVoter' } as const;

/**
 * The same datastore gate for `aws/deploy.sh node-update` (infra/aws/deploy.ts), asked from the operator's kubectl (the
 * KUBECONFIG a server's admin kubeconfig gave): the API server's `/readyz/etcd` check and, on embedded etcd, every
 * control plane's EtcdIsVoter condition True (APPLY_HEALTH, sources in the header); after the stop and start it must
 * hold APPLY_GATE.stable polls in a row on embedded etcd (the condition is refreshed every 15 s).
 */
export function nodeUpdateFacts(m: EnvironmentModel): NodeUpdateFacts {
  const etcd = m.cluster.datastore.type === 'etcd';
  const voters = `kubectl get nodes -l node-role.kubernetes.io/control-plane -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="${APPLY_HEALTH.voterCondition}")].status}{"\\n"}{end}'`;
  return {
    functions: [],
    access: [],
    datastore: [
      `[ "$(kubectl get --raw ${APPLY_HEALTH.readyz} 2>/dev/null)" = ok ] || { NOT_OK="the datastore does not answer the API server (${APPLY_HEALTH.readyz})"; return 1; }`,
      ...(etcd
        ? [
            `voters=$(${voters}) || { NOT_OK='the Nodes cannot be read'; return 1; }`,
            `bad=$(printf '%s\\n' "$voters" | awk '$1 != "" && $2 != "True" { printf "%s%s", s, $1; s = ", " }')`,
            `[ -z "$bad" ] || { NOT_OK="the etcd member of $bad is not a healthy voter (${APPLY_HEALTH.voterCondition})"; return 1; }`,
          ]
        : []),
    ],
    stable: etcd ? APPLY_GATE.stable : 1,
    gate: `the datastore answers (${APPLY_HEALTH.readyz})${etcd ? ` and every control plane's etcd member a healthy voter (${APPLY_HEALTH.voterCondition})` : ''}`,
  };
}

/** kubectl arguments listing every Node as `<name> <InternalIP> <Ready status> <EtcdIsVoter status>` lines (one read per poll). */
const NODE_HEALTH_LIST = `get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="${APPLY_HEALTH.voterCondition}")].status}{"\\n"}{end}'`;

export interface ApplyConfigSpec {
  keys: Pick<RancherKeys, 'name' | 'title' | 'unit'>;
  /** The config file of a fixed node (what its parameter holds). */
  config(n: Node): string;
  /** The kubectl command line on a server, with its admin kubeconfig. */
  kubectl: string;
  /** The kubectl command line on an agent, with its kubelet's kubeconfig (the Node authorizer: its own Node only). */
  agentKubectl: string;
  /**
   * On embedded etcd: shell lines defining `members_ok`, which reads etcd's own member list (not the Nodes) and, like
   * cluster_ok, sets NOT_OK and returns 1 when a member is extra (its address no server of $SERVERS), a learner, or
   * the count is not the servers' (the member that EtcdIsVoter cannot see: its Node is gone). Given the server kubectl.
   */
  members?: (kubectl: string) => string[];
}

/** Taint effects that keep workloads off a node (a server so tainted runs none: nothing to drain). */
const NO_WORKLOADS = /:(NoSchedule|NoExecute)$/;
const schedulable = (config: string): boolean => {
  const taints = (parseYamlStream(config)[0] as Record<string, unknown> | undefined)?.['node-taint'];
  return !(Array.isArray(taints) && taints.some((t) => NO_WORKLOADS.test(String(t))));
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Shell lines defining `settle CMD…`: polls CMD after the restart until it passes APPLY_GATE.stable times in a row (a
 * status written before the restart cannot pass alone), bounded at APPLY_GATE.tries polls and as many intervals of
 * time (APPLY_GATE_SECONDS): then it returns 1 (the caller says what did not pass and exits 3).
 */
const settleLines = (): string[] => [
  `# Polls the command given until it passes ${APPLY_GATE.stable} times in a row (a status written before the restart cannot pass`,
  `# alone); returns 1 after ${APPLY_GATE.tries} polls or ${APPLY_GATE.tries * APPLY_GATE.interval} s (a poll whose requests time out takes longer than its interval).`,
  'settle() {',
  '  n=0',
  '  ok=0',
  `  end=$(( $(date -u +%s) + ${APPLY_GATE.tries * APPLY_GATE.interval} ))`,
  `  until [ "$ok" -ge ${APPLY_GATE.stable} ]; do`,
  '    n=$((n + 1))',
  `    [ "$n" -le ${APPLY_GATE.tries} ] && [ "$(date -u +%s)" -lt "$end" ] || return 1`,
  '    if "$@"; then ok=$((ok + 1)); else ok=0; fi',
  `    [ "$ok" -ge ${APPLY_GATE.stable} ] || sleep ${APPLY_GATE.interval}`,
  '  done',
  '}',
];

export function applyConfigScript(m: EnvironmentModel, s: ApplyConfigSpec): string | undefined {
  const fixed = m.pools.flatMap((p) => p.nodes.map((n) => ({ n, server: p.role === 'controlplane' })));
  if (fixed.length === 0) return undefined;
  const path = `/etc/rancher/${s.keys.name}/config.yaml`;
  const servers = fixed.filter((f) => f.server).map((f) => f.n.ip);
  const L = CLUSTER_LOCK;
  const cases = fixed.map(({ n, server }) => {
    const param = shellValue('ssm-name', configParameterName(s.keys, m, n), `nodePools[].nodes[${n.name}]`);
    // An agent runs workloads: always drained (by a server's run for it).
    const drain = !server || schedulable(s.config(n)) ? 1 : 0;
    return `  ${shQuote(n.name)}) IP=${shQuote(n.ip)}; ROLE=${server ? 'server' : 'agent'}; DRAIN=${drain}; PARAM=${shQuote(param)}; SHA=${sha256(configFileText(s.config(n)))} ;;`;
  });
  const head = [
    '#!/bin/sh',
    `# odp-gitops: apply environment ${m.name}'s current ${s.keys.title} config to one running fixed node, as root on it:`,
    `#   sh ${APPLY_CONFIG_SCRIPT} <node>`,
    '# Servers one at a time: a server run holds the Lease ' + `${CLUSTER_LOCK.namespace}/${CLUSTER_LOCK.name}` + ', refuses while any server is not Ready or the',
    '# datastore not healthy, drains a schedulable server, and waits until all is well again after its restart.',
    `# The Lease of a run that died expires ${CLUSTER_LOCK.seconds} s after it was last renewed (the next run then takes it over); the`,
    '# refusal prints when, and the command that deletes it sooner once its run has ended.',
    '# The config comes from the node\'s SSM parameter (the base stack, deployed from this commit).',
    '# An agent in three runs: `sh apply-config.sh <agent>` on a server takes the lock and drains it (the lock stays with',
    '# it); on the agent it applies (refused unless its Node is cordoned) and annotates its Node; on a server again it',
    '# uncordons it and releases the lock. A server run renews the lock before its write and after its restart.',
    '# Meanwhile the agent is handed over (its Node annotated): every other run refuses; to end it without its run, on a',
    '# server: ODP_ABANDON_HANDOVER=<agent> sh apply-config.sh <agent> (uncordons it once its Node is Ready).',
    `# An agent that a new config broke: ODP_ROLLBACK=<agent> sh apply-config.sh <agent>, as root on it, puts back the config`,
    `# this script replaced (kept as ${path}${ROLLBACK_SUFFIX}) and restarts it; then abandon its hand-over from a server.`,
    '# Exit status: 0 applied (or nothing to do; a server run for an agent: drained and handed over, or finished); 1 refused',
    '# before any change, the bounded restart failed, or an agent applied but not Ready yet; 2 usage; 3 applied and restarted,',
    '# but the gate (every server and the datastore; an agent: its Node Ready) did not pass in time, or the lock was lost.',
  ];
  const etcd = m.cluster.datastore.type === 'etcd';
  // Every kubectl request bounded (lib/kubectl-timeout.ts): a hung API server fails a check instead of holding the lock.
  const K = `${s.kubectl} ${KUBECTL_TIMEOUT_FLAG}`;
  const AK = `${s.agentKubectl} ${KUBECTL_TIMEOUT_FLAG}`;
  const condition = (type: string) => `-o jsonpath='{.status.conditions[?(@.type=="${type}")].status}'`;
  const restartWhy = `it exits and systemd keeps restarting it (journalctl -u ${s.keys.unit('server')}, or ${s.keys.unit('agent')} on an agent): the new config is refused or keeps it from starting. Apply to no other node; fix the setting, merge, deploy the base stack and run this again (an agent: its previous config back first, as root on it: ODP_ROLLBACK=<agent> sh ${APPLY_CONFIG_SCRIPT} <agent>)`;
  const body = [
    `CONFIG_FILE=${path}`,
    'NODE=${1:-}',
    'case "$NODE" in',
    ...cases,
    `  *) log ${shQuote(`usage: sh ${APPLY_CONFIG_SCRIPT} <node>; nodes: ${fixed.map((f) => f.n.name).join(', ')}`)}; exit 2 ;;`,
    'esac',
    `# ODP_ABANDON_HANDOVER=<agent>, on a server: end that agent's hand-over without its own run (uncordoned once its Node is Ready).`,
    'ABANDON=${ODP_ABANDON_HANDOVER:-}',
    `# ODP_ROLLBACK=<agent>, as root on that agent: its previous config (${path}${ROLLBACK_SUFFIX}) back, the service restarted.`,
    'ROLLBACK=${ODP_ROLLBACK:-}',
    `[ -z "$ROLLBACK" ] || [ "$ROLLBACK:$ROLE" = "$NODE:agent" ] || { log "ODP_ROLLBACK=$ROLLBACK: it names the agent this run is for (ODP_ROLLBACK=<agent> sh ${APPLY_CONFIG_SCRIPT} <agent>, as root on it), not $NODE: a server's way back is a fixed config, merged and applied"; exit 2; }`,
    `[ -z "$ABANDON" ] || [ "$ABANDON:$ROLE" = "$NODE:agent" ] || { log "ODP_ABANDON_HANDOVER=$ABANDON: it names the agent this run is for (ODP_ABANDON_HANDOVER=<agent> sh ${APPLY_CONFIG_SCRIPT} <agent>, on a server), not $NODE"; exit 2; }`,
    ...drainFunctions(APPLY_DRAIN, { kubectl: K, say: (t) => `log "${t}"` }),
    'drain_timeout',
    `SERVERS='${servers.join(' ')}'`,
    'HERE=$(imds local-ipv4)',
    '# A fixed agent is drained and finished by a run of this script on a server (its admin kubeconfig: the lock, the',
    '# drain), its config applied by a run on the agent itself (SIDE=agent).',
    'SIDE=$ROLE',
    'if [ "$HERE" != "$IP" ]; then',
    `  case "$ROLE: $SERVERS " in`,
    '    "agent:"*" $HERE "*) SIDE=server ;;',
    '    agent:*) log "this instance is $HERE, not $NODE ($IP): run it as root on $NODE, or (its drain, and the end) on a server"; exit 1 ;;',
    '    *) log "this instance is $HERE, not $NODE ($IP): run it as root on $NODE"; exit 1 ;;',
    '  esac',
    'else',
    `  [ -z "$ABANDON" ] || { log "ODP_ABANDON_HANDOVER: run it on a server, not on $NODE"; exit 2; }`,
    '  if [ -n "$ROLLBACK" ]; then',
    `    [ -f "$CONFIG_FILE${ROLLBACK_SUFFIX}" ] || { log "$NODE has no previous config (no $CONFIG_FILE${ROLLBACK_SUFFIX}: this script never replaced its config here): nothing to roll back to; nothing changed here"; exit 1; }`,
    '    SIDE=rollback',
    '    ME=$(imds local-hostname)',
    '  else',
    '  NEW=$(ssm_parameter "$PARAM")',
    '  [ "$(printf \'%s\\n\' "$NEW" | sha256sum | cut -d\' \' -f1)" = "$SHA" ] || { log "SSM parameter $PARAM does not hold the config of this script\'s commit: deploy the base stack from it first (Git sync, or deploy.sh base), or use the script of the commit the base stack runs"; exit 1; }',
    '  if [ -f "$CONFIG_FILE" ] && [ "$(sha256sum < "$CONFIG_FILE" | cut -d\' \' -f1)" = "$SHA" ]; then',
    `    [ "$ROLE" = server ] || ${AK} annotate node "$(imds local-hostname)" ${APPLIED_ANNOTATION}="$SHA" --overwrite >/dev/null 2>&1 || true`,
    '    log "$NODE runs this config already: nothing to do"',
    '    exit 0',
    '  fi',
    '  fi',
    'fi',
    `UNIT=${s.keys.unit('agent')}`,
    `[ "$ROLE" = agent ] || UNIT=${s.keys.unit('server')}`,
    '# The Node of an address (its InternalIP).',
    `node_of() { ${K} ${NODE_ADDRESS_LIST} 2>/dev/null | awk -v ip="$1" '$2 == ip { print $1 }'; }`,
    ...(s.members ? s.members(K) : []),
    `# The gate, asked through this server's API server: every server's Node Ready${etcd ? ` and its etcd member a healthy voter (${APPLY_HEALTH.voterCondition})` : ''}, and the datastore`,
    `# answering this API server (${APPLY_HEALTH.readyz}${etcd ? '' : `: Kine's read of its ${m.cluster.datastore.type === 'kine-postgres' ? 'PostgreSQL database' : 'SQLite file'}`})${s.members ? ', and etcd\'s member list: one voter per server, none else' : ''}. NOT_OK says what is not.`,
    'cluster_ok() {',
    `  nodes=$(${K} ${NODE_HEALTH_LIST} 2>/dev/null) || { NOT_OK="this server's API server does not answer"; return 1; }`,
    '  for ip in $SERVERS; do',
    `    set -- $(printf '%s\\n' "$nodes" | awk -v ip="$ip" '$2 == ip { print $1, $3, $4 }')`,
    '    [ -n "${1:-}" ] || { NOT_OK="server $ip has no Node"; return 1; }',
    '    [ "${2:-}" = True ] || { NOT_OK="server $1 ($ip) is not Ready"; return 1; }',
    ...(etcd ? [`    [ "\${3:-}" = True ] || { NOT_OK="the etcd member of server $1 ($ip) is not a healthy voter (${APPLY_HEALTH.voterCondition}: \${3:-none})"; return 1; }`] : []),
    '  done',
    ...(s.members ? ['  members_ok || return 1'] : []),
    `  [ "$(${K} get --raw ${APPLY_HEALTH.readyz} 2>/dev/null)" = ok ] || { NOT_OK="the datastore does not answer this server's API server (${APPLY_HEALTH.readyz})"; return 1; }`,
    '}',
    'HANDOFF="agent $NODE drained for its run;"',
    `FINISH="as root on $NODE: sh ${APPLY_CONFIG_SCRIPT} $NODE, then on a server: sh ${APPLY_CONFIG_SCRIPT} $NODE"`,
    ...leaseLockLines({
      kubectl: K,
      holder: '"$NODE on $(hostname) pid $$"',
      log: 'log',
      other: 'another server run',
      rule: 'apply to one server at a time',
      through: "through this server's API server",
      handoff: { variable: 'HANDOFF', when: '[ "$SIDE:$ROLE" = server:agent ]' },
      handedOver: `the lock (Lease ${L.namespace}/${L.name}) was handed over to $handed, drained for its own run (the Lease runs until $until_t and is never taken over, even expired): $handed stays cordoned until that hand-over ends, and no other node goes before. Finish it (as root on $handed: sh ${APPLY_CONFIG_SCRIPT} $handed, then on a server: sh ${APPLY_CONFIG_SCRIPT} $handed), or abandon it (on a server: ODP_ABANDON_HANDOVER=$handed sh ${APPLY_CONFIG_SCRIPT} $handed: uncordons it once its Node is Ready); nothing changed here`,
    }),
    `APPLIED_JSONPATH='{.metadata.annotations.${APPLIED_ANNOTATION.replace(/\./g, '\\.')}}'`,
    `HANDOVER_JSONPATH='{.metadata.annotations.${HANDOVER_ANNOTATION.replace(/\./g, '\\.')}}'`,
    '# A run on a server for an agent whose hand-over it does not finish: the lock stays handed when this run adopted it.',
    'keep_handed() { [ -z "$ADOPTED" ] || LOCKED=; }',
    'if [ "$SIDE" = server ]; then',
    '  lock_on_exit',
    '  lock',
    '  ME=$(node_of "$IP")',
    '  # The hand-overs in progress: each Node marked by one (<node>:<sha256>). Another node so marked stops this run.',
    `  marked=$(${K} get nodes -o jsonpath="{range .items[*]}{.metadata.name} $HANDOVER_JSONPATH{\\"\\\\n\\"}{end}" 2>/dev/null) || { keep_handed; log "the Nodes cannot be read through this server's API server: nothing changed here\${ADOPTED:+ (the lock stays with the hand-over)}"; exit 1; }`,
    `  set -- $(printf '%s\\n' "$marked" | awk -v me="$ME" '$2 != "" && $1 != me { print $1, $2; exit }')`,
    '  if [ -n "${1:-}" ]; then',
    '    on=${2%%:*}',
    `    log "$on (Node $1) is cordoned by a hand-over (its Node's annotation ${HANDOVER_ANNOTATION}): drained for its own run, not finished; no other node goes before it ends. Finish it (as root on $on: sh ${APPLY_CONFIG_SCRIPT} $on, then on a server: sh ${APPLY_CONFIG_SCRIPT} $on), or abandon it (on a server: ODP_ABANDON_HANDOVER=$on sh ${APPLY_CONFIG_SCRIPT} $on: uncordons it once its Node is Ready); nothing changed here"`,
    '    keep_handed',
    '    exit 1',
    '  fi',
    '  if [ "$ROLE" = agent ]; then',
    '    [ -n "$ME" ] || { keep_handed; log "no Node has the address $IP of $NODE: nothing changed here"; exit 1; }',
    `    MINE=$(printf '%s\\n' "$marked" | awk -v me="$ME" '$1 == me { print $2 }')`,
    // Read under set -e: a failed read (the API server not answering within the request bound) must not end the run
    // silently, nor release a handed-over lock it adopted (keep_handed).
    `    APPLIED=$(${K} get node "$ME" -o jsonpath="$APPLIED_JSONPATH" 2>/dev/null) || { keep_handed; log "$NODE (Node $ME) cannot be read through this server's API server: it stays as it is\${ADOPTED:+, the lock with the hand-over}; run this again; nothing changed here"; exit 1; }`,
    `    READY=$(${K} get node "$ME" ${condition('Ready')} 2>/dev/null) || { keep_handed; log "$NODE (Node $ME) cannot be read through this server's API server: it stays as it is\${ADOPTED:+, the lock with the hand-over}; run this again; nothing changed here"; exit 1; }`,
    '    if [ -n "$ABANDON" ]; then',
    '      [ -n "$MINE" ] || { log "$NODE (Node $ME) has no hand-over to abandon (no annotation ' + HANDOVER_ANNOTATION + ' on its Node): nothing changed here"; exit 1; }',
    `      [ "$READY" = True ] || { keep_handed; log "$NODE (Node $ME) is not Ready: it stays cordoned (pods scheduled on it would not start) and the hand-over stays; find why (journalctl -u ${s.keys.unit('agent')} on it), then abandon again; nothing changed here"; exit 1; }`,
    `      ${K} uncordon "$ME" >/dev/null && ${K} annotate node "$ME" ${HANDOVER_ANNOTATION}- >/dev/null || { keep_handed; log "$NODE (Node $ME) could not be uncordoned or its hand-over annotation removed: run this again"; exit 1; }`,
    '      if [ "$APPLIED" = "$SHA" ]; then STATE="its own run applied this config"; else STATE="its own run did not apply this config: it runs its previous one; apply it again later (sh ' + APPLY_CONFIG_SCRIPT + ' $NODE on a server, then $FINISH)"; fi',
    '      log "$NODE (Node $ME): hand-over abandoned, its Node Ready and uncordoned, the lock released; $STATE"',
    '      exit 0',
    '    fi',
    '    if [ -n "$MINE" ]; then',
    '      # Finish: handed over for this script\'s config, which the agent\'s run applied since (its annotation, removed at',
    '      # the hand-over), and its Node Ready again.',
    '      [ "${MINE#*:}" = "$SHA" ] || { keep_handed; log "$NODE (Node $ME) was handed over for the config ${MINE#*:}, by a script of another commit; this script\'s is $SHA: finish with the script that drained it, or abandon the hand-over (ODP_ABANDON_HANDOVER=$NODE sh ' + APPLY_CONFIG_SCRIPT + ' $NODE); nothing changed here"; exit 1; }',
    '      if [ "$APPLIED" = "$SHA" ]; then',
    '        [ "$READY" = True ] || { keep_handed; log "$NODE (Node $ME) applied this config but its Node is not Ready: it stays cordoned${ADOPTED:+ and the lock stays with it}; run this again once it is"; exit 1; }',
    `        ${K} uncordon "$ME" >/dev/null && ${K} annotate node "$ME" ${HANDOVER_ANNOTATION}- >/dev/null || { keep_handed; log "$NODE (Node $ME) could not be uncordoned or its hand-over annotation removed: run this again"; exit 1; }`,
    '        log "$NODE: config applied, its Node Ready and uncordoned, the lock released: the next node may go"',
    '        exit 0',
    '      fi',
    '      [ -z "$APPLIED" ] || { keep_handed; log "$NODE (Node $ME) says it applied the config $APPLIED, not $SHA, which it was handed over for: its own run used a script of another commit; as root on $NODE run this commit\'s: sh ' + APPLY_CONFIG_SCRIPT + ' $NODE${ADOPTED:+ (the lock stays with it)}"; exit 1; }',
    '      keep_handed',
    '      log "$NODE (Node $ME) is drained and waits for its own run: $FINISH${ADOPTED:+ (the lock stays with it)}"',
    '      exit 1',
    '    fi',
    '  fi',
    '  cluster_ok || { log "$NOT_OK: apply to one server at a time, the next once every server is Ready and the datastore healthy again; nothing changed here"; exit 1; }',
    '  if [ "$DRAIN" = 1 ]; then',
    '    drain_bounded "$ME" \'nothing changed here\' >&2 || exit 1',
    '  fi',
    '  if [ "$ROLE" = agent ]; then',
    '    # Handed over: the Node marked for this config, its earlier applied annotation removed (one request), the Lease',
    '    # renewed under the hand-over holder, naming the node.',
    `    ${K} annotate node "$ME" ${HANDOVER_ANNOTATION}="$NODE:$SHA" ${APPLIED_ANNOTATION}- --overwrite >/dev/null || { ${K} uncordon "$ME" >/dev/null 2>&1; log "$NODE (Node $ME) could not be marked handed over (${HANDOVER_ANNOTATION}): uncordoned, nothing changed here"; exit 1; }`,
    '    HOLDER="$HANDOFF by $(hostname) pid $$"',
    '    HANDED_TO=$NODE',
    '  fi',
    '  # Renewed before the point of no return: a run that lost its lock stops here, its drain (and hand-over) undone.',
    `  lock || { [ "$DRAIN" = 0 ] || ${K} uncordon "$ME" >/dev/null 2>&1 || true; [ "$ROLE" = server ] || ${K} annotate node "$ME" ${HANDOVER_ANNOTATION}- >/dev/null 2>&1 || true; log "$NOT_OK: nothing changed here"; exit 1; }`,
    '  if [ "$ROLE" = agent ]; then',
    '    LOCKED=',
    `    log "$NODE (Node $ME) drained; the lock is held for it until $(utc_of "$(( $(epoch_of "$RENEWED") + ${L.seconds} ))"): now as root on $NODE: sh ${APPLY_CONFIG_SCRIPT} $NODE; then here again: sh ${APPLY_CONFIG_SCRIPT} $NODE (uncordons it and releases the lock)"`,
    '    exit 0',
    '  fi',
    'fi',
    '# An agent\'s own run: its Node cordoned and drained, and handed over for this config, by a server\'s run first (its',
    '# kubelet\'s credentials read and annotate its own Node, drain nothing).',
    'if [ "$SIDE" = agent ]; then',
    '  ME=$(imds local-hostname)',
    `  [ "$(${AK} get node "$ME" -o jsonpath='{.spec.unschedulable}' 2>/dev/null)" = true ] || { log "$NODE (Node $ME) is not cordoned: drain it first, from a server (the lock is held for it meanwhile): sh ${APPLY_CONFIG_SCRIPT} $NODE as root on a server; nothing changed here"; exit 1; }`,
    `  HANDED=$(${AK} get node "$ME" -o jsonpath="$HANDOVER_JSONPATH" 2>/dev/null) || { log "$NODE (Node $ME) cannot be read with its kubelet's credentials (the API server not answering?): run this again; nothing changed here"; exit 1; }`,
    `  [ -n "$HANDED" ] || { log "$NODE (Node $ME) is cordoned, but no server run handed it over for its run (no annotation ${HANDOVER_ANNOTATION}): drain it from a server: sh ${APPLY_CONFIG_SCRIPT} $NODE as root on a server; nothing changed here"; exit 1; }`,
    `  [ "\${HANDED#*:}" = "$SHA" ] || { log "$NODE (Node $ME) was handed over for the config \${HANDED#*:}, by a script of another commit; this script's is $SHA: run the script of the commit the server ran; nothing changed here"; exit 1; }`,
    'fi',
    'if [ "$SIDE" = rollback ]; then',
    `  cp -p "$CONFIG_FILE${ROLLBACK_SUFFIX}" "$CONFIG_FILE.new"`,
    'else',
    `  # The file replaced, kept for an agent's rollback (ODP_ROLLBACK).`,
    `  [ ! -f "$CONFIG_FILE" ] || cp -p "$CONFIG_FILE" "$CONFIG_FILE${ROLLBACK_SUFFIX}"`,
    '  printf \'%s\\n\' "$NEW" > "$CONFIG_FILE.new"',
    'fi',
    'chmod 0600 "$CONFIG_FILE.new"',
    'mv -f "$CONFIG_FILE.new" "$CONFIG_FILE"',
    ...boundedStartLines('restart', '"$UNIT"', restartWhy, s.keys.title),
    ...settleLines(),
    `GATE_SECONDS=${APPLY_GATE.tries * APPLY_GATE.interval}`,
    'if [ "$ROLE" = server ]; then',
    '  LEFT=',
    '  [ "$DRAIN" = 0 ] || LEFT="; $ME stays cordoned: kubectl uncordon $ME once it is"',
    '  # A run that lost the lock here changes nothing more, but reads the gate (read only) so the operator knows the state.',
    '  if ! lock; then',
    '    LOST=$NOT_OK',
    '    log "$LOST after $NODE restarted: this run changes nothing more; reading the gate (read only) before it stops"',
    '    if settle cluster_ok; then',
    '      log "$LOST after $NODE restarted; the gate passes (read only): every server Ready and the datastore healthy$LEFT"',
    '    else',
    '      log "$LOST after $NODE restarted; the gate does not pass (read only): $NOT_OK $GATE_SECONDS s after $NODE restarted: apply to no other server until it does$LEFT"',
    '    fi',
    '    exit 3',
    '  fi',
    '  settle cluster_ok || { log "$NOT_OK $GATE_SECONDS s after $NODE restarted: apply to no other server until it is$LEFT"; exit 3; }',
    `  [ "$DRAIN" = 0 ] || ${K} uncordon "$ME" >/dev/null`,
    '  log "$NODE: config applied, $UNIT restarted, every server Ready and the datastore healthy: the next server may go"',
    'else',
    `  agent_ready() { [ "$(${AK} get node "$ME" ${condition('Ready')} 2>/dev/null)" = True ]; }`,
    `  [ "$SIDE" != rollback ] || { settle agent_ready || { log "$NODE: its previous config back and $UNIT restarted, but its Node (Node $ME) is not Ready $GATE_SECONDS s later: look at journalctl -u $UNIT; drain no other agent until it is"; exit 3; }; log "$NODE: its previous config back, $UNIT restarted, its Node Ready; it stays cordoned while a hand-over marks it: on a server, ODP_ABANDON_HANDOVER=$NODE sh ${APPLY_CONFIG_SCRIPT} $NODE uncordons it and releases the lock; then fix the config, merge, deploy the base stack and apply again"; exit 0; }`,
    '  settle agent_ready || { log "$NODE (Node $ME) is not Ready $GATE_SECONDS s after its restart: it stays cordoned, the lock with it; drain no other agent until it is"; exit 3; }',
    `  ${AK} annotate node "$ME" ${APPLIED_ANNOTATION}="$SHA" --overwrite >/dev/null || { log "$NODE: config applied and its Node Ready, but its Node could not be annotated (${APPLIED_ANNOTATION}): abandon the hand-over from a server: ODP_ABANDON_HANDOVER=$NODE sh ${APPLY_CONFIG_SCRIPT} $NODE"; exit 3; }`,
    '  log "$NODE: config applied, $UNIT restarted, its Node Ready: finish from a server: sh ' + APPLY_CONFIG_SCRIPT + ' $NODE as root there (uncordons it and releases the lock), then the next node may go"',
    'fi',
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
