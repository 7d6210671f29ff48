/**
 * What differs between the Talos minors this generator targets (T@v1.12.11, T@v1.13.9): the
 * output of `talosctl gen config`, the NVIDIA guide, the roles Talos knows. One place, so that a new
 * minor is one new entry.
 */
export type TalosMinor = '1.12' | '1.13';

export interface TalosRelease {
  minor: TalosMinor;
  /**
   * The newest patch release of this minor the project lists: v<minor>.0 up to it exist (Talos
   * numbers its patch releases without gaps); the generator was checked against it.
   */
  newestPatch: number;
  /** gen config writes `machine.network: {}` (v1.12 init.go/worker.go); v1.13 moved networking to documents. */
  emptyMachineNetwork: boolean;
  /** The NVIDIA GPU guide's sysctl (v1.12 docs; removed from the v1.13 guide). */
  nvidiaSysctls: Record<string, string>;
  /** role.All of pkg/machinery/role. */
  roles: readonly string[];
  /**
   * Kubernetes minors this Talos minor supports: T@v1.13.9:pkg/machinery/compatibility/talos1<minor>/
   * talos1<minor>.go MinimumKubernetesVersion / MaximumKubernetesVersion (1.12: 1.30.0, 1.35.99; 1.13:
   * 1.31.0, 1.36.99), which `talosctl upgrade-k8s` and the config validation enforce
   * (compatibility/kubernetes_version.go SupportedWith: "too old/too new to be used with Talos"); the
   * support matrix pages say the same (TALOS_SUPPORT_MATRIX).
   */
  kubernetes: { min: string; max: string };
  /** Extension versions Image Factory resolves for this Talos release (E@tag:nvidia-gpu/vars.yaml), for the README. */
  nvidia: { lts: string; production: string; toolkit: string };
  /**
   * Whether Talos' flannel can enforce NetworkPolicies: `cluster.network.cni.flannel.kubeNetworkPoliciesEnabled`
   * (new in v1.13, talos PR #12590; T@v1.13.9:pkg/machinery/config/types/v1alpha1/v1alpha1_types.go
   * FlannelCNIConfig) adds the kube-network-policies container (registry.k8s.io/networking/kube-network-policies)
   * to the kube-flannel DaemonSet (T@v1.13.9:internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/flannel.go).
   * v1.12's FlannelCNIConfig has only extraArgs, and its flannel never enforces NetworkPolicies.
   */
  flannelNetworkPolicies: boolean;
  /**
   * `talosctl upgrade-k8s` syncs the bootstrap manifests with server-side apply and prunes objects
   * no longer rendered (SupportsSSAManifestSync: 1.13+, T@v1.13.9:pkg/machinery/compatibility/talos_version.go);
   * before, the legacy sync updates but never deletes.
   */
  manifestSyncPrunes: boolean;
}

/** The support matrix page of the newest listed minor (docs.siderolabs.com; talos.dev/v1.12/introduction/support-matrix before). */
export const TALOS_SUPPORT_MATRIX = 'https://docs.siderolabs.com/talos/v1.13/getting-started/support-matrix';

const ROLES_112 = ['os:admin', 'os:operator', 'os:reader', 'os:etcd:backup', 'os:impersonator'];

export const TALOS_RELEASES: Record<TalosMinor, TalosRelease> = {
  '1.12': {
    minor: '1.12',
    newestPatch: 11,
    kubernetes: { min: '1.30', max: '1.35' },
    emptyMachineNetwork: true,
    nvidiaSysctls: { 'net.core.bpf_jit_harden': '1' },
    roles: ROLES_112,
    nvidia: { lts: '580.126.20', production: '570.211.01', toolkit: 'v1.18.2' },
    flannelNetworkPolicies: false,
    manifestSyncPrunes: false,
  },
  '1.13': {
    minor: '1.13',
    newestPatch: 9,
    kubernetes: { min: '1.31', max: '1.36' },
    emptyMachineNetwork: false,
    nvidiaSysctls: {},
    roles: [...ROLES_112, 'os:image:verifier', 'os:meta:writer'],
    nvidia: { lts: '580.178.04', production: '595.91.07', toolkit: 'v1.19.1' },
    flannelNetworkPolicies: true,
    manifestSyncPrunes: true,
  },
};

export function talosRelease(minor: string | undefined): TalosRelease {
  const r = TALOS_RELEASES[minor as TalosMinor];
  if (!r) throw new Error(`Talos ${minor ?? '(none)'} is not supported (supported: ${Object.keys(TALOS_RELEASES).join(', ')})`);
  return r;
}

