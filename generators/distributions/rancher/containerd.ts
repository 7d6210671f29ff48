/**
 * What the embedded containerd of this family accepts for the two agent flags that pick a piece of it,
 * `snapshotter` and `default-runtime`, per distribution and release line, with the source of each fact;
 * and the rule that refuses a value no node of a pool can run. One table, read by the rule below (the
 * renderer writes `default-runtime: nvidia` on GPU pools itself and never writes `snapshotter`).
 *
 * Neither value is checked by the supervisor when it reads config.yaml: it copies both into the
 * containerd config it writes (pkg/agent/templates, the config.toml template: `snapshotter = "{{
 * .NodeConfig.AgentConfig.Snapshotter }}"` and `default_runtime_name` from the agent's DefaultRuntime),
 * and containerd's CRI plugin fails to load when the name does not resolve (the node's kubelet then
 * never finds a runtime and the node never becomes Ready):
 * - snapshotter: the supervisor's agent checks only overlayfs, fuse-overlayfs and stargz (and nix, on
 *   releases that have it) against the node (the supervisor's pkg/agent/config/config_linux.go applyContainerdOSSpecificConfig: `switch
 *   nodeConfig.AgentConfig.Snapshotter { case "overlayfs" … case "fuse-overlayfs" … case "stargz" … }`,
 *   no default branch); another name reaches containerd, whose CRI plugin then fails: "failed to create
 *   CRI service: failed to find snapshotter" (containerd log quoted in the supervisor's issue #66, 2020-12-30).
 * - default-runtime: written as the CRI plugin's `default_runtime_name`; containerd refuses a name with no
 *   runtime entry ("no corresponding runtime configured in `containerd.runtimes` for `containerd`
 *   `default_runtime_name = …`", containerd internal/cri/config/config.go ValidateRuntimeConfig), and the
 *   supervisor writes runtime entries only for runc and the runtimes it detected on the node
 *   (pkg/agent/containerd/runtimes.go findContainerRuntimes: crun, nvidia, nvidia-experimental and the
 *   WebAssembly shims lunatic, slight, spin, wws, wasmedge, wasmer, wasmtime, each only when its binary is
 *   found in the listed directories).
 *
 * The environment cannot bring its own containerd template (config.toml.tmpl): the schema has no key for
 * one and the boot scripts write none, so both sets are closed here. A pool whose config sets
 * `container-runtime-endpoint` runs an external CRI instead of the embedded containerd: the supervisor
 * then ignores both flags for containerd (config_linux.go runs the snapshotter checks only without it),
 * so the rule leaves such a pool alone.
 */
import type { EnvironmentInput } from '../../model/input.js';
import type { DocPath } from '../../lib/paths.js';
import { didYouMean } from '../../lib/suggest.js';
import type { Reporter, Rule } from '../../validate/rules.js';
import type { ConfigArgs, RancherClusterSettingsInput, RancherPoolSettingsInput } from './model.js';

/** One distribution's containerd facts for the release lines listed. */
export interface ContainerdFacts {
  /** Product name in messages. */
  title: string;
  /** Kubernetes minors (release lines) the facts were read for. */
  lines: readonly string[];
  /** Snapshotter plugins its containerd registers, with where that is read. */
  snapshotters: readonly string[];
  snapshotterSource: string;
  /** Registered names the facts could not confirm at every listed release (name → why): a warning, not an error. */
  snapshottersUnverified: Readonly<Record<string, string>>;
}

/**
 * Snapshotters registered but unusable on this project's nodes, and why. The nodes boot the Ubuntu
 * 24.04 AMI (GPU pools the Ubuntu 22.04 Deep Learning AMI, ./aws.ts) from one EBS root volume with ext4,
 * and the boot scripts mount no other filesystem and write no containerd plugin configuration.
 * containerd docs/snapshotters/README.md: "btrfs: … Needs the plugin root … to be mounted as btrfs";
 * "zfs: … Needs the plugin root … to be mounted as ZFS"; devmapper needs a thin pool named in the
 * plugin's configuration (docs/snapshotters/devmapper.md) and blockfile a scratch file
 * (docs/snapshotters/blockfile.md). The supervisor's issue #7710 (its v1.25.11-rc1 on ext4) shows exactly that:
 * `ctr plugin ls` lists btrfs and zfs as `skip`, devmapper as `error`. A value here is refused on every
 * release line, whether or not that release registers the plugin: either way the nodes cannot run it.
 */
