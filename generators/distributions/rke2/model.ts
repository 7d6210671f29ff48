/**
 * RKE2's part of the environment: its input keys (rke2Version, cluster.rke2, nodePools[].rke2) and its
 * part of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
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
};

export const rke2Cluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const rke2Pool = (p: NodePool): RancherPool => rancherPool(p);
