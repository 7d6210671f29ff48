/**
 * Where the embedded containerd of this family looks for CNI plugins and their configuration when the
 * supervisor runs no flannel of its own — the only case in which the platform installs Cilium (each
 * member's config renders it so; their index.ts cites their side). Cilium's agent copies its plugin into
 * `cni.binPath` and writes `05-cilium.conflist` into `cni.confPath` on the host; the node becomes
 * network-ready only when these are the directories containerd reads. Read by the members' Cilium values
 * (addons.values.cilium).
 *
 * The supervisor (the family's shared agent code):
 * - pkg/agent/config/config.go get(): `nodeConfig.NoFlannel = nodeConfig.FlannelBackend ==
 *   config.FlannelBackendNone`, and only `if !nodeConfig.NoFlannel { … nodeConfig.AgentConfig.CNIBinDir =
 *   filepath.Dir(hostLocal); nodeConfig.AgentConfig.CNIConfDir = filepath.Join(envInfo.DataDir, "agent",
 *   "etc", "cni", "net.d") }` (read at the stored commits 001a6d94 and eaaf1f84): without flannel both
 *   stay empty.
 * - pkg/agent/templates: the version 2 containerd template writes the CRI `cni` table only `{{- if not
 *   .NodeConfig.NoFlannel }}` (templates_linux.go, stored commit 06be48b6); the version 3 template
 *   (containerd 2.x, ContainerdConfigTemplateV3 in templates.go) writes `bin_dirs` and `conf_dir` each
 *   only `{{ with .NodeConfig.AgentConfig.CNIBinDir }}` / `{{ with … CNIConfDir }}`, i.e. when non-empty
 *   (the upstream snapshot is over the fetch limit here: read through third-party copies of the base
 *   template that quote it). Either way containerd keeps its own defaults, `bin_dirs = ['/opt/cni/bin']`
 *   and `conf_dir = '/etc/cni/net.d'` (containerd 2.x `[plugins.'io.containerd.cri.v1.runtime'.cni]`).
 * - The environment brings no containerd template that could set others (./containerd.ts).
 *
 * Cilium's chart (install/kubernetes/cilium/values.yaml, 1.18) defaults `cni.binPath: /opt/cni/bin` and
 * `cni.confPath: /etc/cni/net.d`. The values name them anyway: a reviewer sees where Cilium writes, and a
 * release that moves containerd's directories is one change here.
 */
export const CONTAINERD_CNI_DIRS = { binPath: '/opt/cni/bin', confPath: '/etc/cni/net.d' } as const;

/** The Cilium values that put its plugin and config where this family's containerd reads them. */
export const ciliumCniValues = (): { cni: { binPath: string; confPath: string } } => ({ cni: { ...CONTAINERD_CNI_DIRS } });
