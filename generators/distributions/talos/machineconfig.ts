/**
 * Talos machine configuration for one config target (fixed node or auto-scaled pool): what
 * `talosctl gen config` writes for the pinned version and role (T@v1.1x:pkg/machinery/config/generate),
 * plus the environment's settings and the platform's hardening. Secret fields hold references to
 * the environment's secrets bundle (see secrets.ts). Pure.
 */
import { GPU_PRESENT_LABEL } from '../../model/aws.js';
import type { ConfigTarget, EnvironmentModel, Taint } from '../../model/types.js';
import { classImages, NVIDIA_KERNEL_MODULES } from './nodeclass.js';
import { applyPatch } from './patch.js';
import { CONTROL_PLANE_ONLY } from './checks.js';
import { ETCD_BACKUP_NAMESPACE, KUBEPRISM_PORT, talosCniConfig, talosRelease } from './release.js';
import { secretRef, type BundlePath } from './secrets.js';
import { POOL_NODE_LABEL, talosCluster, talosPool } from './model.js';

type Doc = Record<string, unknown>;

export const AWS_TIME_SYNC = '169.254.169.123';

/** PodSecurity admission: Talos' default (enforce baseline, audit/warn restricted), written out. */
export function podSecurityAdmission(): Doc[] {
  return [
    {
      name: 'PodSecurity',
      configuration: {
        apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
        kind: 'PodSecurityConfiguration',
        defaults: {
          enforce: 'baseline',
          'enforce-version': 'latest',
          audit: 'restricted',
          'audit-version': 'latest',
          warn: 'restricted',
          'warn-version': 'latest',
        },
        exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
      },
    },
  ];
}

/**
 * Audit policy: Talos' default is Metadata for everything. This one drops high-volume read noise,
 * never records bodies of Secrets, ConfigMaps or tokens, and records request bodies of every write.
 */
