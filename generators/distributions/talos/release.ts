/**
 * What differs between the Talos minors this generator targets (T@v1.12.11, T@v1.13.9): the
 * output of `talosctl gen config`, the NVIDIA guide, the roles Talos knows. One place, so that a new
 * minor is one new entry.
 */
import { drainOptions, NODE_DRAIN } from '../../lib/node-drain.js';
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
  /**
   * What `talosctl upgrade` of a node RUNNING this minor does when a PodDisruptionBudget blocks an eviction.
   * - 'reboots-anyway' (1.12, and any node up to 1.13.0-alpha.2: talosctl falls back to the legacy MachineService.Upgrade,
   *   T@v1.13.9 cmd/talosctl/cmd/talos/upgrade.go:86, 117-127): the node drains itself in its Upgrade sequence (phase
   *   "drain": T@v1.12.11 internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer.go:429-434, CordonAndDrainNode
   *   v1alpha1_sequencer_tasks.go:827-863), evicting through the eviction API and retrying a budget's 429 every 5 s
   *   under a 5-minute context (pkg/kubernetes/kubernetes.go:38-39 DrainTimeout, Drain 229-282, evict 284-307); an
   *   eviction still refused then is logged ("WARNING: failed to evict pod", :273-275) and Drain returns nil: the upgrade goes on
   *   and reboots the node with the pod on it. talosctl 1.12 has no flag to skip or bound it (upgrade.go:157-170).
   * - 'stops' (1.13: LifecycleService.Upgrade): talosctl installs the image, then drains client-side with kubectl's
   *   drain library (--drain, default true; --drain-timeout 5m: upgrade.go:148-153, 368-369;
   *   cmd/talosctl/pkg/talos/nodedrain/nodedrain.go:29-30, 68-150) and returns the drain's error without rebooting,
   *   the node left cordoned and the new image installed for its next boot (uncordon is deferred only after a drain
   *   that succeeded: upgrade.go:154-166).
   * Either way the runbook drains first itself (kubectl drain, which never evicts past a budget) and upgrades only a
   * drained node: on it Talos' own drain finds nothing left to evict (DaemonSet and mirror pods are skipped by both).
   */
  upgradeDrainOnBudget: 'reboots-anyway' | 'stops';
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
    upgradeDrainOnBudget: 'reboots-anyway',
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
    upgradeDrainOnBudget: 'stops',
  },
};

/**
 * The drain the runbook runs before a node goes down (a config reboot or an upgrade): kubectl drain with the options
 * talosctl's own drain uses (T@v1.13.9 cmd/talosctl/pkg/talos/nodedrain/nodedrain.go:84-91: IgnoreAllDaemonSets,
 * DeleteEmptyDirData) and its default timeout (DefaultDrainTimeout, nodedrain.go:29-30), but not its Force: a pod no
 * controller re-creates stops the drain, the script naming it and its delete command (lib/node-drain.ts row `reboot`: its
 * object survives a reboot, which `talosctl reboot` is: no drain of its own, reboot.go:142-143, v1alpha1_sequencer.go
 * :238-256; an upgrade's own drain, talosctl's in 1.13 and the Upgrade sequence's in 1.12, would delete it, so the
 * operator decides before either). kubectl drain evicts through the eviction API, retries a budget's 429 every
 * 5 s and fails at --timeout without evicting past the budget (kubernetes/kubectl@dee3483a3 pkg/drain/drain.go:295-330,
 * pkg/cmd/drain/drain.go:226-230, 335-360). A node kubectl cordoned stays cordoned after a reboot or an upgrade: Talos
 * uncordons only a Node it cordoned itself (the talos.dev/cordoned annotation: T@v1.13.9 and T@v1.12.11
 * internal/app/machined/pkg/controllers/k8s/node_apply.go:466-489), so the runbook uncordons it once the node is back.
 * The options and the timeout are the `reboot` row of the one drain table (lib/node-drain.ts NODE_DRAIN), which is
 * this drain's (test/node-drain.test.ts checks the row against these sources' values).
 */
export const TALOS_DRAIN = { policy: NODE_DRAIN.reboot, options: drainOptions(NODE_DRAIN.reboot), timeout: NODE_DRAIN.reboot.timeout } as const;

