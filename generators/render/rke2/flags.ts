/**
 * RKE2 configuration keys (config.yaml keys = long flag names) of the pinned RKE2 release, one table
 * for `rke2 server` and one for `rke2 agent`, with each flag's value type.
 *
 * Source: rancher/rke2 v1.35.7+rke2r1 `pkg/cli/cmds/{server,agent,root}.go`: RKE2 wraps the K3s
 * commands of the K3s it vendors (go.mod: k3s-io/k3s v1.35.7-0.20260720191031-7464a828f03e,
 * release-1.35) through a K3SFlagSet that copies, hides or drops each K3s flag (k3sopts.go
 * `commandFromK3S`: a dropped flag is gone), then appends its own (`serverFlag`, `commonFlag`,
 * agent `deprecatedFlags`). Value types are K3s' (../k3s/flags.ts) for the copied flags; the flag
 * sets are identical on v1.34.10+rke2r1 and v1.36.3+rke2r1. Extracted mechanically: 134 server keys,
 * 66 agent keys. RKE2, like K3s, only warns about an unknown config.yaml key, so the generator refuses them.
 */
import { checkFlagIn, checkListItems, listItems, type FlagCatalog, type FlagIssue, type FlagSpec } from '../rancher/flags.js';
import type { NodeRole } from '../rancher/config.js';

/** The RKE2 release these tables describe. */
export const RKE2_FLAGS_RELEASE = 'v1.35.7+rke2r1';

