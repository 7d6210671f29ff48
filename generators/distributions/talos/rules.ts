/** Environment rules for Talos settings that the environment schema cannot express. */
import type { DocPath } from '../../lib/paths.js';
import { parseInstanceType } from '../../model/aws.js';
import { minorOf } from '../../model/build.js';
import { POOL_NODE_LABEL } from './model.js';
import { distributionsRunning } from '../registry.js';
import { DEFAULTS } from '../../model/defaults.js';
import type { EnvironmentInput } from '../../model/input.js';
import type { InstanceTypeFacts } from '../../model/instance-types.js';
import { kmsKeyCheck, type IdentifierCheck } from '../../validate/rules-aws.js';
import { factsOf, inheritedHint, minorNumber, reportForeignSetting, type Rule } from '../../validate/rules.js';
import { APISERVER_DENIED_ARGS, FLANNEL_NETWORK_POLICIES_SINCE, flannelNetworkPolicyEnforcer, KUBELET_DENIED_ARGS, KUBERNETES_NEWEST_PATCH, TALOS_RELEASES, type TalosMinor } from './release.js';

/** Kubernetes minors each Talos minor supports (Talos support matrix). */
export const TALOS_KUBERNETES_SUPPORT: Record<string, { min: string; max: string }> = Object.fromEntries(
  Object.values(TALOS_RELEASES).map((r) => [r.minor, r.kubernetes]),
);

/** ", or distribution: x or y, which embed Kine": the distributions that run the datastore type. */
function kineElsewhere(type: string): string {
  const names = distributionsRunning(type).map((d) => d.name);
  return names.length === 0 ? '' : `, or distribution: ${names.join(' or ')}, which ${names.length === 1 ? 'embeds' : 'embed'} Kine`;
}

/** Talos runs etcd only. */
export const talosDatastore: Rule = ({ input }, report) => {
  const c = input.cluster;
  if (c.distribution === 'talos' && c.datastore.type !== 'etcd')
    report('kine-on-talos', ['cluster', 'datastore', 'type'], `${c.datastore.type} is not possible on Talos`, {
      hint: `Talos always runs etcd and hard-codes kube-apiserver --etcd-servers (it refuses overriding etcd-servers in cluster.apiServer.extraArgs); use datastore type etcd with backup to S3${kineElsewhere(c.datastore.type)}`,
    });
};

/** talosVersion: a listed release, supporting the environment's Kubernetes; Talos settings only on Talos. */
export const talosVersions: Rule = (ctx, report) => {
  const c = ctx.input.cluster;
  if (c.distribution !== 'talos') {
    if (c.talosVersion !== undefined) reportForeignSetting(ctx, report, 'talosVersion', { message: 'talosVersion is only used by distribution talos', hint: inheritedHint('talosVersion') });
    if (c.talos !== undefined) reportForeignSetting(ctx, report, 'talos', { message: 'talos settings are only used by distribution talos', hint: inheritedHint('talos') });
    return;
  }
  if (!c.talosVersion) {
    report('talos-version', ['cluster'], 'distribution talos needs talosVersion (e.g. v1.13.9)', { key: true, hint: 'add cluster.talosVersion: a Talos release tag (vX.Y.Z) the catalog knows' });
  } else {
    const minor = minorOf(c.talosVersion);
    const range = TALOS_KUBERNETES_SUPPORT[minor];
    if (!range) {
      report('talos-version', ['cluster', 'talosVersion'], `Talos ${minor} is not supported by this generator`, { hint: `supported: ${Object.keys(TALOS_KUBERNETES_SUPPORT).map((v) => `v${v}.x`).join(', ')}` });
    } else {
      const release = TALOS_RELEASES[minor as TalosMinor];
      const patch = Number(c.talosVersion.split('.')[2]);
      if (patch > release.newestPatch) {
        const newest = `v${minor}.${release.newestPatch}`;
        report('talos-release', ['cluster', 'talosVersion'], `Talos ${c.talosVersion} is not a release this generator lists (the newest listed v${minor} release is ${newest})`, {
          hint: `did you mean ${newest}? newer releases are added to generators/distributions/talos/release.ts`,
        });
      }
      const k = minorNumber(c.kubernetesVersion);
      if (k < minorNumber(range.min) || k > minorNumber(range.max))
        report('talos-kubernetes-compat', ['cluster', 'kubernetesVersion'], `Kubernetes ${c.kubernetesVersion} is not supported by Talos ${c.talosVersion}`, { hint: `Talos ${minor} supports Kubernetes ${range.min} to ${range.max}` });
      const newestK8s = KUBERNETES_NEWEST_PATCH[minorOf(c.kubernetesVersion)];
      if (newestK8s !== undefined && Number(c.kubernetesVersion.split('.')[2]) > newestK8s) {
        const newest = `${minorOf(c.kubernetesVersion)}.${newestK8s}`;
        report('kubernetes-release', ['cluster', 'kubernetesVersion'], `Kubernetes ${c.kubernetesVersion} is not a release this generator lists (the newest listed ${minorOf(c.kubernetesVersion)} patch is ${newest})`, {
          hint: `did you mean ${newest}? newer patches are added to generators/distributions/talos/release.ts`,
        });
      }
    }
  }
};

