/**
 * RKE2 configuration keys (config.yaml keys = long flag names) of the pinned RKE2 release, one table
 * for `rke2 server` and one for `rke2 agent`, with each flag's value type.
 *
 * Source: rancher/rke2 v1.35.7+rke2r1 `pkg/cli/cmds/{server,agent,root}.go`: RKE2 wraps the
 * commands of the supervisor it vendors (go.mod: the supervisor module at
 * v1.35.7-0.20260720191031-7464a828f03e, release-1.35) through a flag set that copies, hides or
 * drops each supervisor flag (pkg/cli/cmds/*opts.go `commandFrom…`: a dropped flag is gone), then
 * appends its own (`serverFlag`, `commonFlag`, agent `deprecatedFlags`). The kept flags take the
 * supervisor's value types and aliases (../rancher/supervisor-flags.ts); the flag sets are identical
 * on v1.34.10+rke2r1 and v1.36.3+rke2r1. Extracted mechanically: 134 server keys, 66 agent keys.
 * RKE2, like the supervisor, only warns about an unknown config.yaml key, so the generator refuses them.
 * Its app sets DisableSliceFlagSeparator (v1.35.7+rke2r1 pkg/cli/cmds/root.go:244, and go.mod: urfave/cli/v2 v2.27.7):
 * a list flag's string value is ONE argument, trimmed only at its ends, so 'proxy-mode=ipvs, ipvs-scheduler=rr' reaches
 * kube-proxy as one --proxy-mode (../rancher/flags.ts SPACE_EXACT_FLAGS refuses the space).
 */
import { checkFlagIn, checkListItems, listItems, nearMissIssue, type FlagCatalog, type FlagIssue, type FlagSpec } from '../rancher/flags.js';
import type { NodeRole } from '../rancher/config.js';
import { parseQuantity } from '../../lib/quantity.js';
import { SUPERVISOR_FLAGS } from '../rancher/supervisor-flags.js';

/** The RKE2 release these tables describe. */
export const RKE2_FLAGS_RELEASE = 'v1.35.7+rke2r1';

/**
 * Supervisor flags RKE2 keeps (copyFlag, hideFlag or a changed usage/default in the flag set of
 * server.go / agent.go), with the supervisor's value types and aliases (../rancher/supervisor-flags.ts).
 */
const KEPT: Record<NodeRole, readonly string[]> = {
  server: [
  'config', 'debug', 'v', 'vmodule', 'log', 'alsologtostderr', 'bind-address', 'advertise-address',
  'tls-san', 'tls-san-security', 'data-dir', 'disable-agent', 'cluster-cidr', 'service-cidr',
  'cluster-reset', 'cluster-reset-restore-path', 'cluster-dns', 'cluster-domain', 'token', 'token-file',
  'write-kubeconfig', 'write-kubeconfig-mode', 'write-kubeconfig-group', 'kube-apiserver-arg', 'etcd-arg',
  'kube-scheduler-arg', 'kube-controller-manager-arg', 'kube-cloud-controller-manager-arg',
  'datastore-endpoint', 'datastore-cafile', 'datastore-certfile', 'datastore-keyfile', 'disable',
  'disable-scheduler', 'disable-cloud-controller', 'disable-kube-proxy', 'disable-apiserver',
  'disable-controller-manager', 'disable-etcd', 'etcd-disable-snapshots', 'etcd-snapshot-schedule-cron',
  'etcd-snapshot-reconcile-interval', 'etcd-snapshot-retention', 'etcd-snapshot-dir', 'etcd-snapshot-name',
  'etcd-snapshot-compress', 'node-name', 'with-node-id', 'node-label', 'node-taint',
  'image-credential-provider-bin-dir', 'image-credential-provider-config', 'container-runtime-endpoint',
  'disable-default-registry-endpoint', 'nonroot-devices', 'embedded-registry', 'supervisor-metrics',
  'default-runtime', 'private-registry', 'system-default-registry', 'node-ip', 'node-external-ip',
  'node-internal-dns', 'node-external-dns', 'resolv-conf', 'egress-selector-mode', 'kubelet-arg',
  'kube-proxy-arg', 'agent-token', 'agent-token-file', 'server', 'secrets-encryption',
  'secrets-encryption-provider', 'protect-kernel-defaults', 'snapshotter', 'selinux', 'lb-server-port',
  'service-node-port-range', 'etcd-expose-metrics', 'airgap-extra-registry', 'etcd-s3', 'etcd-s3-access-key',
  'etcd-s3-bucket', 'etcd-s3-bucket-lookup-type', 'etcd-s3-config-secret', 'etcd-s3-endpoint',
  'etcd-s3-endpoint-ca', 'etcd-s3-folder', 'etcd-s3-insecure', 'etcd-s3-proxy', 'etcd-s3-region',
  'etcd-s3-secret-key', 'etcd-s3-session-token', 'etcd-s3-skip-ssl-verify', 'etcd-s3-timeout',
  'etcd-s3-retention', 'helm-job-image', 'enable-pprof', 'servicelb-namespace',
  ],
  agent: [
  'config', 'debug', 'v', 'vmodule', 'log', 'alsologtostderr', 'data-dir', 'token', 'token-file',
  'node-name', 'with-node-id', 'node-label', 'node-taint', 'image-credential-provider-bin-dir',
  'image-credential-provider-config', 'container-runtime-endpoint', 'disable-default-registry-endpoint',
  'nonroot-devices', 'default-runtime', 'private-registry', 'node-ip', 'node-external-ip',
  'node-internal-dns', 'node-external-dns', 'resolv-conf', 'kubelet-arg', 'kube-proxy-arg', 'server',
  'protect-kernel-defaults', 'snapshotter', 'selinux', 'lb-server-port', 'airgap-extra-registry',
  'bind-address', 'enable-pprof',
  ],
};

