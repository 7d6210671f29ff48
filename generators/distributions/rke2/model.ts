/**
 * RKE2's part of the environment: its input keys (rke2Version, cluster.rke2, nodePools[].rke2) and its
 * part of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
import { RKE2_ARTIFACTS } from './artifacts.js';
import { rancherCluster, rancherPool, type RancherCluster, type RancherClusterSettingsInput, type RancherKeys, type RancherPool, type RancherPoolSettingsInput } from '../rancher/model.js';

export interface Rke2ClusterInput {
  rke2Version?: string;
  rke2?: RancherClusterSettingsInput;
}

export interface Rke2PoolInput {
  rke2?: RancherPoolSettingsInput;
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
            // An on-demand snapshot with the node's own config (S3 settings included), before the node upgrades.
            prepare: { command: ['chroot', '/host'], args: ['/usr/local/bin/rke2', 'etcd-snapshot', 'save', '--name', 'pre-upgrade'] },
            text: `each server takes an on-demand etcd snapshot first (\`rke2 etcd-snapshot save --name pre-upgrade\` in the server Plan's prepare step${m.cluster.datastore.backup ? ', uploaded to S3 like the scheduled ones' : ', kept on the node: no S3 backup is configured'})`,
          }
        : { text: 'the database is PostgreSQL: take an RDS snapshot (or rely on its automated backups and point-in-time recovery) before changing the version; the nodes hold no RDS permission, so no Plan step can' },
  },
};

export const rke2Cluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const rke2Pool = (p: NodePool): RancherPool => rancherPool(p);