export const SNAPSHOTTER_PLATFORM: Readonly<Record<string, string>> = {
  btrfs: 'needs containerd\'s plugin root on a btrfs filesystem; the nodes\' root volume is ext4 and nothing mounts btrfs there; containerd skips the plugin and its CRI plugin fails to load',
  zfs: 'needs containerd\'s plugin root on a ZFS dataset; the node images have no ZFS pool and nothing mounts one there; containerd skips the plugin and its CRI plugin fails to load',
  devmapper: 'needs a device-mapper thin pool named in containerd\'s plugin configuration, which the generated config does not have; the plugin fails and the CRI plugin with it',
  blockfile: 'needs a scratch file named in containerd\'s plugin configuration, which the generated config does not have; the plugin fails and the CRI plugin with it',
  // The supervisor refuses to start without nix-store in PATH (pkg/containerd/utility_linux.go NixSupported:
  // "nix-store not found in PATH"), and a release without the plugin leaves containerd without it.
  nix: 'needs Nix (nix-store in PATH) on the node, which the node images do not have; the supervisor refuses to start',
};

/**
 * Runtime names the supervisor can write into containerd's config on these lines (every member of
 * the family runs the supervisor's agent code), with the binary it looks for (pkg/agent/containerd/runtimes.go
 * findCRunContainerRuntime, findNvidiaContainerRuntimes, findWasiRuntimes). runc is always there.
 * `nvidia-cdi` (binary nvidia-container-runtime.cdi) was added by the supervisor's pull request #11065
 * (merged Oct 2024, before every line listed); the runtimes.go version read here predates it. Both
 * nvidia-experimental and nvidia-cdi are warned on GPU pools: that the GPU AMI has their binaries is not
 * confirmed here.
 */
export const CONTAINERD_RUNTIMES: Readonly<Record<string, { binary: string; gpu?: true; unverified?: string }>> = {
  runc: { binary: 'runc' },
  crun: { binary: 'crun' },
  nvidia: { binary: 'nvidia-container-runtime', gpu: true },
  'nvidia-experimental': { binary: 'nvidia-container-runtime-experimental', gpu: true, unverified: 'the NVIDIA toolkit on the GPU AMI may not ship nvidia-container-runtime-experimental' },
  'nvidia-cdi': { binary: 'nvidia-container-runtime.cdi', gpu: true, unverified: 'the supervisor detects it (its pull request #11065, Oct 2024), but whether the GPU AMI\'s toolkit ships nvidia-container-runtime.cdi, and whether the device plugin\'s volume-mounts device list works through CDI, is not confirmed here' },
  lunatic: { binary: 'containerd-shim-lunatic-v1' },
  slight: { binary: 'containerd-shim-slight-v1' },
  spin: { binary: 'containerd-shim-spin-v1' },
  wws: { binary: 'containerd-shim-wws-v1' },
  wasmedge: { binary: 'containerd-shim-wasmedge-v1' },
  wasmer: { binary: 'containerd-shim-wasmer-v1' },
  wasmtime: { binary: 'containerd-shim-wasmtime-v1' },
};

/**
 * Snapshotters that need a helper binary the boot scripts do not install and whose absence from the
 * node images this table cannot prove: a warning. fuse-overlayfs: the supervisor's start check calls
 * fuse-overlayfs-snapshotter's Supported, which looks the binary up (`exec.LookPath`, "fuse-overlayfs not
 * installed") and the supervisor then refuses to start.
 */
