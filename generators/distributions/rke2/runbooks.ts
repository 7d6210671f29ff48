/**
 * RKE2 runbook scripts rendered per environment (rke2/*.sh), run by an operator: replacing a server
 * of embedded etcd (remove its etcd member first, then launch the replacement from the same user data).
 *
 * Why the member goes first: a node joining etcd under a name an existing member has (its own name
 * with another suffix) is refused ("duplicate node name found, please use a unique name for this
 * node", the supervisor's pkg/etcd/etcd.go join()), and the replacement keeps the node name, which is
 * the EC2 private DNS name of the server's fixed IP. RKE2 has no member-remove command: its managed etcd
 * controller removes the member of a node annotated `etcd.rke2.cattle.io/remove=true` and then sets
 * `etcd.rke2.cattle.io/removed-node-name` (pkg/etcd/member_controller.go; RemovePeer matches member name
 * and peer IP; rancher/cluster-api-provider-rke2 v0.25.0 pkg/rke2/workload_cluster_etcd.go lines 33-35,
 * 61, 90-114 use the same protocol), after which the Node object is deleted.
 *
 * Then the script asks etcd itself: the Node may be gone (deleted by hand, or by the cloud controller for a terminated
 * instance) while its member remains, and the controller removes members only for Nodes. etcdctl runs in a running
 * etcd static pod of another server, each in turn until one's etcd answers (a pod can be Running while its etcd
 * restarts or its member is down; the replaced server's own pod is never asked) (pod label component=etcd, host network: rancher/rke2 v1.35.7+rke2r1 382a8b31
 * pkg/executor/staticpod/staticpod.go:426-436 mounts the server's etcd TLS files and sets HostNetwork; the files are
 * <data-dir>/server/tls/etcd/server-ca.crt, server-client.crt and server-client.key: the supervisor's
 * pkg/daemons/control/deps/deps.go, ETCDServerCA, ServerETCDCert, ServerETCDKey), the image's etcdctl with its
 * default endpoint 127.0.0.1:2379 (the image is FROM scratch with etcd and etcdctl in /usr/local/bin, no shell:
 * rancher/image-build-etcd a79bac37 Dockerfile, etcd v3.6.6 as the supervisor forks it; so etcdctl is exec'd directly, never through sh -c). \`member list -w json --hex\` prints the IDs in hex, as \`member remove\` takes them
 * (etcd-io/etcd etcdctl/ctlv3/command/printer_json.go printMemberListWithHexJSON; member_command.go ParseUint(…, 16, 64)),
 * one object per member with its peerURLs; the server's member is the one whose peer URL is https://<its IP>:2380
 * (the member peer URL, the supervisor's pkg/etcd/etcd.go peerURL). A member left behind is removed, and
 * the script reports success only once no member has that address.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { shQuote } from '../rancher/boot.js';
import { NODE_ADDRESS_LIST } from '../../lib/k8s-nodes.js';

export const ETCD_REMOVE_ANNOTATION = 'etcd.rke2.cattle.io/remove';
export const ETCD_REMOVED_ANNOTATION = 'etcd.rke2.cattle.io/removed-node-name';
/** The etcd static pod's TLS client files (the server's data dir, /var/lib/rancher/rke2). */
export const ETCD_CLIENT_TLS = {
  cacert: '/var/lib/rancher/rke2/server/tls/etcd/server-ca.crt',
  cert: '/var/lib/rancher/rke2/server/tls/etcd/server-client.crt',
  key: '/var/lib/rancher/rke2/server/tls/etcd/server-client.key',
} as const;

/** kubectl listing the running etcd static pods as `<pod> <hostIP>` lines. */
const etcdPodsLine = (kubectl: string): string =>
  `${kubectl} -n kube-system get pods -l component=etcd --field-selector status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.hostIP}{"\\n"}{end}'`;

/**
 * Shell functions `etcd_ctl` (etcdctl in the etcd pod $POD) and `member_list` (the member list, as JSON in $list, from
 * the first pod of $PODS whose etcd answers; POD stays that pod). `where` names the pods in the failure message.
 */
const etcdMemberListLines = (kubectl: string, where: string): string[] => [
  `etcd_ctl() { ${kubectl} -n kube-system exec "$POD" -- etcdctl --cacert ${ETCD_CLIENT_TLS.cacert} --cert ${ETCD_CLIENT_TLS.cert} --key ${ETCD_CLIENT_TLS.key} "$@"; }`,
  '# The member list from the first of those pods whose etcd answers; POD stays that pod (pod names are DNS labels: no',
  '# blanks or glob characters, so the unquoted list splits into names only).',
  'member_list() {',
  '  for POD in $PODS; do',
  '    if list=$(etcd_ctl member list -w json --hex); then return 0; fi',
  '    log "etcdctl member list failed in $POD: asking the next running etcd pod"',
  '  done',
  `  log "no running etcd pod${where} answered (tried: $(echo $PODS)): is a majority of the servers up?"`,
  '  return 1',
  '}',
];

/**
 * apply-config.sh's member check (ApplyConfigSpec.members): etcd's own member list, read as replace-server.sh reads it
 * (etcdctl in a running etcd pod, here any server's), one `<name> <peer IP> <isLearner>` line per member (etcdctl's
 * JSON: the member's name, peerURLs https://<ip>:2380 and isLearner, omitted when false: etcd-io/etcd api/etcdserverpb
 * Member `json:"isLearner,omitempty"`, printed by printMemberListWithHexJSON). EtcdIsVoter covers only members whose
 * Node exists (the supervisor's manageLearners walks the Nodes with the etcd role), so a member whose Node is gone (a
 * replaced server's, left behind) is seen only here: refused when a member's address is no server's ($SERVERS), when
 * one is a learner, or when there are not as many members as servers.
 */