/**
 * The order of a Talos version change on a node: the new Talos first (`talosctl upgrade --image`, the node keeping the
 * config it runs), then the config rendered for the new version. Never the other way round: machined parses an applied
 * config strictly (yaml KnownFields and CheckUnknownKeys: T@v1.12.11
 * pkg/machinery/config/configloader/internal/decoder/decoder.go:74, 196-198; a document kind it does not know is
 * "not registered": :185, pkg/machinery/config/internal/registry/registry.go:79) and refuses it as a whole
 * (InvalidArgument, nothing applied: internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go:208-210), so a
 * config for a newer minor with a field or document the running one does not know (1.13's
 * `cluster.network.cni.flannel.kubeNetworkPoliciesEnabled`, FlannelNetworkPolicies above; a 1.13-only document in a
 * patch) never reaches a node still on the older one. The newer machined reads the older config (compatibility runs
 * backwards only: T@v1.13.9 pkg/machinery/config/contract.go:14-17, "Talos 0.9 can generate configs for Talos 0.9 and
 * 0.8"; `gen config --talos-version` renders for an older contract, cmd/talosctl/cmd/mgmt/gen/config.go:435; 1.12's
 * `machine.network` is still a v1alpha1 field at 1.13: v1alpha1_types.go:294), so the node boots its new version with
 * the config it had, and the new one is applied to a node that knows every field of it. Rendering the old version's
 * configs as well is not needed: an upgrade never touches the config the node runs.
 */
export const TALOS_UPGRADE_ORDER = ['upgrade', 'config'] as const;

/**
 * Where a failed `talosctl upgrade` leaves a node, told apart by what the node says afterwards (the runbook's
 * upgrade_failed reads these; sources T@v1.13.9 unless said):
 * - 1.13 (LifecycleService, cmd/talosctl/cmd/talos/upgrade.go): the image is pulled (:136-139, "error pulling upgrade
 *   image"), installed (:141-144; the installer's exit code reported as "<node>: upgrade completed" or "… upgrade failed
 *   with exit code N", :222-236, printed by the reporter line by line, pkg/reporter/reporter.go:125-132), then talosctl
 *   drains (:148-153) and reboots (:167-172); the uncordon is deferred only after a drain that succeeded (:155-166), so
 *   a drain that fails (a pod a budget keeps, scheduled after the runbook's own drain) returns with the node cordoned,
 *   the new image installed and not booted. The installer switches the boot entry only when it installs the bootloader,
 *   near its end (cmd/installer/pkg/install/install.go:372): a failed install boots the running version again. The
 *   next step after an installed image is a drained reboot into it, never a second install, on either bootloader the
 *   installer finds (bootloader/bootloader.go:49-72 probes GRUB, then sd-boot; paths under
 *   internal/app/machined/pkg/runtime/v1alpha1/bootloader/, the same at v1.12.11):
 *   - GRUB: the config's default flips to the other slot and the running one becomes the fallback (grub/upgrade.go:62,
 *     boot_label.go:27-42); a second install flips again, over the slot of the version the node runs.
 *   - sd-boot (UKI, UEFI installs): the first install points the EFI variable LoaderEntryDefault at the new UKI
 *     (sdboot/sdboot.go:400); a second one takes that variable as the current entry (the probe reads LoaderEntryDefault
 *     before LoaderEntrySelected, the booted one: :126-159), deletes every other UKI, the running version's included
 *     (Upgrade, :345-365), and makes the unbooted image the fallback.
 *   Either way `talosctl rollback` could no longer go back to the version the node runs.
 *   Why talosctl's line is the one signal of an installed image: the installer's exit code reaches only the client's
 *   stream (internal/app/lifecycle/lifecycle.go:211-226, sendExitCode), which talosctl prints as "<node>: upgrade
 *   completed" (cmd/talosctl/cmd/talos/upgrade.go:212, 233). Nothing on the node says so before the reboot: the
 *   BootedEntry resource is the entry booted (pkg/machinery/resources/runtime/booted_entry_status.go:29); the META
 *   upgrade tag the installer writes (install.go:407-408, on the META partition) reaches the MetaKey resources only when
 *   machined reloads META, which 1.12's Upgrade sequence does after its install (v1alpha1_sequencer.go:458-462) and
 *   1.13's LifecycleService.Upgrade does not (lifecycle.go:145-232), and the tag is dropped once the new boot is
 *   running (controllers/runtime/drop_upgrade_fallback.go:78). test/talos.test.ts pins the line.
 * - 1.12 (legacy MachineService.Upgrade): the request is refused before anything is done (image validation, the etcd
 *   checks: T@v1.12.11 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go:529-552), or the Upgrade
 *   sequence runs in the background (:590-596: a failure is only logged) and stops pods and services before the
 *   install (v1alpha1_sequencer.go:423-475); MachineStatus' stage is then `upgrading`, and `rebooting` once the
 *   sequence failed (controllers/runtime/machine_status.go:417-429), the node answering with its services stopped:
 *   only a reboot brings it back (into the new version if the install phase was done).
 * - The node's running version: `talosctl version`'s Server Tag (cmd/talosctl/cmd/talos/version.go:51-86).
 */
export const TALOS_UPGRADE_FAILURE = {
  /** talosctl's line once the installer exited 0 (the image installed for the next boot). */
  installed: ': upgrade completed',
  /** MachineStatus stages of a node whose Upgrade sequence stopped its services (1.12). */
  sequenceStages: ['upgrading', 'rebooting'],
} as const;