/** Workloads rely on NetworkPolicies (default-deny per namespace): refused where the Talos minor's flannel cannot enforce them. */
export const networkPolicyEnforcement: Rule = ({ input }, report) => {
  const c = input.cluster;
  const workloads = input.workloads ?? [];
  if (c.distribution !== 'talos' || !c.talosVersion || workloads.length === 0) return;
  const minor = minorOf(c.talosVersion);
  if (!(minor in TALOS_RELEASES)) return; // talos-version reports it
  const cni = c.network.cni ?? DEFAULTS.cni;
  if (cni === 'cilium' || flannelNetworkPolicyEnforcer(minor) !== undefined) return;
  const at: DocPath = c.network.cni !== undefined ? ['cluster', 'network', 'cni'] : ['cluster', 'talosVersion'];
  const n = workloads.length;
  report(
    'network-policy-enforcement',
    at,
    `Talos ${c.talosVersion} with ${cni} cannot enforce NetworkPolicies, but ${n === 1 ? '1 workload relies' : `${n} workloads rely`} on them (default-deny per namespace): all traffic would be allowed`,
    { hint: `set cluster.network.cni: cilium, or pin Talos ≥ v${FLANNEL_NETWORK_POLICIES_SINCE} (flannel with kube-network-policies)` },
  );
};

/** The KMS key of the secrets bundle's SecureString (checked by the AWS identifier rule). */
export const talosIdentifiers = (input: EnvironmentInput): { rule: string; path: DocPath; value: unknown; check: IdentifierCheck }[] => [
  { rule: 'kms-key', path: ['cluster', 'talos', 'secretsBundle', 'kmsKeyId'], value: input.cluster.talos?.secretsBundle?.kmsKeyId, check: kmsKeyCheck(false) },
];

/** NVIDIA GPUs older than Turing (Volta: p3, p3dn) are not supported by the open GPU kernel modules. */
const PRE_TURING_FAMILIES = ['p3', 'p3dn'];

const deniedArgs: Rule = ({ input }, report) => {
  const t = input.cluster.talos;
  const check = (field: 'apiServerExtraArgs' | 'kubeletExtraArgs', denied: readonly string[], component: string): void => {
    for (const k of Object.keys(t?.[field] ?? {})) {
      const bare = k.replace(/^--/, '');
      if (denied.includes(bare))
        report('talos-denied-extra-arg', ['cluster', 'talos', field, k] as DocPath, `${component} flag '${bare}' is managed by Talos; Talos refuses it (extra arg "${bare}" is not allowed)`, {
          key: true,
          hint: `Talos sets it from the machine config and the secrets bundle; remove it. Denied: ${denied.join(', ')}`,
        });
      else if (k !== bare)
        report('talos-denied-extra-arg', ['cluster', 'talos', field, k] as DocPath, `write the flag without dashes: '${bare}'`, { key: true, hint: `rename the key to '${bare}': Talos adds the dashes itself` });
    }
  };
  check('apiServerExtraArgs', APISERVER_DENIED_ARGS, 'kube-apiserver');
  check('kubeletExtraArgs', KUBELET_DENIED_ARGS, 'kubelet');
};