const SERVER = {
  // K3s server flags RKE2 keeps (pkg/cli/cmds/server.go K3SFlagSet, copy/hide/override)
  "config": { type: 'string', aliases: ["c"] },
  "debug": { type: 'bool' },
  "v": { type: 'int', hidden: true },
  "vmodule": { type: 'string', hidden: true },
  "log": { type: 'string', aliases: ["l"], hidden: true },
  "alsologtostderr": { type: 'bool', hidden: true },
  "bind-address": { type: 'string' },
  "advertise-address": { type: 'string' },
  "tls-san": { type: 'list' },
  "tls-san-security": { type: 'bool' },
  "data-dir": { type: 'string', aliases: ["d"] },
  "disable-agent": { type: 'bool', hidden: true },
  "cluster-cidr": { type: 'list' },
  "service-cidr": { type: 'list' },
  "cluster-reset": { type: 'bool' },
  "cluster-reset-restore-path": { type: 'string' },
  "cluster-dns": { type: 'list' },
  "cluster-domain": { type: 'string' },
  "token": { type: 'string', aliases: ["t"] },
  "token-file": { type: 'string' },
  "write-kubeconfig": { type: 'string', aliases: ["o"] },
  "write-kubeconfig-mode": { type: 'string' },
  "write-kubeconfig-group": { type: 'string' },
  "kube-apiserver-arg": { type: 'list' },
  "etcd-arg": { type: 'list' },
  "kube-scheduler-arg": { type: 'list' },
  "kube-controller-manager-arg": { type: 'list' },
  "kube-cloud-controller-manager-arg": { type: 'list' },
  "datastore-endpoint": { type: 'string' },
  "datastore-cafile": { type: 'string' },
  "datastore-certfile": { type: 'string' },
  "datastore-keyfile": { type: 'string' },
  "disable": { type: 'list' },
  "disable-scheduler": { type: 'bool' },
  "disable-cloud-controller": { type: 'bool' },
  "disable-kube-proxy": { type: 'bool' },
  "disable-apiserver": { type: 'bool', hidden: true, experimental: true },
  "disable-controller-manager": { type: 'bool', hidden: true, experimental: true },
  "disable-etcd": { type: 'bool', hidden: true, experimental: true },
  "etcd-disable-snapshots": { type: 'bool' },
  "etcd-snapshot-schedule-cron": { type: 'string' },
  "etcd-snapshot-reconcile-interval": { type: 'duration' },
  "etcd-snapshot-retention": { type: 'int' },
  "etcd-snapshot-dir": { type: 'string' },
  "etcd-snapshot-name": { type: 'string' },
  "etcd-snapshot-compress": { type: 'bool' },
  "node-name": { type: 'string' },
  "with-node-id": { type: 'bool' },
  "node-label": { type: 'list' },
  "node-taint": { type: 'list' },
  "image-credential-provider-bin-dir": { type: 'string' },
  "image-credential-provider-config": { type: 'string' },
  "container-runtime-endpoint": { type: 'string' },
  "disable-default-registry-endpoint": { type: 'bool' },
  "nonroot-devices": { type: 'bool' },
  "embedded-registry": { type: 'bool' },
  "supervisor-metrics": { type: 'bool', experimental: true },
  "default-runtime": { type: 'string' },
  "private-registry": { type: 'string' },
  "system-default-registry": { type: 'string' },
  "node-ip": { type: 'list', aliases: ["i"] },
  "node-external-ip": { type: 'list' },
  "node-internal-dns": { type: 'list' },
  "node-external-dns": { type: 'list' },
  "resolv-conf": { type: 'string' },
  "egress-selector-mode": { type: 'string' },
  "kubelet-arg": { type: 'list' },
  "kube-proxy-arg": { type: 'list' },
  "agent-token": { type: 'string' },
  "agent-token-file": { type: 'string' },
  "server": { type: 'string', aliases: ["s"] },
  "secrets-encryption": { type: 'bool', hidden: true },
  "secrets-encryption-provider": { type: 'string', experimental: true },
  "protect-kernel-defaults": { type: 'bool' },
  "snapshotter": { type: 'string' },
  "selinux": { type: 'bool' },
  "lb-server-port": { type: 'int' },
  "service-node-port-range": { type: 'string' },
  "etcd-expose-metrics": { type: 'bool' },
  "airgap-extra-registry": { type: 'list', hidden: true },
  "etcd-s3": { type: 'bool' },
  "etcd-s3-access-key": { type: 'string' },
  "etcd-s3-bucket": { type: 'string' },
  "etcd-s3-bucket-lookup-type": { type: 'string' },
  "etcd-s3-config-secret": { type: 'string' },
  "etcd-s3-endpoint": { type: 'string' },
  "etcd-s3-endpoint-ca": { type: 'string' },
  "etcd-s3-folder": { type: 'string' },
  "etcd-s3-insecure": { type: 'bool' },
  "etcd-s3-proxy": { type: 'string' },
  "etcd-s3-region": { type: 'string' },
  "etcd-s3-secret-key": { type: 'string' },
  "etcd-s3-session-token": { type: 'string' },
  "etcd-s3-skip-ssl-verify": { type: 'bool' },
  "etcd-s3-timeout": { type: 'duration' },
  "etcd-s3-retention": { type: 'int' },
  "helm-job-image": { type: 'string' },
  "helm-controller-arg": { type: 'list' },
  "enable-pprof": { type: 'bool', experimental: true },
  "servicelb-namespace": { type: 'string' },
  // RKE2's own server flags (server.go serverFlag)
  "cni": { type: 'list' },
  "ingress-controller": { type: 'list' },
  "enable-servicelb": { type: 'bool' },
  "prime": { type: 'bool', hidden: true },
  // RKE2 flags of both roles (root.go commonFlag)
  "kube-apiserver-image": { type: 'string' },
  "kube-controller-manager-image": { type: 'string' },
  "cloud-controller-manager-image": { type: 'string' },
  "kube-proxy-image": { type: 'string' },
  "kube-scheduler-image": { type: 'string' },
  "pause-image": { type: 'string' },
  "runtime-image": { type: 'string' },
  "etcd-image": { type: 'string' },
  "kubelet-path": { type: 'string' },
  "cloud-provider-name": { type: 'string' },
  "cloud-provider-config": { type: 'string' },
  "node-name-from-cloud-provider-metadata": { type: 'bool' },
  "profile": { type: 'string' },
  "audit-policy-file": { type: 'string' },
  "pod-security-admission-config-file": { type: 'string' },
  "control-plane-resource-requests": { type: 'list' },
  "control-plane-resource-limits": { type: 'list' },
  "control-plane-probe-configuration": { type: 'list' },
  "kube-apiserver-extra-mount": { type: 'list' },
  "kube-scheduler-extra-mount": { type: 'list' },
  "kube-controller-manager-extra-mount": { type: 'list' },
  "kube-proxy-extra-mount": { type: 'list' },
  "etcd-extra-mount": { type: 'list' },
  "cloud-controller-manager-extra-mount": { type: 'list' },
  "kube-apiserver-extra-env": { type: 'list' },
  "kube-scheduler-extra-env": { type: 'list' },
  "kube-controller-manager-extra-env": { type: 'list' },
  "kube-proxy-extra-env": { type: 'list' },
  "etcd-extra-env": { type: 'list' },
  "cloud-controller-manager-extra-env": { type: 'list' },
} as const satisfies Record<string, FlagSpec>;