export function auditPolicy(): Doc {
  const core = (resources: string[]) => ({ group: '', resources });
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version', '/metrics'] },
      { level: 'None', resources: [core(['events']), { group: 'events.k8s.io', resources: ['events'] }] },
      { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'], resources: [core(['endpoints', 'services', 'services/status'])] },
      { level: 'None', userGroups: ['system:nodes'], verbs: ['get'], resources: [core(['nodes', 'nodes/status'])] },
      { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
      {
        level: 'Metadata',
        resources: [core(['secrets', 'configmaps', 'serviceaccounts/token']), { group: 'authentication.k8s.io', resources: ['tokenreviews'] }],
      },
      { level: 'Request', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
      { level: 'Metadata' },
    ],
  };
}

/** Talos nodeTaints value: `value:Effect`, or `Effect` alone (node_taint_spec.go strings.Cut). */
export const taintValue = (t: Taint): string => (t.value ? `${t.value}:${t.effect}` : t.effect);
/** kubelet --register-with-taints entry: `key=value:Effect` or `key:Effect`. */
export const registerTaint = (t: Taint): string => (t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`);

const ref = (p: BundlePath): string => secretRef(p);

export function nodeLabels(model: EnvironmentModel, target: ConfigTarget): Record<string, string> {
  const pool = target.pool;
  const subnet = target.node?.subnet ?? pool.subnet;
  return {
    ...(pool.role === 'controlplane' ? { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
    [POOL_NODE_LABEL]: pool.name,
    ...(subnet ? { 'topology.kubernetes.io/region': model.aws.region, 'topology.kubernetes.io/zone': subnet.zone } : {}),
    ...pool.labels,
    // The label the nvidia-device-plugin DaemonSet selects (catalog/nvidia-device-plugin.ts); set last so no pool label overrides it.
    ...(pool.gpu ? { [GPU_PRESENT_LABEL]: 'true' } : {}),
  };
}

/** The v1alpha1 document and the documents gen config adds (HostnameConfig), in that order. */
export function machineConfigDocuments(model: EnvironmentModel, target: ConfigTarget): Doc[] {
  const c = model.cluster;
  const t = talosCluster(model);
  const release = talosRelease(t.minor);
  const pool = target.pool;
  const cp = pool.role === 'controlplane';
  const k8s = `v${c.kubernetesVersion}`;
  const images = classImages(model, talosPool(pool).nodeClass);
  const subnet = target.node?.subnet ?? pool.subnet;
  const cilium = c.network.cni === 'cilium';
  const cni = talosCniConfig(release, c.network.cni);
  const backup = c.datastore.type === 'etcd' && c.datastore.backup !== undefined;

  const kubeletArgs: Record<string, string> = {
    // Serving certificates signed by the cluster CA (CSRs approved by the kubelet-csr-approver
    // approver add-on), so metrics-server can verify kubelets instead of skipping TLS checks.
    'rotate-server-certificates': 'true',
    // Workers may not change their own taints after registration (NodeRestriction): register with them.
    ...(!cp && pool.taints.length > 0 ? { 'register-with-taints': pool.taints.map(registerTaint).join(',') } : {}),
    ...t.kubeletExtraArgs,
  };
  const sysctls = { ...t.sysctls, ...(pool.gpu ? release.nvidiaSysctls : {}) };

  const machine: Doc = {
    type: cp ? 'controlplane' : 'worker',
    token: ref('trustdinfo.token'),
    ca: { crt: ref('certs.os.crt'), key: cp ? ref('certs.os.key') : '' },
    certSANs: c.certSANs,
    kubelet: {
      image: `ghcr.io/siderolabs/kubelet:${k8s}`,
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
      // AWS: register under the instance's private DNS name, as the AWS cloud controller expects.
      registerWithFQDN: true,
      extraArgs: kubeletArgs,
      extraConfig: { maxPods: pool.maxPods },
      nodeIP: { validSubnets: [subnet?.cidr ?? model.aws.vpc.cidr] },
    },
    ...(release.emptyMachineNetwork ? { network: {} } : {}),
    install: { disk: t.installDisk, image: images.installer, wipe: false, grubUseUKICmdline: true },
    ...(pool.gpu ? { kernel: { modules: NVIDIA_KERNEL_MODULES.map((name) => ({ name })) } } : {}),
    ...(Object.keys(sysctls).length > 0 ? { sysctls } : {}),
    features: {
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: KUBEPRISM_PORT },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
      ...(cp && backup
        ? { kubernetesTalosAPIAccess: { enabled: true, allowedRoles: ['os:etcd:backup'], allowedKubernetesNamespaces: [ETCD_BACKUP_NAMESPACE] } }
        : {}),
    },
    nodeLabels: nodeLabels(model, target),
    ...(cp && pool.taints.length > 0 ? { nodeTaints: Object.fromEntries(pool.taints.map((t) => [t.key, taintValue(t)])) } : {}),
  };

  const cluster: Doc = {
    id: ref('cluster.id'),
    secret: ref('cluster.secret'),
    controlPlane: { endpoint: c.endpoint },
    clusterName: c.name,
    network: {
      dnsDomain: c.network.dnsDomain,
      podSubnets: [c.network.podCIDR],
      serviceSubnets: [c.network.serviceCIDR],
      ...(cni ? { cni } : {}),
    },
    token: ref('secrets.bootstraptoken'),
    ca: { crt: ref('certs.k8s.crt'), key: cp ? ref('certs.k8s.key') : '' },
    discovery: { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } },
    // kubelet --cloud-provider=external on every node; the AWS cloud controller comes through the GitOps engine.
    externalCloudProvider: { enabled: true },
  };
  if (cp) {
    const apiServerArgs: Record<string, string> = {
      ...(model.aws.iam.mode === 'irsa' && model.aws.iam.issuerURL ? { 'service-account-issuer': model.aws.iam.issuerURL } : {}),
      ...t.apiServerExtraArgs,
    };
    Object.assign(cluster, {
      secretboxEncryptionSecret: ref('secrets.secretboxencryptionsecret'),
      aggregatorCA: { crt: ref('certs.k8saggregator.crt'), key: ref('certs.k8saggregator.key') },
      serviceAccount: { key: ref('certs.k8sserviceaccount.key') },
      apiServer: {
        image: `registry.k8s.io/kube-apiserver:${k8s}`,
        certSANs: c.certSANs,
        ...(Object.keys(apiServerArgs).length > 0 ? { extraArgs: apiServerArgs } : {}),
        admissionControl: podSecurityAdmission(),
        auditPolicy: auditPolicy(),
      },
      controllerManager: { image: `registry.k8s.io/kube-controller-manager:${k8s}` },
      proxy: { image: `registry.k8s.io/kube-proxy:${k8s}`, ...(cilium ? { disabled: true } : {}) },
      scheduler: { image: `registry.k8s.io/kube-scheduler:${k8s}` },
      etcd: { ca: { crt: ref('certs.etcd.crt'), key: ref('certs.etcd.key') } },
    });
  }

  return applyTalosPatches(model, target, [
    { version: 'v1alpha1', debug: false, persist: true, machine, cluster },
    // What gen config appends (contract > 1.11). On AWS the IMDS hostname still wins (platform layer).
    { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' },
    // Amazon Time Sync Service on the link-local address: no egress needed (the AWS guide's time server).
    { apiVersion: 'v1alpha1', kind: 'TimeSyncConfig', ntp: { servers: [AWS_TIME_SYNC] } },
  ]);
}

/** The environment's strategic-merge patches, cluster-wide first, then the pool's (generators/distributions/talos/patch.ts). */
export function talosPatchesFor(model: EnvironmentModel, target: ConfigTarget): { source: (string | number)[]; docs: Doc[] }[] {
  const poolIndex = model.pools.findIndex((p) => p.name === target.pool.name);
  // A cluster-wide patch of a control-plane-only section (cluster.apiServer, cluster.etcd …) is for
  // the control planes: workers get the rest of it.
  const forTarget = (d: Doc): Doc => (target.pool.role === 'controlplane' || d.kind !== undefined ? d : withoutPaths(d, CONTROL_PLANE_ONLY));
  return [
    ...talosCluster(model).patches.map((d, i) => ({ source: ['cluster', 'talos', 'patches', i], docs: [forTarget(d as Doc)] })),
    ...talosPool(target.pool).patches.map((d, i) => ({ source: ['nodePools', poolIndex, 'talos', 'patches', i], docs: [d as Doc] })),
  ];
}

function withoutPaths(d: Doc, paths: readonly (readonly string[])[]): Doc {
  const out: Doc = structuredClone(d);
  for (const p of paths) {
    let cur: unknown = out;
    for (const k of p.slice(0, -1)) cur = cur !== null && typeof cur === 'object' ? (cur as Doc)[k] : undefined;
    if (cur !== null && typeof cur === 'object') delete (cur as Doc)[p[p.length - 1]!];
  }
  return out;
}

function applyTalosPatches(model: EnvironmentModel, target: ConfigTarget, docs: Doc[]): Doc[] {
  let out: unknown[] = docs;
  for (const p of talosPatchesFor(model, target)) out = applyPatch(out, p.docs).docs;
  return out as Doc[];
}
