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
 */
import type { EnvironmentModel } from '../../model/types.js';
import { shQuote } from '../rancher/boot.js';

export const ETCD_REMOVE_ANNOTATION = 'etcd.rke2.cattle.io/remove';
export const ETCD_REMOVED_ANNOTATION = 'etcd.rke2.cattle.io/removed-node-name';

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
    `NODE=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' | awk -v ip="$IP" '$2 == ip {print $1}')`,
    'if [ -z "$NODE" ]; then log "no node has address $IP: nothing to remove (its member is gone already)"; exit 0; fi',
    `log "removing the etcd member of $NODE ($IP)"`,
    `kubectl annotate node "$NODE" ${ETCD_REMOVE_ANNOTATION}=true --overwrite`,
    'n=0',
    `until [ -n "$(kubectl get node "$NODE" -o jsonpath='{.metadata.annotations.${jsonEscaped}}')" ]; do`,
    '  n=$((n + 1))',
    '  [ "$n" -le 60 ] || { log "the etcd member of $NODE was not removed within 5 minutes: is a majority of the servers up?"; exit 1; }',
    '  sleep 5',
    'done',
    'kubectl delete node "$NODE"',
    'log "member removed and node deleted: launch the replacement of $1 now"',
    '',
  ].join('\n');
}
