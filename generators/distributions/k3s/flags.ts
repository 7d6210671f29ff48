/**
 * K3s configuration keys (config.yaml keys = long flag names) of the pinned K3s release, one table
 * for `k3s server` and one for `k3s agent`, with each flag's value type.
 *
 * Source: k3s-io/k3s `pkg/cli/cmds/{server,agent,root,log,config}.go` (ServerFlags and
 * NewAgentCommand's Flags) on the release-1.35 line (not pinned to a commit: the k3s snapshot is over the fetch limit
 * and the index holds only urfave/cli v1-era copies of these files): K3s is the supervisor this family shares, so
 * its tables are ../rancher/supervisor-flags.ts as they are (124 server keys, 46 agent keys). K3s
 * itself only WARNs about an unknown key in config.yaml ("Unknown flag … found in config.yaml,
 * skipping"), so the generator rejects them.
 */

/** The K3s release these tables describe. */
export const K3S_FLAGS_RELEASE = 'v1.35.9+k3s1';

import { checkFlagIn, checkListItems, type FlagCatalog, type FlagIssue, type FlagSpec } from '../rancher/flags.js';
import type { NodeRole } from '../rancher/config.js';
import { SUPERVISOR_FLAGS } from '../rancher/supervisor-flags.js';

export type { FlagIssue, FlagSpec, FlagType } from '../rancher/flags.js';
export type K3sRole = NodeRole;

export const K3S_FLAGS: Record<K3sRole, Readonly<Record<string, FlagSpec>>> = SUPERVISOR_FLAGS;

/** Every long name of a role. */
export const flagNames = (role: K3sRole): string[] => Object.keys(K3S_FLAGS[role]);

/**
 * Valid items of the server's `disable` list: the packaged manifests it skips by base name (pkg/cli/cmds/stage.go
 * DisableItems lists them). What was checked (session 11): the pinned tag's stage.go is not in the stored index (the
 * k3s repository is too big to fetch; the stored stage.go, k3s-io/k3s@bad22133, is an old one without `runtimes`).
 * `runtimes` is the manifest k3s-io/k3s@c77d0b85 manifests/runtimes.yaml (RuntimeClasses nvidia, nvidia-experimental,
 * crun and the wasm ones; what ./rules.ts warns a GPU pool about). The stored manifests/snapshot-controller.yaml
 * (k3s-io/k3s@1ae5b9e0: HelmCharts of snapshot-controller 1.6.1, image v6.1.0) is a 2022 copy that the K3s docs'
 * packaged components (installation/packaged-components: coredns, traefik, local-storage, metrics-server, servicelb)
 * never list, so it is not added: an unknown item disables nothing. Verify against the pinned tag when it can be read.
 */
export const K3S_DISABLE_ITEMS = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;

/** Valid `flannel-backend` values (deprecated `ipsec` and `wireguard` are refused). */
export const K3S_FLANNEL_BACKENDS = ['none', 'vxlan', 'host-gw', 'wireguard-native'] as const;

/**
 * Keys the generator sets itself, with why. An environment may not set them through extraArgs:
 * they carry secrets (which never enter git) or the cluster's topology, which comes from the model.
 */
export const K3S_MANAGED_KEYS: Readonly<Record<string, string>> = {
  token: 'the cluster token is read from SSM at boot into token-file; a token in config.yaml would be a secret in git',
  'token-file': 'written at boot from the SSM SecureString cluster.k3s.token',
  'agent-token': 'the agent token is read from SSM at boot into agent-token-file',
  'agent-token-file': 'written at boot from the SSM SecureString cluster.k3s.agentToken',
  server: 'agents join through cluster.endpoint',
  'datastore-endpoint': 'set from cluster.datastore (the Postgres password is read from SSM at boot and never written to git)',
  'datastore-cafile': 'set from cluster.datastore.postgres.caBundlePath',
  'cluster-init': 'embedded etcd is not used: the K3s target runs Kine (cluster.datastore)',
  'cluster-cidr': 'set from cluster.network.podCIDR',
  'service-cidr': 'set from cluster.network.serviceCIDR',
  'cluster-domain': 'set from cluster.network.dnsDomain',
  'flannel-backend': 'set from cluster.network.cni',
  'tls-san': 'set from cluster.endpoint, the server IPs and cluster.extraSANs',
  'node-label': 'set from the pool\'s labels',
  'node-taint': 'set from the pool\'s taints',
  'node-name': 'set at boot to the EC2 private DNS name, which the AWS cloud controller manager needs',
  'disable-cloud-controller': 'always true: the AWS cloud controller manager replaces the built-in one',
  'data-dir': 'the Litestream replication and the runbooks assume /var/lib/rancher/k3s',
  config: 'the config file location is fixed (/etc/rancher/k3s/config.yaml)',
};