/** hideFlag in the flag sets. */
const HIDDEN = ['v', 'vmodule', 'log', 'alsologtostderr', 'secrets-encryption'];

const list: FlagSpec = { type: 'list' };
const str: FlagSpec = { type: 'string' };
const COMPONENTS = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy', 'etcd', 'cloud-controller-manager'];

/** RKE2 flags of both roles (root.go commonFlag; image names from pkg/images/images.go). */
const COMMON: Record<string, FlagSpec> = {
  ...Object.fromEntries(['kube-apiserver', 'kube-controller-manager', 'cloud-controller-manager', 'kube-proxy', 'kube-scheduler', 'pause', 'runtime', 'etcd'].map((c) => [`${c}-image`, str])),
  'kubelet-path': str,
  'cloud-provider-name': str,
  'cloud-provider-config': str,
  'node-name-from-cloud-provider-metadata': { type: 'bool' },
  profile: str,
  'audit-policy-file': str,
  'pod-security-admission-config-file': str,
  'control-plane-resource-requests': list,
  'control-plane-resource-limits': list,
  'control-plane-probe-configuration': list,
  ...Object.fromEntries(COMPONENTS.flatMap((c) => [[`${c}-extra-mount`, list], [`${c}-extra-env`, list]])),
};

/** RKE2's own flags per role: server.go serverFlag (and helm-controller-arg, a supervisor flag newer than ../rancher/supervisor-flags.ts), agent.go deprecatedFlags. */
const OWN: Record<NodeRole, Record<string, FlagSpec>> = {
  server: { 'helm-controller-arg': list, cni: list, 'ingress-controller': list, 'enable-servicelb': { type: 'bool' }, prime: { type: 'bool', hidden: true } },
  agent: { 'system-default-registry': { type: 'string', hidden: true } },
};

function table(role: NodeRole): Readonly<Record<string, FlagSpec>> {
  const supervisor = SUPERVISOR_FLAGS[role];
  const kept = KEPT[role].map((n) => [n, HIDDEN.includes(n) ? { ...supervisor[n]!, hidden: true } : supervisor[n]!] as const);
  return { ...Object.fromEntries(kept), ...OWN[role], ...COMMON };
}

export const RKE2_FLAGS: Record<NodeRole, Readonly<Record<string, FlagSpec>>> = { server: table('server'), agent: table('agent') };

/** Valid items of the server's `disable` list (pkg/cli/types.go DisableItems). */
export const RKE2_DISABLE_ITEMS = ['rke2-coredns', 'rke2-metrics-server', 'rke2-snapshot-controller', 'rke2-snapshot-controller-crd', 'rke2-snapshot-validation-webhook'] as const;
/**
 * `cni` values (pkg/cli/types.go CNIItems, plus `none` and `multus` first; server.go validateCNI). RKE2 splits `cni` and
 * `ingress-controller` on commas without trimming and refuses any other spelling (pkg/cli/cmds/server.go
 * disableExceptSelected: "Invalid value … for --cni flag", fatal), so ../rancher/flags.ts nearMiss refuses spaces and case.
 */