export const SNAPSHOTTER_NEEDS: Readonly<Record<string, string>> = {
  'fuse-overlayfs': 'needs the fuse-overlayfs binary on the node (the supervisor refuses to start without it: "fuse-overlayfs not installed"), and the boot scripts install none',
};

export interface Target {
  pool: string;
  /** Its index in nodePools. */
  index: number;
  /** A controlplane pool: its nodes are servers and take cluster.<name>.extraArgs too. */
  server: boolean;
  gpu: boolean;
  args: ConfigArgs;
  /** Where each key is set (the pool's own args win over the cluster's). */
  at: (key: string) => DocPath;
}

export type Settings = { cluster?: RancherClusterSettingsInput; pool: (i: number) => RancherPoolSettingsInput | undefined };

/** The merged config args of each pool, as the renderer merges them (cluster args on servers, then the pool's). */
export function targets(input: EnvironmentInput, name: string, s: Settings): Target[] {
  return input.nodePools.map((p, i) => {
    const own = s.pool(i)?.extraArgs ?? {};
    const cluster = p.role === 'controlplane' ? (s.cluster?.extraArgs ?? {}) : {};
    return {
      pool: p.name,
      index: i,
      server: p.role === 'controlplane',
      gpu: p.gpu !== undefined,
      args: { ...cluster, ...own },
      at: (key: string): DocPath => (key in own ? ['nodePools', i, name, 'extraArgs', key] : ['cluster', name, 'extraArgs', key]),
    };
  });
}

function checkSnapshotter(report: Reporter, facts: ContainerdFacts, release: string, t: Target, value: string, reported: Set<string>): void {
  const at = t.at('snapshotter');
  const once = (msg: string, f: () => void): void => {
    const k = `${at.join('.')}|${msg}`;
    if (!reported.has(k)) { reported.add(k); f(); }
  };
  const unfit = SNAPSHOTTER_PLATFORM[value];
  if (unfit !== undefined)
    return once(`${value}|${t.pool}`, () => report('containerd-snapshotter', at, `snapshotter '${value}' cannot run on the nodes of pool '${t.pool}': it ${unfit}`, { hint: 'use overlayfs (the default) or native' }));
  const needs = SNAPSHOTTER_NEEDS[value];
  if (needs !== undefined && facts.snapshotters.includes(value))
    return once(`${value}|${t.pool}`, () => report('containerd-snapshotter', at, `snapshotter '${value}' on pool '${t.pool}' ${needs}`, { severity: 'warning', hint: 'install it on the node image, or use overlayfs (the default)' }));
  if (facts.snapshottersUnverified[value] !== undefined)
    return once(value, () => report('containerd-snapshotter', at, `snapshotter '${value}' on ${facts.title} ${release} is not verified: ${facts.snapshottersUnverified[value]}`, { severity: 'warning', hint: `verified: ${facts.snapshotters.join(', ')}; overlayfs is the default` }));
  if (!facts.snapshotters.includes(value)) {
    const usable = facts.snapshotters.filter((v) => SNAPSHOTTER_PLATFORM[v] === undefined);
    const m = didYouMean(value, usable);
    once(value, () => report('containerd-snapshotter', at, `snapshotter '${value}' is not a snapshotter ${facts.title} ${release}'s containerd has (its CRI plugin fails to load and the node never becomes Ready; ${facts.snapshotterSource})`, { hint: m ? `did you mean '${m}'? usable on these nodes: ${usable.join(', ')}` : `usable on these nodes: ${usable.join(', ')}` }));
  }
}