export const K3S_CATALOG: FlagCatalog = {
  command: 'k3s',
  article: 'a',
  release: `K3s ${K3S_FLAGS_RELEASE}`,
  tables: K3S_FLAGS,
  serverHint: 'set it on a controlplane pool or in cluster.k3s.extraArgs',
  // K3s does not split a *-arg string at commas, from config.yaml or from the command line (checked session 13):
  // - config.yaml: pkg/configfilearg/parser.go readConfigFile (k3s-io/k3s@f6466040, the v1.30.3+k3s1 commit; the
  //   pinned tag's copy could not be read) turns a string value into ONE `--<key>=<value>` argument and a YAML list into
  //   one argument per item; the CLI then parses it like a command-line argument.
  // - the CLI: K3s moved to urfave/cli v2 in k3s-io/k3s#11831 (main, 2025-03; backports #12030 release-1.31, #12031
  //   release-1.32), whose listed changes include "Disable StringSlice seperattion" (DisableSliceFlagSeparator on the
  //   app); every later release line branched from main after it. main's go.mod (k3s-io/k3s@00014d28) requires
  //   urfave/cli/v2 v2.27.7 with no replace (no fork), which honours the setting for a flag with a Destination
  //   (flag_string_slice.go:154 WithSeparatorSpec; the bug the same author reported as urfave/cli#2069, fixed by #2070
  //   in v2.27.6) and else splits (flag.go:405-416).
  // - Not read: pkg/cli/cmds/root.go at v1.35.9+k3s1 (the k3s-io/k3s snapshot, 559 MB, is over the fetch limit; the
  //   index holds only urfave/cli v1-era copies, e7f7db48 among them, and a closed v3 draft's, #12184). The family's
  //   other member's own app sets the same (its flags.ts, read at its tag), and that member's issue #8365 shows its
  //   v1.32.5 passing `enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs,EventRateLimit` as one argument.
  sliceSeparator: {
    splits: false,
    source: 'k3s-io/k3s#11831 "Disable StringSlice seperattion" (urfave/cli v2 migration; backports #12030, #12031), urfave/cli v2.27.7 flag.go:405-416; pkg/cli/cmds/root.go not read at v1.35.9+k3s1',
  },
  valueCheck: (_role, key, value, didYouMean) => {
    if (key === 'disable') return checkListItems(key, value, K3S_DISABLE_ITEMS, 'a packaged component K3s can disable', didYouMean);
    if (key === 'flannel-backend' && !(K3S_FLANNEL_BACKENDS as readonly string[]).includes(value as string))
      return { key, on: 'value', message: `flannel-backend '${String(value)}' is not supported`, hint: `one of: ${K3S_FLANNEL_BACKENDS.join(', ')}` };
    return undefined;
  },
};

/**
 * Check one key of a K3s config for a role: unknown (with did-you-mean), an alias, a flag of the
 * other role only, or a value of the wrong type. `didYouMean` is passed in to keep this module
 * dependency-free.
 */
export function checkFlag(role: K3sRole, key: string, value: unknown, didYouMean: (w: string, c: string[]) => string | undefined): FlagIssue | undefined {
  return checkFlagIn(K3S_CATALOG, role, key, value, didYouMean);
}
