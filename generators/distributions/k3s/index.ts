/**
 * K3s as a Distribution (../types.ts): config and user data per node, Litestream for kine-sqlite, its
 * rules, checks and README sections, with what it shares with its family in ../rancher/. The one object the registry lists.
 */
import { cap } from '../../plan/needs.js';
import { nodeConfigOf } from '../rancher/check.js';
import { rancherDiff } from '../rancher/impact.js';
import { kineDatastoreText } from '../rancher/readme.js';
import { K3S_SCHEMA } from './schema.js';
import { rancherClusterModel, rancherPoolModel, type RancherDistribution } from '../rancher/model.js';
import { K3S_KEYS } from './model.js';
import { checkRenderedK3s } from './check.js';
import { k3sSections } from './readme.js';
import { configTargetNames, K3S_RULES, k3sDatastore, k3sVersionKey } from './rules.js';
import { renderK3s } from './render.js';
import { rancherSecrets, rancherSetupSecrets } from '../rancher/secrets.js';
import { k3sAws } from './aws.js';
import { rancherPlaceholders } from '../rancher/boot.js';

import { NVIDIA_DEVICE_PLUGIN_VALUES } from '../rancher/host.js';
import { ciliumCniValues } from '../rancher/cni.js';
import { artifactRule } from '../rancher/artifacts.js';
import { RANCHER_BLOCKED_DRAIN, rancherUpgrade } from '../rancher/upgrade.js';
import { K3S_RELEASES, k3sReleaseProblem } from './releases.js';
import { DEFAULTS } from '../../model/defaults.js';
import { planErrors, systemUpgradeController, systemUpgradePlans } from '../rancher/addons/system-upgrade-controller.js';
import { litestreamAlerts } from './addons/litestream-alerts.js';
// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
/** The release table as the upgrade plan reads it (./releases.ts). */
const k3sUpgrade = rancherUpgrade(K3S_KEYS, 'K3s', 'the K3s release table (generators/distributions/k3s/releases.ts, from k3s-io/k3s releases and k3s-io/docs release notes)', (release) => {
  const problem = k3sReleaseProblem(release);
  if (!problem) return undefined;
  return problem.newest ? `K3s ${release} is not a release this generator lists (the newest listed release of its line is ${problem.newest})` : `K3s ${release} is not on a line this generator lists (${Object.keys(K3S_RELEASES).map((m) => `v${m}`).join(', ')})`;
});

export const k3s: RancherDistribution = {
  name: 'k3s',
  title: 'K3s',
  clusterReady: 'K3s servers up',
  get schema() {
    return K3S_SCHEMA;
  },
  model: { cluster: (input) => rancherClusterModel(K3S_KEYS, input), pool: (p) => rancherPoolModel(K3S_KEYS, p) },
  datastores: ['kine-postgres', 'kine-sqlite'],
  rules: {
    datastore: (ctx, report) => k3sDatastore(ctx, report),
    versions: (ctx, report) => k3sVersionKey(ctx, report),
    get cluster() {
      return [...K3S_RULES, artifactRule(K3S_KEYS, 'k3s', { product: 'litestream', defaultVersion: DEFAULTS.litestreamVersion })];
    },
    names: (ctx, report) => configTargetNames(ctx, report),
  },
  secrets: (env, m) => rancherSecrets(K3S_KEYS, 'K3s', env, m),
  render: (m) => renderK3s(m),
  readme: {
    sections: (m) => k3sSections(m),
    overviewName: () => 'K3s',
    datastore: (m) => kineDatastoreText('K3s', m.cluster.datastore),
  },
  addons: {
    // The family's upgrade controller and Plans (one catalog entry each, shared by the members), and
    // the Litestream scrape and alerts of kine-sqlite environments.
    get entries() {
      return [systemUpgradeController, systemUpgradePlans, litestreamAlerts];
    },
    values: {
      'nvidia-device-plugin': () => NVIDIA_DEVICE_PLUGIN_VALUES,
      // flannel-backend none (config.ts): containerd reads its default CNI directories (../rancher/cni.ts).
      // The /var/lib/rancher/k3s/data/cni and …/agent/etc/cni/net.d some reports name are the flannel case:
      // since k3s-io/k3s#10868 (static CNI bin dir, 2024-09; cmd/k3s/main.go puts data/cni first in PATH)
      // `filepath.Dir(hostLocal)` is data/cni — set only `if !nodeConfig.NoFlannel` (k3d-io/k3d#1572 is a
      // flannel node; onedr0p/cluster-template#1402 a template of its own). docs.cilium.io "Installation
      // Using K3s": `--flannel-backend=none --disable-network-policy`, then an install with no CNI paths;
      // docs.k3s.io "Basic Network Options" (custom CNI) reads the CNI's config in /etc/cni/net.d.
      cilium: () => ciliumCniValues(),
    },
  },
  operations: { newEnvironmentSecrets: (name, m) => rancherSetupSecrets('K3s', m) },
  upgrade: k3sUpgrade,
  facts: {
    // kube-router honours ipBlock `except` (the IMDS denial, catalog/network-policies.ts): cloudnativelabs/kube-router
    // v2.11.0 pkg/controllers/netpol/policy.go:790-817 (a /0 as 0.0.0.0/1 + 128.0.0.0/1 in a hash:net ipset, each
    // `except` entry with nomatch).
    networkPolicyEnforcer: () => "K3s' embedded network policy controller (kube-router)",
    // K3s deploys RuntimeClass nvidia itself (k3s-io/k3s manifests/runtimes.yaml, commit c77d0b85, the
    // `runtimes` packaged component, not disabled here): the catalog renders none (one owner).
    runtimeClasses: ['nvidia'],
    // Each agent fetches its kubelet serving certificate, signed by the cluster's server CA, from the supervisor
    // before the kubelet starts (k3s-io/k3s@eaaf1f84 pkg/agent/config/config.go getServingCert: "/v1-"+version.Program+
    // "/serving-kubelet.crt", called from get(); a 2021 copy: the pinned tag's could not be read).
    clusterCapabilities: () => [cap.kubeletServingCertificates],
    // K3s labels servers node-role.kubernetes.io/control-plane=true (pkg/server: `v != "true"` → set "true").
    controlPlaneLabel: 'true',
    // apply-config.sh's drain before a restart stops at a pod no controller re-creates (lib/node-drain.ts row `restart`):
    // the k3s unit is KillMode=process (k3s-io/k3s@0136cf25 install.sh create_systemd_service_file), so a restart stops
    // the k3s process only and the pods' containers keep running under their shims.
    blockedDrain: RANCHER_BLOCKED_DRAIN,
    // No flannelPods: K3s runs flannel and kube-proxy inside the k3s process, not as pods.
  },
  get aws() {
    return k3sAws();
  },
  checks: {
    customResources: { 'upgrade.cattle.io/v1/Plan': (o) => planErrors(o) },
    environment: (m, files) => checkRenderedK3s(m, files),
    nodeConfigs: { pattern: /^k3s\/[^/]+\.yaml$/, read: (f) => nodeConfigOf(f) },
    get placeholders() {
      return rancherPlaceholders(K3S_KEYS);
    },
  },
  get family() {
    return K3S_KEYS;
  },
  get diff() {
    return rancherDiff(K3S_KEYS);
  },
};
