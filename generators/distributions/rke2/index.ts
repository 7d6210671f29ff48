/**
 * RKE2 as a Distribution (../types.ts): CIS-profile config and user data per node, its rules, checks
 * and README sections, with what it shares with its family in ../rancher/. The one object the registry lists.
 */
import { cap } from '../../plan/needs.js';
import type { EnvironmentModel } from '../../model/types.js';
import { nodeConfigOf } from '../rancher/check.js';
import { rancherDiff } from '../rancher/impact.js';
import { kineDatastoreText } from '../rancher/readme.js';
import { RKE2_SCHEMA } from './schema.js';
import { rancherClusterModel, rancherPoolModel, type RancherDistribution } from '../rancher/model.js';
import { RKE2_KEYS, rke2Cluster } from './model.js';
import { checkRenderedRke2 } from './check.js';
import { rke2Sections } from './readme.js';
import { RKE2_RELEASES, RKE2_RULES, rke2ForeignSetting, rke2VersionKey } from './rules.js';
import { renderRke2 } from './render.js';
import { SUPERVISOR_PORT } from './config.js';
import { rancherSecrets, rancherSetupSecrets } from '../rancher/secrets.js';
import { rke2Aws } from './aws.js';
import { rancherPlaceholders } from '../rancher/boot.js';

