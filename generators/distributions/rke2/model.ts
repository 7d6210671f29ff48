/**
 * RKE2's part of the environment: its input keys (rke2Version, cluster.rke2, nodePools[].rke2) and its
 * part of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
import { RKE2_ARTIFACTS } from './artifacts.js';
import { shQuote } from '../rancher/boot.js';
import { rancherCluster, rancherPool, type RancherCluster, type RancherClusterSettingsInput, type RancherKeys, type RancherPool, type RancherPoolSettingsInput } from '../rancher/model.js';

export interface Rke2ClusterInput {
  rke2Version?: string;
  rke2?: RancherClusterSettingsInput;
}

export interface Rke2PoolInput {
  rke2?: RancherPoolSettingsInput;
}

/**
 * The server Plan's gate on embedded etcd: no server is upgraded while the etcd of another one is not back.
 *
 * - The upgrade Job ends as soon as the binary is replaced and rke2 (with its containerd and kubelet) is SIGTERMed
 *   (rancher/rke2-upgrade@f76c6e05 scripts/upgrade.sh upgrade(): replace_binary, kill_rke2_process; systemd restarts it,
 *   rancher/rke2 bundle/lib/systemd/system/rke2-server.service Restart=always RestartSec=5s).
 * - The controller then labels the node done and creates the next node's Job at once (rancher/system-upgrade-controller
 *   v0.20.1 pkg/upgrade/handle_batch.go:103-135, the node label set once PostCompleteDelay elapsed; pkg/upgrade/plan/plan.go
 *   SelectConcurrentNodes: every node without the latest hash is a candidate): nothing waits for the restarted server's
 *   etcd. With concurrency 1 a second server could thus restart while the first one's etcd is still down (replaced by
 *   its kubelet after the restart, new image pulled), or never came back: two of three members down, quorum lost.
 * - So the prepare container (privileged, the host at /host, host network: the controller's Job, job.go:200-201 and
 *   329-346 the prepare init container) first waits until every
 *   server's etcd answers /health with "health":"true" (etcd's /health needs a leader and a quorum read), with the
 *   supervisor's etcd client certificate (the supervisor's pkg/daemons/control/deps/deps.go: <data-dir>/server/tls/etcd/
 *   server-ca.crt, client.crt, client.key; client port 2379 on the node address, pkg/etcd/etcd.go listenClientURLs),
 *   and fails after `tries` × `interval` s: the Job fails and this server is not touched (the controller retries it).
 * - postCompleteDelay (types.go:85 "Time after a Job for one Node is complete before a new Job will be created for the
 *   next Node") gives the restarted server time to replace its etcd before the gate looks: right after the Job ends its
 *   old etcd container still runs (the containerd shims outlive containerd) and would answer healthy.
 */
export const ETCD_UPGRADE_GATE = { postCompleteDelay: '5m', tries: 120, interval: 5, tls: '/var/lib/rancher/rke2/server/tls/etcd' } as const;

/** The server Plan's prepare script on embedded etcd: every server's etcd healthy, then the pre-upgrade snapshot. */
export function etcdUpgradeGate(m: EnvironmentModel): string {
  const g = ETCD_UPGRADE_GATE;
  const ips = m.controlPlaneNodes.map((n) => shQuote(n.ip)).join(' ');
  return [
    'set -eu',
    `T=${g.tls}`,
    `for ip in ${ips}; do`,
    '  n=0',
    '  until curl -sf --max-time 5 --cacert "$T/server-ca.crt" --cert "$T/client.crt" --key "$T/client.key" "https://$ip:2379/health" | grep -q \'"health":"true"\'; do',
    '    n=$((n + 1))',
    `    [ "$n" -lt ${g.tries} ] || { echo "odp-upgrade-gate: the etcd of $ip is not healthy after ${(g.tries * g.interval) / 60} minutes: this server is not upgraded (a second server down would lose the quorum)" >&2; exit 1; }`,
    `    sleep ${g.interval}`,
    '  done',
    'done',
    'exec /usr/local/bin/rke2 etcd-snapshot save --name pre-upgrade',
  ].join('\n');
}

export const RKE2_KEYS: RancherKeys = {
  // The units the user data enables (userdata.ts rke2Unit).
  unit: (role) => `rke2-${role}`,
  name: 'rke2',
  title: 'RKE2',
  versionKey: 'rke2Version',
  fixedAtCreation: ['cni', 'disable-kube-proxy', 'cluster-cidr', 'service-cidr', 'cluster-domain', 'cluster-dns', 'datastore-endpoint', 'datastore-cafile'],
  artifacts: () => RKE2_ARTIFACTS,
  upgrade: {
    // rancher/rke2-upgrade: replaces the binary and SIGTERMs rke2 with its containerd and kubelet
    // (scripts/upgrade.sh upgrade()); install.sh never runs.
    image: 'rancher/rke2-upgrade',
    backup: (m) =>
      m.cluster.datastore.type === 'etcd'
        ? {
            prepare: { command: ['chroot', '/host'], args: ['sh', '-c', etcdUpgradeGate(m)] },
            postCompleteDelay: ETCD_UPGRADE_GATE.postCompleteDelay,
            text: `each server waits until the etcd of every server answers healthy (a server the previous Job restarted is back, so no two are down together), then takes an on-demand etcd snapshot (\`rke2 etcd-snapshot save --name pre-upgrade\` in the server Plan's prepare step${m.cluster.datastore.backup ? ', uploaded to S3 like the scheduled ones' : ', kept on the node: no S3 backup is configured'}); the controller waits ${ETCD_UPGRADE_GATE.postCompleteDelay} after each server's Job before the next one (postCompleteDelay), time for the restarted server to replace its etcd`,
          }
        : { text: 'the database is PostgreSQL: take an RDS snapshot (or rely on its automated backups and point-in-time recovery) before changing the version; the nodes hold no RDS permission, so no Plan step can' },
  },
};

export const rke2Cluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const rke2Pool = (p: NodePool): RancherPool => rancherPool(p);
