/**
 * K3s as a Distribution (../types.ts): config and user data per node, Litestream for kine-sqlite, its
 * rules, checks and README sections, with what it shares with RKE2 in ../rancher/. The one object the registry lists.
 */
import { nodeConfigOf } from '../rancher/check.js';
import { kineDatastoreText } from '../rancher/readme.js';
import type { Distribution } from '../types.js';
import { K3S_SCHEMA } from './schema.js';
import { checkRenderedK3s } from './check.js';
import { k3sSections } from './readme.js';
import { configTargetNames, K3S_RULES, k3sDatastore, k3sVersionKey } from './rules.js';
import { renderK3s } from './render.js';

// Members that read other modules' values are functions or getters (see ../talos/index.ts).
export const k3s: Distribution = {
  name: 'k3s',
  title: 'K3s',
  clusterReady: 'K3s servers up',
  get schema() {
    return K3S_SCHEMA;
  },
  datastores: ['kine-postgres', 'kine-sqlite'],
  rules: {
    datastore: (ctx, report) => k3sDatastore(ctx, report),
    versions: (ctx, report) => k3sVersionKey(ctx, report),
    get cluster() {
      return K3S_RULES;
    },
    names: (ctx, report) => configTargetNames(ctx, report),
  },
  render: (m) => renderK3s(m),
  readme: {
    sections: (m) => k3sSections(m),
    overviewName: () => 'K3s',
    datastore: (m) => kineDatastoreText('K3s', m.cluster.datastore),
  },
  facts: {
    networkPolicyEnforcer: () => "K3s' embedded network policy controller (kube-router)",
  },
  checks: {
    environment: (m, files) => checkRenderedK3s(m, files),
    nodeConfigs: { pattern: /^k3s\/[^/]+\.yaml$/, read: (f) => nodeConfigOf(f) },
  },
};