const irsaIssuer: Rule = ({ input }, report) => {
  const issuer = input.cluster.talos?.apiServerExtraArgs?.['service-account-issuer'];
  if (issuer !== undefined && input.aws.iam?.mode === 'irsa' && issuer !== input.aws.iam.issuerURL)
    report('talos-irsa-issuer', ['cluster', 'talos', 'apiServerExtraArgs', 'service-account-issuer'], `differs from aws.iam.issuerURL (${String(input.aws.iam.issuerURL)})`, {
      hint: 'with IRSA the generator sets service-account-issuer from aws.iam.issuerURL; remove this one',
    });
};

const nvidiaOpenModules: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'talos') return;
  input.nodePools.forEach((p, i) => {
    const { family } = parseInstanceType(p.instanceType);
    if (p.gpu && PRE_TURING_FAMILIES.includes(family))
      report('talos-nvidia-open-modules', ['nodePools', i, 'instanceType'], `${p.instanceType} has a Volta GPU, which the NVIDIA open GPU kernel modules do not support`, {
        hint: 'use a Turing or newer family (g4dn, g5, g6, p4d, p5 …)',
      });
  });
};

/** NVIDIA driver extensions of Image Factory (open kernel modules, proprietary ones, the container toolkit). */
const NVIDIA_EXTENSION = /^siderolabs\/(nvidia-|nonfree-kmod-nvidia)/;
const DRIVER_EXTENSION = /^siderolabs\/(nvidia-open-gpu-kernel-modules|nvidia-container-toolkit|nonfree-kmod-nvidia)-/;

/**
 * What to do about NVIDIA software on a pool without gpu, from the instance table (model/instance-types.ts, or the
 * EC2 lock): the type's GPUs say whether the gpu key was meant or the extension is a mistake; a type the table does
 * not know is said to be unknown, not guessed from its name.
 */
function gpuHint(instanceType: string, f: InstanceTypeFacts | undefined): string {
  if (!f) return `${instanceType} is not in the instance table (generators/model/instance-types.ts) nor in the EC2 lock (npm run synth -- --refresh-ssm): if it has an NVIDIA GPU, write gpu: { vendor: nvidia } on the pool instead (the generator adds the driver and toolkit); otherwise remove it`;
  if (f.gpus === 0) return `${instanceType} has no GPU (instance table: 0 GPUs, ${f.vcpu} vCPUs): remove it, or move the pool to an NVIDIA GPU type and write gpu: { vendor: nvidia }`;
  return `${instanceType} has ${f.gpus} ${f.gpuModel ? `NVIDIA ${f.gpuModel} ` : ''}GPU${f.gpus === 1 ? '' : 's'} (instance table): write gpu: { vendor: nvidia } on the pool instead of the extension (the generator adds the driver and toolkit)`;
}

/**
 * NVIDIA extensions written by hand. A GPU pool gets the driver and toolkit of cluster.talos.nvidiaDriver from the
 * generator (nodeclass.ts nvidiaExtensions): another tier's (or the proprietary modules) beside them puts two NVIDIA
 * drivers into one image. On a pool without gpu, or in cluster.talos.extensions (every node, control planes too),
 * they make nodes without a GPU carry a driver and the `nvidia` runtime, and the pool is not a GPU pool for anything
 * else (no nvidia.com/gpu.present label, so no device plugin; no GPU workload lands there): the gpu key was meant.
 */