/** The Talos minor a rendered config targets, from its installer image tag (`…:v1.13.9`). */
export function talosMinorOfInstaller(image: unknown): TalosMinor | undefined {
  const m = typeof image === 'string' ? /:v(\d+\.\d+)\.\d+$/.exec(image) : null;
  return m && m[1]! in TALOS_RELEASES ? (m[1] as TalosMinor) : undefined;
}

/**
 * The newest Kubernetes patch per minor the project lists for Talos clusters (kubernetesVersion is
 * the tag of the kubelet and control-plane images Talos pulls: a patch that was never released does
 * not boot). Kubernetes numbers its patches without gaps from .0. Sources: the upstream Kubernetes
 * patch tags as the release tags of the distributions that follow every upstream patch mirror them
 * (snapshot 2026-08-22: v1.30.14, v1.31.14, v1.32.13, v1.33.13, v1.34.10, v1.35.7, v1.36.3), then
 * their merged rebases onto v1.34.11 and v1.36.4, and for 1.35 v1.35.9 (each distribution's release
 * table cites its own tags). The other distributions take the patch from their release instead.
 */
export const KUBERNETES_NEWEST_PATCH: Readonly<Record<string, number>> = {
  '1.30': 14,
  '1.31': 14,
  '1.32': 13,
  '1.33': 13,
  '1.34': 11,
  '1.35': 9,
  '1.36': 4,
};

/** The first Talos minor whose flannel enforces NetworkPolicies (for messages). */
export const FLANNEL_NETWORK_POLICIES_SINCE = (Object.values(TALOS_RELEASES).find((r) => r.flannelNetworkPolicies) as TalosRelease).minor;

/**
 * `cluster.network.cni` of the v1alpha1 document (the same on every node, as gen config writes it;
 * only control planes act on it, T@v1.13.9:internal/app/machined/pkg/controllers/k8s/control_plane.go
 * ControlPlaneBootstrapManifestsController). Cilium: `name: none` (Talos deploys no CNI; the Cilium
 * add-on is the CNI). Flannel on a minor that supports it: kube-network-policies along with flannel,
 * so NetworkPolicies are enforced. Otherwise Talos' default (flannel), left unwritten as gen config does.
 */
export function talosCniConfig(release: TalosRelease, cni: 'flannel' | 'cilium'): Record<string, unknown> | undefined {
  if (cni === 'cilium') return { name: 'none' };
  if (release.flannelNetworkPolicies) return { name: 'flannel', flannel: { kubeNetworkPoliciesEnabled: true } };
  return undefined;
}

/** What enforces NetworkPolicies with flannel on a Talos minor, or undefined when nothing does (Cilium enforces them itself). */
export const flannelNetworkPolicyEnforcer = (minor: string | undefined): string | undefined =>
  TALOS_RELEASES[minor as TalosMinor]?.flannelNetworkPolicies ? 'kube-network-policies, deployed by Talos along with flannel' : undefined;

export const KUBEPRISM_PORT = 7445;
/** Namespace of the etcd-backup add-on (talos-backup CronJob + talos.dev ServiceAccount). */
export const ETCD_BACKUP_NAMESPACE = 'etcd-backup';
export const IMAGE_FACTORY = 'factory.talos.dev';

/** kube-apiserver flags Talos manages itself (control_plane_static_pod.go MergeDenied, 1.12.11 = 1.13.9). */
export const APISERVER_DENIED_ARGS: readonly string[] = [
  'etcd-servers', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'client-ca-file', 'tls-cert-file', 'tls-private-key-file',
  'service-account-key-file', 'service-account-signing-key-file', 'encryption-provider-config', 'kubelet-client-certificate',
  'kubelet-client-key', 'requestheader-client-ca-file', 'proxy-client-cert-file', 'proxy-client-key-file', 'authorization-config',
];
/** kubelet flags Talos manages itself (kubelet_spec.go). */
export const KUBELET_DENIED_ARGS: readonly string[] = ['bootstrap-kubeconfig', 'kubeconfig', 'container-runtime', 'container-runtime-endpoint', 'config', 'cert-dir'];
/** kubelet extraConfig fields Talos protects (pkg/machinery/kubelet ProtectedConfigurationFields). */
export const KUBELET_PROTECTED_CONFIG: readonly string[] = [
  'apiVersion', 'authentication', 'authorization', 'cgroupRoot', 'kind', 'kubeletCgroups', 'port', 'protectKernelDefaults', 'resolvConf',
  'rotateCertificates', 'systemCgroups', 'staticPodPath', 'seccompDefault',
];