export const applyConfigMemberLines = (kubectl: string): string[] => [
  ...etcdMemberListLines(kubectl, ''),
  'members_ok() {',
  `  PODS=$(${etcdPodsLine(kubectl)} 2>/dev/null | awk '{print $1}')`,
  '  [ -n "$PODS" ] || { NOT_OK="no etcd pod runs: etcd\'s member list cannot be read"; return 1; }',
  '  member_list 2>/dev/null || { NOT_OK="no running etcd pod answered etcdctl member list (tried: $(echo $PODS))"; return 1; }',
  `  members=$(printf '%s\\n' "$list" | tr '{' '\\n' | awk -F'"' '/"peerURLs"/ { name = "-"; ip = ""; for (i = 1; i < NF; i++) { if ($i == "name" && $(i + 2) != "") name = $(i + 2); if ($i == "peerURLs") { ip = $(i + 2); sub(/^https:\\/\\//, "", ip); sub(/:[0-9]+$/, "", ip) } } print name, ip, ($0 ~ /"isLearner":true/ ? "learner" : "voter") }')`,
  '  count=0',
  "  while read -r name ip kind; do",
  '    [ -n "$name" ] || continue',
  '    count=$((count + 1))',
  '    case " $SERVERS " in *" $ip "*) ;; *) NOT_OK="etcd member $name ($ip) is no server of this environment (a replaced server\'s member left behind: remove it, replace-server.sh)"; return 1 ;; esac',
  '    [ "$kind" = voter ] || { NOT_OK="etcd member $name ($ip) is a learner, not a voter yet"; return 1; }',
  "  done <<EOF",
  '$members',
  'EOF',
  '  set -- $SERVERS',
  '  [ "$count" -eq $# ] || { NOT_OK="etcd has $count members for $# servers"; return 1; }',
  '}',
];

/** The replacement runbook of one environment's servers (embedded etcd only). */
export function replaceServerScript(m: EnvironmentModel): string {
  const servers = m.controlPlaneNodes;
  const jsonEscaped = ETCD_REMOVED_ANNOTATION.replace(/\./g, '\\.');
  return [
    '#!/bin/sh',
    `# odp-gitops: replace an RKE2 server of environment ${m.name} (embedded etcd). Run where kubectl reaches the`,
    '# cluster, after the old instance is terminated (it must not run again), before its replacement boots:',
    '#   sh replace-server.sh <server>',
    `# then raise the server's replacement in environments/${m.name}.yaml (README: Replacing a lost fixed node):`,
    '# its new instance runs rke2/userdata/<server>.yaml and joins through the supervisor.',
    'set -eu',
    'log() { echo "odp-replace-server: $*" >&2; }',
    'case "${1:-}" in',
    ...servers.map((n) => `  ${shQuote(n.name)}) IP=${n.ip} ;;`),
    `  *) log ${shQuote(`usage: sh replace-server.sh <server>; servers: ${servers.map((n) => n.name).join(', ')}`)}; exit 2 ;;`,
    'esac',
    '# The Node of that address (its name is the EC2 private DNS name the replacement registers again).',
    `NODE=$(kubectl ${NODE_ADDRESS_LIST} | awk -v ip="$IP" '$2 == ip {print $1}')`,
    'if [ -z "$NODE" ]; then',
    '  log "no node has address $IP: checking etcd for a member left behind"',
    'else',
    `  log "removing the etcd member of $NODE ($IP)"`,
    `  kubectl annotate node "$NODE" ${ETCD_REMOVE_ANNOTATION}=true --overwrite`,
    '  n=0',
    `  until [ -n "$(kubectl get node "$NODE" -o jsonpath='{.metadata.annotations.${jsonEscaped}}')" ]; do`,
    '    n=$((n + 1))',
    '    [ "$n" -le 60 ] || { log "the etcd member of $NODE was not removed within 5 minutes: is a majority of the servers up?"; exit 1; }',
    '    sleep 5',
    '  done',
    '  kubectl delete node "$NODE"',
    'fi',
    '# etcd itself, through etcdctl in a running etcd static pod of another server: a Node can be gone while its member stays.',
    '# Every such pod is a candidate: one whose etcd does not answer (restarting, its member down) is passed over for the next.',
    `PODS=$(${etcdPodsLine('kubectl')} | awk -v ip="$IP" '$2 != ip {print $1}')`,
    '[ -n "$PODS" ] || { log "no running etcd pod on another server: cannot check the etcd members; is a majority of the servers up?"; exit 1; }',
    ...etcdMemberListLines('kubectl', ' on another server'),
    '# The hex ID of the member of that list whose peer URL is the server\'s address (one JSON object per member after splitting at "{").',
    'member_at_ip() {',
    `  printf '%s\\n' "$list" | tr '{' '\\n' | grep -F "\\"https://$IP:2380\\"" | sed -n 's/^"ID":"\\([0-9a-f][0-9a-f]*\\)".*/\\1/p'`,
    '}',
    'member_list || exit 1',
    'ID=$(member_at_ip)',
    'if [ -n "$ID" ]; then',
    '  log "etcd member $ID still has the address $IP: removing it"',
    '  etcd_ctl member remove "$ID" >&2 || { log "etcdctl member remove $ID failed in $POD"; exit 1; }',
    '  member_list || exit 1',
    '  ID=$(member_at_ip)',
    '  [ -z "$ID" ] || { log "etcd member $ID still has the address $IP after its removal"; exit 1; }',
    'fi',
    'log "no etcd member and no node with address $IP: launch the replacement of $1 now"',
    '',
  ].join('\n');
}