const AGENT = {
  // K3s agent flags RKE2 keeps (pkg/cli/cmds/agent.go K3SFlagSet, copy/hide/override)
  "config": { type: 'string', aliases: ["c"] },
  "debug": { type: 'bool' },
  "v": { type: 'int', hidden: true },
  "vmodule": { type: 'string', hidden: true },
  "log": { type: 'string', aliases: ["l"], hidden: true },
  "alsologtostderr": { type: 'bool', hidden: true },
  "data-dir": { type: 'string', aliases: ["d"] },
  "token": { type: 'string', aliases: ["t"] },
  "token-file": { type: 'string' },
  "node-name": { type: 'string' },
  "with-node-id": { type: 'bool' },
  "node-label": { type: 'list' },
  "node-taint": { type: 'list' },
  "image-credential-provider-bin-dir": { type: 'string' },
  "image-credential-provider-config": { type: 'string' },
  "container-runtime-endpoint": { type: 'string' },
  "disable-default-registry-endpoint": { type: 'bool' },
  "nonroot-devices": { type: 'bool' },
  "default-runtime": { type: 'string' },
  "private-registry": { type: 'string' },
  "node-ip": { type: 'list', aliases: ["i"] },
  "node-external-ip": { type: 'list' },
  "node-internal-dns": { type: 'list' },
  "node-external-dns": { type: 'list' },
  "resolv-conf": { type: 'string' },
  "kubelet-arg": { type: 'list' },
  "kube-proxy-arg": { type: 'list' },
  "server": { type: 'string', aliases: ["s"] },
  "protect-kernel-defaults": { type: 'bool' },
  "snapshotter": { type: 'string' },
  "selinux": { type: 'bool' },
  "lb-server-port": { type: 'int' },
  "airgap-extra-registry": { type: 'list', hidden: true },
  "bind-address": { type: 'string' },
  "enable-pprof": { type: 'bool', experimental: true },
  // RKE2's own agent flags (agent.go deprecatedFlags)
  "system-default-registry": { type: 'string', hidden: true },
  // RKE2 flags of both roles (root.go commonFlag)
  "kube-apiserver-image": { type: 'string' },
  "kube-controller-manager-image": { type: 'string' },
  "cloud-controller-manager-image": { type: 'string' },
  "kube-proxy-image": { type: 'string' },
  "kube-scheduler-image": { type: 'string' },
  "pause-image": { type: 'string' },
  "runtime-image": { type: 'string' },
  "etcd-image": { type: 'string' },
  "kubelet-path": { type: 'string' },
  "cloud-provider-name": { type: 'string' },
  "cloud-provider-config": { type: 'string' },
  "node-name-from-cloud-provider-metadata": { type: 'bool' },
  "profile": { type: 'string' },
  "audit-policy-file": { type: 'string' },
  "pod-security-admission-config-file": { type: 'string' },
  "control-plane-resource-requests": { type: 'list' },
  "control-plane-resource-limits": { type: 'list' },
  "control-plane-probe-configuration": { type: 'list' },
  "kube-apiserver-extra-mount": { type: 'list' },
  "kube-scheduler-extra-mount": { type: 'list' },
  "kube-controller-manager-extra-mount": { type: 'list' },
  "kube-proxy-extra-mount": { type: 'list' },
  "etcd-extra-mount": { type: 'list' },
  "cloud-controller-manager-extra-mount": { type: 'list' },
  "kube-apiserver-extra-env": { type: 'list' },
  "kube-scheduler-extra-env": { type: 'list' },
  "kube-controller-manager-extra-env": { type: 'list' },
  "kube-proxy-extra-env": { type: 'list' },
  "etcd-extra-env": { type: 'list' },
  "cloud-controller-manager-extra-env": { type: 'list' },
} as const satisfies Record<string, FlagSpec>;

export const RKE2_FLAGS: Record<NodeRole, Readonly<Record<string, FlagSpec>>> = { server: SERVER, agent: AGENT };

/** Valid items of the server's `disable` list (pkg/cli/types.go DisableItems). */
export const RKE2_DISABLE_ITEMS = ['rke2-coredns', 'rke2-metrics-server', 'rke2-snapshot-controller', 'rke2-snapshot-controller-crd', 'rke2-snapshot-validation-webhook'] as const;
/** `cni` values (pkg/cli/types.go CNIItems, plus `none` and `multus` first; server.go validateCNI). */
export const RKE2_CNI_ITEMS = ['none', 'multus', 'calico', 'canal', 'cilium', 'flannel'] as const;
/** `ingress-controller` values (pkg/cli/types.go IngressItems, plus `none`). */
export const RKE2_INGRESS_ITEMS = ['none', 'ingress-nginx', 'traefik'] as const;
/** `profile` values (pkg/rke2/rke2.go ProfileCIS, ProfileETCD; profile_linux.go validateProfile). */
export const RKE2_PROFILES = ['cis', 'etcd'] as const;