export const RKE2_CNI_ITEMS = ['none', 'multus', 'calico', 'canal', 'cilium', 'flannel'] as const;
/** `ingress-controller` values (pkg/cli/types.go IngressItems, plus `none`). */
export const RKE2_INGRESS_ITEMS = ['none', 'ingress-nginx', 'traefik'] as const;
/** `profile` values (pkg/rke2/rke2.go ProfileCIS, ProfileETCD; profile_linux.go validateProfile). */
export const RKE2_PROFILES = ['cis', 'etcd'] as const;

/**
 * Items of `control-plane-resource-requests` / `-limits` and `control-plane-probe-configuration`
 * (v1.35.7+rke2r1 pkg/podtemplate/config.go parseControlPlaneResources / parseControlPlaneProbeConfs,
 * names from pkg/podtemplate/types.go): `<component>-<cpu|memory>=<quantity>` and
 * `<component>-<liveness|readiness|startup>-<setting>=<integer ≥ 0>`, comma-separated. RKE2 refuses
 * to start on an item without `=` or a probe value that is not a non-negative integer, silently
 * ignores a name it does not look up (a typo leaves the default), and only logs a quantity it cannot
 * parse (podtemplate.go: the request is dropped).
 */
const CP_COMPONENTS = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy', 'etcd', 'cloud-controller-manager'];
export const RKE2_RESOURCE_ITEMS: readonly string[] = CP_COMPONENTS.flatMap((c) => ['cpu', 'memory'].map((r) => `${c}-${r}`));
export const RKE2_PROBE_ITEMS: readonly string[] = CP_COMPONENTS.flatMap((c) =>
  ['liveness', 'readiness', 'startup'].flatMap((p) => ['initial-delay-seconds', 'timeout-seconds', 'failure-threshold', 'period-seconds'].map((s) => `${c}-${p}-${s}`)),
);

function controlPlaneItems(key: string, value: unknown, didYouMean: (w: string, c: string[]) => string | undefined): FlagIssue | undefined {
  const probes = key === 'control-plane-probe-configuration';
  const names = probes ? RKE2_PROBE_ITEMS : RKE2_RESOURCE_ITEMS;
  for (const item of listItems(value).flatMap((v) => v.split(','))) {
    const [name, val] = item.split(/=(.*)/s, 2) as [string, string | undefined];
    if (val === undefined) return { key, on: 'value', message: `'${item}' has no value (RKE2 refuses to start: incorrectly formatted ${probes ? 'control probe config' : 'control plane resource request'})`, hint: probes ? 'write <component>-<probe>-<setting>=<seconds or count>, e.g. kube-apiserver-startup-failure-threshold=30' : 'write <component>-<cpu|memory>=<quantity>, e.g. kube-apiserver-cpu=500m' };
    if (!names.includes(name)) {
      const near = nearMissIssue(key, value, name, names, `a name RKE2 looks up in ${key}`);
      if (near) return near;
      const m = didYouMean(name, [...names]);
      return { key, on: 'value', message: `'${name}' is not a name RKE2 looks up in ${key}: it ignores the item and keeps the default`, hint: m ? `did you mean '${m}'?` : probes ? 'names are <component>-<liveness|readiness|startup>-<initial-delay-seconds|timeout-seconds|failure-threshold|period-seconds>' : 'names are <component>-cpu and <component>-memory' };
    }
    if (probes ? !/^\d+$/.test(val) : parseQuantity(val) === undefined)
      return { key, on: 'value', message: probes ? `'${val}' is not a non-negative integer (RKE2 refuses to start: invalid control plane probe config value)` : `'${val}' is not a Kubernetes quantity (RKE2 logs the error and drops the ${key.endsWith('limits') ? 'limit' : 'request'})`, hint: probes ? 'write a whole number of seconds or a count' : 'e.g. 500m or 512Mi' };
  }
  return undefined;
}

/**
 * Supervisor flags RKE2 dropped (dropFlag in server.go/agent.go), refused with what to do instead. RKE2
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
 * Server flags whose value every server must share (the supervisor's critical control arguments, which a
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
  sliceSeparator: {
    splits: false,
    source: 'rancher/rke2 v1.35.7+rke2r1 pkg/cli/cmds/root.go:244 app.DisableSliceFlagSeparator = true (also v1.34.10+rke2r1:244, v1.36.3+rke2r1:279), urfave/cli v2.27.7 flag.go:405-416',
  },
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
    if (key === 'control-plane-resource-requests' || key === 'control-plane-resource-limits' || key === 'control-plane-probe-configuration') return controlPlaneItems(key, value, didYouMean);
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