function datastore(m: EnvironmentModel): string {
  const d = m.cluster.datastore;
  if (d.type !== 'etcd') return kineDatastoreText('RKE2', d);
  return `RKE2's embedded etcd${d.backup ? `, snapshots to \`s3://${d.backup.bucket}/${d.backup.prefix}\` on \`${d.backup.schedule}\` (${d.backup.retention} kept), with the instance profile` : ' (no backup configured)'}`;
}

import { NVIDIA_DEVICE_PLUGIN_VALUES } from '../rancher/host.js';
import { artifactRule } from '../rancher/artifacts.js';
import { RANCHER_BLOCKED_DRAIN, rancherUpgrade } from '../rancher/upgrade.js';
import { planErrors, systemUpgradeController, systemUpgradePlans } from '../rancher/addons/system-upgrade-controller.js';
import { ciliumCniValues } from '../rancher/cni.js';
// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
/** The release table as the upgrade plan reads it (./rules.ts RKE2_RELEASES). */
const rke2Upgrade = rancherUpgrade(RKE2_KEYS, 'RKE2', 'the RKE2 release table (generators/distributions/rke2/rules.ts RKE2_RELEASES, from rancher/rke2 release tags)', (release) => {
  const line = RKE2_RELEASES[release.slice(1).split('.').slice(0, 2).join('.')];
  if (line?.includes(release)) return undefined;
  return line ? `RKE2 ${release} is not a release this generator lists (its line: ${line.join(', ')})` : `RKE2 ${release} is not on a line this generator lists (${Object.keys(RKE2_RELEASES).map((m) => `v${m}`).join(', ')})`;
});

export const rke2: RancherDistribution = {
  name: 'rke2',
  title: 'RKE2',
  clusterReady: 'RKE2 servers up',
  get schema() {
    return RKE2_SCHEMA;
  },
  model: { cluster: (input) => rancherClusterModel(RKE2_KEYS, input), pool: (p) => rancherPoolModel(RKE2_KEYS, p) },
  datastores: ['etcd', 'kine-postgres'],
  rules: {
    versions: (ctx, report) => rke2VersionKey(ctx, report),
    get cluster() {
      return [...RKE2_RULES, artifactRule(RKE2_KEYS, 'rke2')];
    },
    foreignSetting: (key) => rke2ForeignSetting(key),
  },
  secrets: (env, m) => rancherSecrets(RKE2_KEYS, 'RKE2', env, m),
  render: (m) => renderRke2(m),
  readme: {
    sections: (m, ctx) => rke2Sections(m, ctx),
    overviewName: (m) => `RKE2 ${rke2Cluster(m).version ?? ''}, CIS profile`,
    datastore,
    cni: (m) => (m.cluster.network.cni === 'flannel' ? 'flannel: RKE2 Canal' : m.cluster.network.cni),
  },
  addons: {
    // The family's upgrade controller and Plans (one catalog entry each, shared by the members).
    get entries() {
      return [systemUpgradeController, systemUpgradePlans];
    },
    values: {
      'nvidia-device-plugin': () => NVIDIA_DEVICE_PLUGIN_VALUES,
      // Without it Cilium's CIDR selectors match no node: "By default, CIDR-based selectors do not match
      // in-cluster entities (pods or nodes) … configure Cilium with --policy-cidr-match-mode=nodes or the
      // equivalent Helm value policyCIDRMatchMode: nodes" (cilium/cilium Documentation/security/policy/
      // language.rst, "Selecting nodes with CIDR / ipBlock"): the add-ons' kube-system policies admit the
      // API server by the node subnets (catalog/network-policies.ts apiServerIngressPolicy).
      // cni none (config.ts rke2Cni): the catalog's upstream Cilium chart, not RKE2's packaged rke2-cilium.
      // RKE2 never runs the supervisor's flannel (every CNI is a chart; flannel-backend is refused,
      // flags.ts), so its containerd reads the default CNI directories (../rancher/cni.ts).
      cilium: () => ({ policyCIDRMatchMode: 'nodes', ...ciliumCniValues() }),
    },
  },
  operations: { newEnvironmentSecrets: (name, m) => rancherSetupSecrets('RKE2', m) },
  upgrade: rke2Upgrade,
  facts: {
    // RKE2 renders cni: canal for flannel (flannel VXLAN with Calico's policy engine, RKE2's default).
    // Calico honours ipBlock `except` (the IMDS denial, catalog/network-policies.ts): projectcalico/calico
    // libcalico-go/lib/backend/k8s/conversion/conversion.go k8sPeerToCalicoFields turns IPBlock.Except into NotNets.
    networkPolicyEnforcer: () => "Canal (Calico's policy engine along with flannel), RKE2's default CNI",
    // The rke2-runtimeclasses chart creates them (rancher/rke2 v1.35.7+rke2r1 charts/chart_versions.yaml,
    // takeOwnership); nvidia is the one the platform uses.
    runtimeClasses: ['nvidia'],
    // The kubelet serving certificate comes from the supervisor, signed by the server CA, before the kubelet starts
    // (the family's shared agent code: pkg/agent/config/config.go getServingCert, /v1-<program>/serving-kubelet.crt).
    clusterCapabilities: () => [cap.kubeletServingCertificates],
    // Servers carry node-role.kubernetes.io/control-plane=true (the supervisor code of this family sets it).
    controlPlaneLabel: 'true',
    // apply-config.sh's drain before a restart stops at a pod no controller re-creates (lib/node-drain.ts row `restart`):
    // the rke2-server/rke2-agent units are KillMode=process and their ExecStopPost kills only the processes named
    // containerd and kubelet (rancher/rke2@1a821cd3 bundle/lib/systemd/system/rke2-server.service), so the pods'
    // containers keep running under their shims through a restart.
    blockedDrain: RANCHER_BLOCKED_DRAIN,
    // The CIS profile (always on here) puts default-network-policy into kube-system, kube-public and
    // default: ingress only from pods of the same namespace (rancher/rke2 v1.35.7+rke2r1 pkg/rke2/np.go
    // defaultNamespacePolicies; its extra kube-system policies open only RKE2's own charts: DNS on 53,
    // rke2-ingress-nginx, rke2-traefik, rke2-metrics-server, rke2-snapshot-validation-webhook).
    kubeSystemPolicies: true,
    // With Canal the CIS profile also runs RKE2's cisnetworkpolicy controller (rancher/rke2 pkg/rke2/rke2.go:79-84
    // @ v1.35.7+rke2r1: profile cis and cni canal; with cni none it removes the policy), which keeps
    // `rke2-flannel-host-networking` in kube-system, default and kube-public: every pod, every port, from
    // each flannel node's address (the first address of its pod CIDR, /32: the source of host-network
    // traffic leaving through flannel.1; pkg/controllers/cisnetworkpolicy/controller.go:105-166 @ v1.35.7+rke2r1).
    kubeSystemNodeIngress: (m) => (m.cluster.network.cni === 'flannel' ? "RKE2's rke2-flannel-host-networking policy (CIS profile, Canal) admits every node's flannel address" : undefined),
  },
  get aws() {
    return rke2Aws();
  },
  checks: {
    customResources: { 'upgrade.cattle.io/v1/Plan': (o) => planErrors(o) },
    environment: (m, files) => checkRenderedRke2(m, files),
    nodeConfigs: { pattern: /^rke2\/[^/]+\.yaml$/, read: (f) => nodeConfigOf(f) },
    get placeholders() {
      return rancherPlaceholders(RKE2_KEYS);
    },
  },
  get family() {
    return RKE2_KEYS;
  },
  get diff() {
    return rancherDiff(RKE2_KEYS);
  },
};