function checkRuntime(report: Reporter, facts: ContainerdFacts, release: string, t: Target, value: string, reported: Set<string>): void {
  const at = t.at('default-runtime');
  const once = (k: string, f: () => void): void => {
    const key = `${at.join('.')}|${k}`;
    if (!reported.has(key)) { reported.add(key); f(); }
  };
  const known = Object.keys(CONTAINERD_RUNTIMES);
  const rt = CONTAINERD_RUNTIMES[value];
  if (!rt) {
    const m = didYouMean(value, known);
    return once(value, () => report('containerd-default-runtime', at, `default-runtime '${value}' is not a runtime ${facts.title} ${release} ever configures (containerd refuses a default_runtime_name without a runtime entry and the node never becomes Ready; pkg/agent/containerd/runtimes.go)`, { hint: m ? `did you mean '${m}'? one of: ${known.join(', ')}` : `one of: ${known.join(', ')}` }));
  }
  if (value === 'runc') return;
  if (rt.gpu && !t.gpu)
    return once(`${value}|${t.pool}`, () => report('containerd-default-runtime', at, `default-runtime '${value}' on pool '${t.pool}', which has no GPU: its nodes boot the plain Ubuntu AMI without the NVIDIA container toolkit, so ${facts.title} finds no ${rt.binary} and configures no '${value}' runtime (the node never becomes Ready)`, { hint: 'remove default-runtime, or declare gpu: { vendor: nvidia } on the pool (GPU pools get default-runtime nvidia already)' }));
  if (rt.gpu && rt.unverified)
    return once(`${value}|${t.pool}`, () => report('containerd-default-runtime', at, `default-runtime '${value}' on pool '${t.pool}' is not verified: ${rt.unverified}`, { severity: 'warning', hint: 'nvidia is verified: the generator sets it on GPU pools, whose AMI has nvidia-container-runtime' }));
  if (!rt.gpu)
    once(`${value}|${t.pool}`, () => report('containerd-default-runtime', at, `default-runtime '${value}' on pool '${t.pool}': no node image of this project has ${rt.binary} and the boot script installs none, so ${facts.title} configures no '${value}' runtime (the node never becomes Ready)`, { hint: 'remove default-runtime (runc is the default)' }));
}

/**
 * The rule for one distribution: `snapshotter` and `default-runtime` in cluster.<name>.extraArgs (every
 * controlplane pool) and nodePools[].<name>.extraArgs, against the facts of its release line; a release
 * line the facts do not list gets one warning and no guess.
 */
export function containerdRule(name: string, versionKey: string, facts: ContainerdFacts, settings: (input: EnvironmentInput) => Settings): Rule {
  // Declared as a Rule (not returned bare) so that generators/docs/rules.ts finds its reports.
  const rule: Rule = ({ input }, report) => {
    if (input.cluster.distribution !== name) return;
    const release = (input.cluster as unknown as Record<string, unknown>)[versionKey];
    if (typeof release !== 'string') return;
    const ts = targets(input, name, settings(input)).filter((t) => (t.args.snapshotter !== undefined || t.args['default-runtime'] !== undefined) && t.args['container-runtime-endpoint'] === undefined);
    if (!ts.length) return;
    const line = release.slice(1).split('.').slice(0, 2).join('.');
    if (!facts.lines.includes(line)) {
      const hint = `covered: ${facts.lines.map((l) => `v${l}`).join(', ')}; add the line's facts after reading its sources`;
      const first = (key: string): Target | undefined => ts.find((t) => t.args[key] !== undefined);
      const s = first('snapshotter');
      const r = first('default-runtime');
      if (s) report('containerd-snapshotter', s.at('snapshotter'), `${facts.title} ${release}: the containerd facts (generators/distributions/rancher/containerd.ts) do not cover v${line}, so snapshotter is not checked`, { severity: 'warning', hint });
      if (r) report('containerd-default-runtime', r.at('default-runtime'), `${facts.title} ${release}: the containerd facts (generators/distributions/rancher/containerd.ts) do not cover v${line}, so default-runtime is not checked`, { severity: 'warning', hint });
      return;
    }
    const reported = new Set<string>();
    for (const t of ts) {
      if (typeof t.args.snapshotter === 'string') checkSnapshotter(report, facts, release, t, t.args.snapshotter, reported);
      if (typeof t.args['default-runtime'] === 'string') checkRuntime(report, facts, release, t, t.args['default-runtime'], reported);
    }
  };
  return rule;
}
