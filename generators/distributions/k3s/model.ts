/**
 * K3s' part of the environment: its input keys (k3sVersion, cluster.k3s, nodePools[].k3s) and its part
 * of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
import { K3S_ARTIFACTS } from './artifacts.js';
import { K3S_SCHEMA } from './schema.js';
import { LITESTREAM_REPLICA_FIXED } from './litestream.js';
import { K3S_PATHS } from './config.js';
import { kineServerGate } from '../rancher/upgrade-gate.js';
import { rancherCluster, rancherPool, type RancherCluster, type RancherClusterSettingsInput, type RancherKeys, type RancherPool, type RancherPoolSettingsInput } from '../rancher/model.js';

export interface K3sClusterInput {
  k3sVersion?: string;
  k3s?: RancherClusterSettingsInput;
}

export interface K3sPoolInput {
  k3s?: RancherPoolSettingsInput;
}

export const K3S_KEYS: RancherKeys = {
  name: 'k3s',
  title: 'K3s',
  versionKey: 'k3sVersion',
  supervisor: true,
  // The units the user data starts (userdata.ts).
  unit: (role) => (role === 'server' ? 'k3s' : 'k3s-agent'),
  // The CNI (flannel-backend none and no policy controller for Cilium), CIDRs, DNS and datastore.
  fixedAtCreation: ['flannel-backend', 'disable-network-policy', 'disable-kube-proxy', 'cluster-cidr', 'service-cidr', 'cluster-domain', 'cluster-dns', 'datastore-endpoint', 'datastore-cafile'],
  artifacts: () => K3S_ARTIFACTS,
  releasePattern: () => String(K3S_SCHEMA.release.k3sVersion!.pattern),
  // Kine SQLite: the Litestream replica is where a new server restores the cluster from.
  fixedFiles: () => [LITESTREAM_REPLICA_FIXED],
  upgrade: {
    // k3s-io/k3s-upgrade: replaces the binary and SIGTERMs K3s, which systemd restarts with the
    // unchanged unit, env file and config (scripts/upgrade.sh upgrade()); install.sh never runs.
    image: 'rancher/k3s-upgrade',
    backup: (m) =>
      m.cluster.datastore.type === 'kine-sqlite'
        ? {
            // Litestream is the backup (continuous, to S3): upgrade only while it runs, so the replica is current.
            // SYSTEMD_OFFLINE=0: systemctl answers is-active (VERB_ONLINE_ONLY in systemctl's verb table) with success
            // and "Running in chroot, ignoring command" when it takes itself for chrooted (systemd/systemd@004c571b
            // src/shared/verbs.c _dispatch_verb), and this prepare step is `chroot /host` in an unprivileged container
            // (system-upgrade-controller v0.20.1 pkg/upgrade/job/job.go:328-336: no securityContext of its own);
            // the variable is read before any chroot detection (verbs.c:18-28 running_in_chroot_or_offline).
            prepare: { command: ['chroot', '/host'], args: ['/usr/bin/env', 'SYSTEMD_OFFLINE=0', 'systemctl', 'is-active', '--quiet', 'litestream.service'] },
            text: 'Litestream replicates the database to S3 continuously; the server Plan\'s prepare step refuses to upgrade while `litestream.service` is not active, so the replica is current',
          }
        : // Kine on PostgreSQL: every server's Node Ready before the next server goes (../rancher/upgrade-gate.ts). kubectl:
          // install.sh links /usr/local/bin/kubectl to k3s (k3s-io/k3s@0136cf25 install.sh create_symlinks), as apply-config.sh uses it.
          kineServerGate(m, '/usr/local/bin/kubectl', K3S_PATHS.kubeconfig),
  },
};

export const k3sCluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const k3sPool = (p: NodePool): RancherPool => rancherPool(p);