/**
 * K3s flags RKE2 dropped (dropFlag in server.go/agent.go), refused with what to do instead. RKE2
 * always runs embedded etcd unless datastore-endpoint is set, so there is no cluster-init; its CNIs
 * are charts, so no flannel-* flags.
 */
export const RKE2_REMOVED_FLAGS: Readonly<Record<string, string>> = {
  'cluster-init': 'RKE2 runs embedded etcd by default: the first server initializes it (cluster.datastore type etcd)',
  'flannel-backend': 'RKE2 deploys its CNI as a chart: choose it with cluster.network.cni (flannel → Canal, or cilium)',
  'flannel-iface': 'configure the CNI through its HelmChartConfig (rke2-canal), not a flag',
  'flannel-conf': 'configure the CNI through its HelmChartConfig (rke2-canal), not a flag',
  'flannel-cni-conf': 'configure the CNI through its HelmChartConfig (rke2-canal), not a flag',
  'flannel-ipv6-masq': 'configure the CNI through its HelmChartConfig (rke2-canal), not a flag',
  'flannel-external-ip': 'configure the CNI through its HelmChartConfig (rke2-canal), not a flag',
  'disable-network-policy': 'Canal (or Cilium) enforces NetworkPolicies on RKE2; there is no embedded policy controller to disable',
  'disable-helm-controller': 'RKE2 deploys its own components through the helm controller',
  'https-listen-port': 'RKE2 serves the API on 6443 and the supervisor on 9345',
  'supervisor-port': 'RKE2 serves the supervisor on 9345',
  'apiserver-port': 'RKE2 serves the API on 6443',
  'apiserver-bind-address': 'not configurable on RKE2',
  'advertise-port': 'not configurable on RKE2',
  'kube-controller-arg': "write 'kube-controller-manager-arg'",
  'kube-cloud-controller-arg': "write 'kube-cloud-controller-manager-arg'",
  'kine-tls': 'not available on RKE2',
  'default-local-storage-path': 'RKE2 has no local-path provisioner (the EBS CSI driver provides storage)',
  docker: 'RKE2 runs its embedded containerd',
  'image-service-endpoint': 'RKE2 runs its embedded containerd',
  rootless: 'RKE2 does not run rootless',
  'prefer-bundled-bin': 'RKE2 ships its binaries in the runtime image',
  'vpn-auth': 'RKE2 has no VPN integration',
  'vpn-auth-file': 'RKE2 has no VPN integration',
  'disable-apiserver-lb': 'not available on RKE2 agents',
};

/**
 * Keys the generator sets itself, with why. An environment may not set them through extraArgs:
 * they carry secrets (which never enter git), the cluster's topology, or the hardening.
 */
export const RKE2_MANAGED_KEYS: Readonly<Record<string, string>> = {
  token: 'the cluster token is read from SSM at boot into token-file; a token in config.yaml would be a secret in git',
  'token-file': 'written at boot from the SSM SecureString cluster.rke2.token (agents: cluster.rke2.agentToken)',
  'agent-token': 'the agent token is read from SSM at boot into agent-token-file',
  'agent-token-file': 'written at boot from the SSM SecureString cluster.rke2.agentToken',
  server: "joining nodes use the supervisor port 9345 of cluster.endpoint's host",
  'datastore-endpoint': 'set from cluster.datastore (the PostgreSQL password is read from SSM at boot and never written to git)',
  'datastore-cafile': 'set from cluster.datastore.postgres.caBundlePath',
  'cluster-cidr': 'set from cluster.network.podCIDR',
  'service-cidr': 'set from cluster.network.serviceCIDR',
  'cluster-domain': 'set from cluster.network.dnsDomain',
  cni: 'set from cluster.network.cni (flannel → canal; cilium → none, the catalog installs Cilium)',
  'disable-kube-proxy': 'set from cluster.network.cni (Cilium replaces kube-proxy)',
  'ingress-controller': 'always none: the AWS Load Balancer Controller serves Ingresses',
  'tls-san': 'set from cluster.endpoint, the server IPs and cluster.extraSANs',
  'node-label': "set from the pool's labels",
  'node-taint': "set from the pool's taints",
  'node-name': 'set at boot to the EC2 private DNS name (IMDSv2), which the AWS cloud controller manager needs',
  'node-name-from-cloud-provider-metadata': 'the boot script sets the node name from IMDSv2 (and fails loudly, where RKE2 falls back to the hostname)',
  'cloud-provider-name': 'unset: kubelets run with cloud-provider=external and the AWS cloud controller manager add-on replaces the built-in one',
  'disable-cloud-controller': 'always true: the AWS cloud controller manager replaces the built-in one',
  profile: 'always cis: the CIS profile is the point of the RKE2 target',
  'protect-kernel-defaults': 'the CIS profile sets it (and refuses false)',
  'pod-security-admission-config-file': 'the generator writes the Pod Security admission configuration (restricted, kube-system exempt)',
  'audit-policy-file': 'the generator writes the audit policy',
  'etcd-s3': 'set from cluster.datastore.backup',
  'etcd-s3-bucket': 'set from cluster.datastore.backup.bucket',
  'etcd-s3-folder': 'set from cluster.datastore.backup.prefix',
  'etcd-s3-region': 'set from aws.region',
  'etcd-s3-access-key': 'snapshots reach S3 with the instance profile; keys would be secrets in git',
  'etcd-s3-secret-key': 'snapshots reach S3 with the instance profile; keys would be secrets in git',
  'etcd-s3-session-token': 'snapshots reach S3 with the instance profile; keys would be secrets in git',
  'etcd-s3-retention': 'set from cluster.datastore.backup.retention',
  'etcd-snapshot-retention': 'set from cluster.datastore.backup.retention',
  'etcd-snapshot-schedule-cron': 'set from cluster.datastore.backup.schedule',
  'data-dir': 'the runbooks and the restore assume /var/lib/rancher/rke2',
  config: 'the config file location is fixed (/etc/rancher/rke2/config.yaml)',
  'secrets-encryption': 'RKE2 always encrypts Secrets (pkg/rke2/rke2.go Server sets secrets-encryption true)',
};

