/**
 * Talos as a Distribution (../types.ts): machine configs and Image Factory schematics, its rules and
 * checks, README sections and runbook, the facts the core reads. The one object the registry lists.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { Distribution } from '../types.js';
import { CILIUM_NOTE, ciliumValues } from './addons/cilium.js';
import { etcdBackup } from './addons/etcd-backup.js';
import { kubeletCsrApprover } from './addons/kubelet-csr-approver.js';
import { TALOS_SCHEMA } from './schema.js';
import { talosCluster, talosClusterModel, talosPoolModel } from './model.js';
import { talosChecker, talosNodeConfig, talosServiceAccountErrors } from './checks.js';
import { TALOS_PATCH_RULES } from './rules-patches.js';
import { networkPolicyEnforcement, TALOS_RULES, talosDatastore, talosIdentifiers, talosVersions } from './rules.js';
import { TALOS_DIFF } from './diff-report.js';
import { talosSections } from './readme.js';
import { flannelNetworkPolicyEnforcer } from './release.js';
import { commandsText } from './operations.js';
import { renderTalos } from './render.js';
import { talosSecrets } from './secrets.js';
import { talosAws } from './aws.js';
import { talosUpgrade } from './upgrade.js';

function datastore(m: EnvironmentModel): string {
  const d = m.cluster.datastore;
  if (d.type !== 'etcd') return d.type;
  return `Talos-managed etcd${d.backup ? `, encrypted snapshots to \`s3://${d.backup.bucket}/${d.backup.prefix}\` on \`${d.backup.schedule}\`` : ' (no backup configured)'}. Talos cannot use Kine: it hard-codes kube-apiserver's \`--etcd-servers\` and always runs etcd.`;
}

// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
export const talos: Distribution = {
  name: 'talos',
  title: 'Talos',
  clusterReady: 'Talos bootstrapped',
  get schema() {
    return TALOS_SCHEMA;
  },
  model: { cluster: (input) => talosClusterModel(input), pool: (p) => talosPoolModel(p) },
  datastores: ['etcd'],
  rules: {
    datastore: (ctx, report) => talosDatastore(ctx, report),
    versions: (ctx, report) => talosVersions(ctx, report),
    get cluster() {
      return [...TALOS_RULES, ...TALOS_PATCH_RULES];
    },
    network: (ctx, report) => networkPolicyEnforcement(ctx, report),
    identifiers: (input) => talosIdentifiers(input),
  },
  secrets: (env, m) => talosSecrets(env, m),
  render: (m) => renderTalos(m),
  readme: {
    sections: (m, ctx) => talosSections(m, ctx),
    overviewName: () => 'Talos Linux',
    overviewRows: (m) => (talosCluster(m).version ? [{ label: 'Talos', value: talosCluster(m).version! }] : []),
    datastore,
    egress: {
      online: ' and Talos reaches its discovery service\n(`discovery.talos.dev:443`) and the Image Factory (`factory.talos.dev`) for upgrades',
      offline: ' and a self-hosted discovery service',
    },
  },
  addons: {
    get entries() {
      return [etcdBackup, kubeletCsrApprover];
    },
    values: { cilium: () => ciliumValues() },
    notes: { cilium: CILIUM_NOTE },
  },
  operations: {
    commands: (m, target) => commandsText(m, target),
    newEnvironmentSecrets: (name) => `Talos secrets: talosctl gen secrets -o secrets.yaml && npm run talos -- secrets import --env ${name} --from secrets.yaml   (then delete secrets.yaml)`,
  },
  get upgrade() {
    return talosUpgrade;
  },
  facts: {
    // kube-network-policies (sigs.k8s.io) implements the whole NetworkPolicy API, ipBlock `except` included (the IMDS
    // denial, catalog/network-policies.ts).
    networkPolicyEnforcer: (m) => flannelNetworkPolicyEnforcer(talosCluster(m).minor),
    networkPolicyInputs: [['cluster', 'talosVersion']],
    applyTimeSecrets: 'a Talos secret materialized at apply time',
    // Talos labels control planes like kubeadm, with an empty value.
    controlPlaneLabel: '',
    // The apply scripts' drain_node (./runbook.ts: kubectl drain --timeout=$ODP_DRAIN_TIMEOUT, 5m, then uncordon and stop).
    // talosctl upgrade 1.13 (the LifecycleService API) installs the image (siderolabs/talos v1.13.9
    // cmd/talosctl/cmd/talos/upgrade.go:141), drains for --drain-timeout 5m (:149-151, drain.go:86-100, nodedrain.go:29-30)
    // and on a failed drain returns before registering the uncordon (:156-164) and before the reboot (:168): the node
    // stays cordoned on its old Talos. (The legacy server-side Upgrade sequence instead gives up the drain after 5 minutes
    // and goes on: v1alpha1_sequencer_tasks.go:837-868, pkg/kubernetes/kubernetes.go:39-40.) Neither is reached with a
    // blocking budget: the runbook drains with kubectl first (./release.ts TALOS_UPGRADE_ORDER, ./runbook.ts).
    blockedDrain:
      'a config change that needs a reboot and a Talos upgrade both stop after the runbook\'s 5-minute kubectl drain (the node is uncordoned, its config not applied, its Talos not upgraded)',
    // Talos deploys flannel and kube-proxy as DaemonSets (with cni none, Cilium replaces both).
    flannelPods: ['kube-flannel', 'kube-proxy'],
    // Talos serves its own talos.dev ServiceAccount kind (Kubernetes Talos API access), which the etcd-backup add-on creates.
    clusterCapabilities: () => ['CRD talos.dev/ServiceAccount'],
    // Talos' uploader never deletes: the bucket's lifecycle rule expires snapshots (cluster.datastore.backup.expireAfterDays).
    snapshotExpiry: 'say how long the bucket keeps snapshots with backup.expireAfterDays',
  },
  get aws() {
    return talosAws;
  },
  checks: {
    get files() {
      return [talosChecker];
    },
    nodeConfigs: { pattern: /^talos\/[^/]+\.yaml$/, read: (f) => talosNodeConfig(f) },
    notKubernetes: /^talos\//,
    customResources: { 'talos.dev/v1alpha1/ServiceAccount': (o) => talosServiceAccountErrors(o) },
    help: 'Talos documents against the Talos rules',
    // commands/talos.ts refuses to materialize a config while the lock holds placeholders.
    placeholders: {
      refusal: 'npm run talos -- config refuses to materialize a config',
      guard: (path) => (/^talos\//.test(path) ? 'npm run talos -- config refuses to materialize it for a node' : undefined),
    },
  },
  get diff() {
    return TALOS_DIFF;
  },
};
