/**
 * K3s' part of the environment: its input keys (k3sVersion, cluster.k3s, nodePools[].k3s) and its part
 * of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
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
};

export const k3sCluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const k3sPool = (p: NodePool): RancherPool => rancherPool(p);