/**
 * A control plane that can serve the calls that need etcd (the etcd snapshot, upgrade-k8s, the cluster health check):
 * its etcd service Running with a passing health check (`talosctl service etcd`: STATE, HEALTH — the service's health
 * check is ValidateQuorum on the local member: T@v1.13.9 internal/app/machined/pkg/system/services/etcd.go:252-266;
 * the output pkg/machinery/formatters/formatters.go:208-243), and its member seeing a leader (`talosctl etcd members`
 * asks the local member, QueryLocal: cmd/talosctl/cmd/talos/etcd.go:206-213, with WithRequireLeader:
 * v1alpha1_server.go:1817-1842). The same at v1.12.11.
 */
export const TALOS_ETCD_HEALTHY = { state: 'Running', health: 'OK' } as const;

/**
 * `talosctl etcd members`, bounded: talosctl has no request timeout of its own (its global flags are --context,
 * --endpoints, --nodes and --talosconfig: siderolabs/talos docs/talosctl/talosctl.md, "Options"), and a node whose
 * Talos API accepted the connection but does not answer would hang a gate (aws/deploy.sh node-update's, while it holds
 * the cluster-wide Lease) for ever. 15 s, as a kubectl request (lib/kubectl-timeout.ts KUBECTL_REQUEST_SECONDS): one
 * small gRPC call that fails at once while its member sees no leader; run through lib/portable-shell.ts `bounded`
 * (coreutils timeout, or a watchdog on macOS). The scripts that call it include PORTABLE_BOUNDED.
 */
export const TALOS_ETCD_MEMBERS_SECONDS = 15;
export const TALOS_ETCD_MEMBERS = `bounded ${TALOS_ETCD_MEMBERS_SECONDS} talosctl etcd members`;

/**
 * The contract of a rendered config: the Talos minor it is rendered for (the installer tag). A node running an older
 * minor refuses it as a whole (TALOS_UPGRADE_ORDER): the apply script asks each node's running version first and
 * refuses to push a config for a newer minor, naming the upgrade script.
 */
export const talosContract = (version: string): { major: number; minor: number } | undefined => {
  const m = /^v?(\d+)\.(\d+)\./.exec(version);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
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

/**
 * A node joining or leaving the cluster (the runbook's `join` and `remove` scripts: runbook.ts joinScript, removeScript).
 * Read at T@v1.13.9 (the same at v1.12.11) and siderolabs/docs talos/v1.13 deploy-and-manage-workloads/scaling-down:
 * - First apply: a node boots in maintenance mode and takes its config with `talosctl apply-config --insecure` (no
 *   client certificate yet); once configured, its API verifies client certificates and refuses --insecure
 *   (internal/app/machined/pkg/controllers/runtime/api_service_config.go:108-135).
 * - A control plane joins etcd as a learner (MemberAddAsLearner: internal/app/machined/pkg/system/services/etcd.go:
 *   286-325), promoted by its etcd service once it caught up (:206-214). etcd takes one learner at a time (etcd's
 *   default max-learners is 1), so control planes join one at a time: the next once this one is a voting member whose
 *   local etcd sees a leader (`etcd members` asks WithRequireLeader).
 * - `talosctl etcd members` prints NODE, ID, HOSTNAME, PEER URLS, CLIENT URLS, LEARNER (cmd/talosctl/cmd/talos/etcd.go:
 *   205-262): `columns` counts them from the end (NODE is there only when the reply names its node).
 * - Scaling down (the docs): `talosctl reset` (cordons and drains, leaves etcd if a control plane, wipes, powers off),
 *   then `kubectl delete node`. Its Reset sequence: drain (failure only logged), pods removed, `leave` (LeaveEtcd:
 *   the member removed WithRequireLeader, then etcd stopped and its data removed; skipped when no member data is left),
 *   then services stopped and disks wiped (internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer.go:260-335,
 *   v1alpha1_sequencer_tasks.go:899-956, internal/pkg/etcd/etcd.go LeaveCluster). `talosctl etcd leave` runs that
 *   LeaveCluster alone (etcd.go:154-168; v1alpha1_server.go:1896-1920), so the script leaves first and sees the member
 *   gone before anything is wiped. `talosctl etcd remove-member <ID>` removes a member through another control plane,
 *   "only if … there is no access to the node" (etcd.go:170-189; v1alpha1_server.go:1866-1893).
 * - Quorum: a removal leaves N voting members; etcd keeps a quorum only with N/2+1 of them healthy (and refuses a
 *   removal that would leave fewer started members: etcd's strict reconfiguration check), and never removes its
 *   last member: the script checks both first, before the node is drained.
 */
export const TALOS_MEMBERSHIP = {
  /** From the end of a member line: ID, PEER URLS, LEARNER (awk $(NF-n)). */
  columns: { id: 4, peerUrls: 2, learner: 0 },
} as const;