/**
 * Server flags whose value every server must share (K3s' critical control arguments, which a
 * joining server compares with the cluster's and refuses to start on a mismatch, plus RKE2's chart
 * selections): only cluster.rke2.extraArgs may set them, never one controlplane pool.
 */
export const RKE2_CLUSTER_WIDE_KEYS: readonly string[] = [
  'cluster-dns', 'cluster-domain', 'cluster-cidr', 'service-cidr', 'service-node-port-range', 'disable', 'disable-cloud-controller', 'disable-kube-proxy',
  'egress-selector-mode', 'supervisor-metrics', 'cni', 'ingress-controller', 'enable-servicelb', 'embedded-registry', 'secrets-encryption-provider',
  'etcd-snapshot-schedule-cron', 'etcd-snapshot-retention', 'etcd-s3', 'etcd-s3-bucket', 'etcd-s3-folder', 'etcd-s3-region', 'profile',
];

export const RKE2_CATALOG: FlagCatalog = {
  command: 'rke2',
  article: 'an',
  release: `RKE2 ${RKE2_FLAGS_RELEASE}`,
  tables: RKE2_FLAGS,
  serverHint: 'set it on a controlplane pool or in cluster.rke2.extraArgs',
  removed: RKE2_REMOVED_FLAGS,
  valueCheck: (_role, key, value, didYouMean) => {
    if (key === 'disable') {
      const issue = checkListItems(key, value, RKE2_DISABLE_ITEMS, 'a packaged component RKE2 can disable', didYouMean);
      return issue && /^rke2-(ingress-nginx|traefik|canal|calico|cilium|flannel|multus)/.test(issue.message.slice(1))
        ? { ...issue, hint: 'RKE2 chooses ingress controllers and CNIs with ingress-controller and cni, not disable' }
        : issue;
    }
    if (key === 'cni') {
      const items = listItems(value);
      if (items.includes('multus') && items[0] !== 'multus') return { key, on: 'value', message: 'multus must be the first cni value', hint: 'RKE2 takes multus only as the first of two values' };
      return checkListItems(key, value, RKE2_CNI_ITEMS, 'a CNI RKE2 deploys', didYouMean);
    }
    if (key === 'ingress-controller') return checkListItems(key, value, RKE2_INGRESS_ITEMS, 'an ingress controller RKE2 deploys', didYouMean);
    if (key === 'profile' && !(RKE2_PROFILES as readonly string[]).includes(value as string))
      return { key, on: 'value', message: `profile '${String(value)}' is not an RKE2 ${RKE2_FLAGS_RELEASE} profile`, hint: `one of: ${RKE2_PROFILES.join(', ')} (cis-1.23 and cis-1.6 are older releases' names)` };
    return undefined;
  },
};

/** Check one key of an RKE2 config for a role (see ../rancher/flags.ts checkFlagIn). */
export function checkRke2Flag(role: NodeRole, key: string, value: unknown, didYouMean: (w: string, c: string[]) => string | undefined): FlagIssue | undefined {
  return checkFlagIn(RKE2_CATALOG, role, key, value, didYouMean);
}