const nvidiaExtensions: Rule = (ctx, report) => {
  const { input } = ctx;
  if (input.cluster.distribution !== 'talos') return;
  const facts = factsOf(ctx);
  const tier = (input.cluster.talos as { nvidiaDriver?: string } | undefined)?.nvidiaDriver ?? 'lts';
  const own = new Set([`siderolabs/nvidia-open-gpu-kernel-modules-${tier}`, `siderolabs/nvidia-container-toolkit-${tier}`]);
  ((input.cluster.talos as { extensions?: string[] } | undefined)?.extensions ?? []).forEach((x, j) => {
    if (NVIDIA_EXTENSION.test(x))
      report('talos-nvidia-extensions', ['cluster', 'talos', 'extensions', j], `${x} in cluster.talos.extensions goes onto every node, control planes and pools without a GPU too`, {
        hint: 'give the GPU pools gpu: { vendor: nvidia } instead: the generator adds the NVIDIA driver and toolkit to their image (tier: cluster.talos.nvidiaDriver)',
      });
  });
  input.nodePools.forEach((p, i) =>
    ((p.talos as { extensions?: string[] } | undefined)?.extensions ?? []).forEach((x, j) => {
      const path: DocPath = ['nodePools', i, 'talos', 'extensions', j];
      if (!p.gpu && NVIDIA_EXTENSION.test(x))
        report('talos-nvidia-extensions', path, `pool '${p.name}' lists ${x} but has no gpu: its nodes would carry NVIDIA driver software, yet no device plugin runs there and no GPU workload lands there`, {
          hint: gpuHint(p.instanceType, facts(p.instanceType)),
        });
      else if (p.gpu && DRIVER_EXTENSION.test(x) && !own.has(x))
        report('talos-nvidia-extensions', path, `${x} beside the ${tier} driver the generator gives GPU pool '${p.name}' (cluster.talos.nvidiaDriver: ${tier}) would put two NVIDIA drivers into one image`, {
          hint: `remove it; to change the driver of every GPU pool set cluster.talos.nvidiaDriver (lts or production)`,
        });
    }),
  );
};

/**
 * A pool's Nodes are found by the label node.opendev.dev/pool = its name (machineconfig.ts nodeLabels sets it; a
 * pool's own labels come after): the runbook's apply and upgrade scripts and their README steps apply a pool's
 * config to, and wait for, the Nodes `kubectl get nodes -l node.opendev.dev/pool=<pool>` lists. Another value
 * would leave the pool's Nodes out (never configured, an upgrade waiting for ever) or, shared with another
 * pool, apply one pool's config (its installer image, taints) to the other's Nodes.
 */
const poolLabel: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'talos') return;
  input.nodePools.forEach((p, i) => {
    const value = p.labels?.[POOL_NODE_LABEL];
    if (value !== undefined && value !== p.name)
      report('talos-pool-label', ['nodePools', i, 'labels', POOL_NODE_LABEL], `${POOL_NODE_LABEL} is '${String(value)}', not the pool's name '${p.name}': the Talos runbook finds a pool's Nodes by this label`, {
        hint: `remove it (the generator sets ${POOL_NODE_LABEL}: ${p.name}) or set it to ${p.name}; select several pools with a label of your own`,
      });
  });
};

/** expireAfterDays is the lifecycle of Talos' snapshots; the other distributions prune their own (retention). */
const expireAfterDaysElsewhere: Rule = ({ input }, report) => {
  const b = input.cluster.datastore.backup;
  if (input.cluster.distribution !== 'talos' && b?.expireAfterDays !== undefined)
    report('backup-expire-after-days', ['cluster', 'datastore', 'backup', 'expireAfterDays'], `backup.expireAfterDays is only used by distribution talos (its uploader never deletes snapshots); ${input.cluster.distribution} prunes its own`, {
      key: true,
      hint: 'use backup.retention (snapshots kept) instead',
    });
};

export const TALOS_RULES: readonly Rule[] = [deniedArgs, irsaIssuer, nvidiaOpenModules, nvidiaExtensions, poolLabel, expireAfterDaysElsewhere];
