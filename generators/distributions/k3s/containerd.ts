/**
 * What K3s's containerd accepts for `snapshotter` (the shared rule and the runtime table:
 * ../rancher/containerd.ts).
 */
import type { ContainerdFacts } from '../rancher/containerd.js';

/**
 * K3s v1.34–v1.36: the embedded containerd (containerd v2) registers the plugins of pkg/containerd/
 * builtins_linux.go (k3s-io/k3s, the containerd-v2 version of the file): blockfile, btrfs, devmapper,
 * native, overlayfs (containerd v2 plugins/snapshots/…), fuse-overlayfs (containerd/fuse-overlayfs-
 * snapshotter/v2), stargz (containerd/stargz-snapshotter service/plugin) and zfs (containerd/zfs/v2).
 * zfs: present from the June 2023 releases on (v1.27.3, v1.26.6, v1.25.11: k3s-io/k3s#7661 re-enabled
 * aufs/devmapper/zfs, unintentionally dropped in May 2023, #7660/#7710); aufs left with containerd v2.
 * nix (pdtpartners/nix-snapshotter): added by k3s-io/k3s#13676 (Feb 2026) and backported to the release
 * lines (#13738 for release-1.35, validated on v1.35.3-rc1+k3s1; #13739 for release-1.34, its first
 * release not recorded there; v1.36.0 has it), so it is listed for every line here: it is refused on
 * these nodes anyway (../rancher/containerd.ts SNAPSHOTTER_PLATFORM). The builtins file version read
 * here predates it.
 * erofs (a containerd 2.1 built-in, cmd/containerd/builtins/builtins_linux.go) is not in the K3s file
 * read here, so it is reported as unverified.
 * Not pinned to a commit: the copy of the file the index gives (k3s-io/k3s@0a89f88d) is a containerd v1 one (btrfs,
 * native, overlay, fuse-overlayfs, stargz only), not the containerd-v2 version this list is from.
 */
export const K3S_CONTAINERD: ContainerdFacts = {
  title: 'K3s',
  lines: ['1.34', '1.35', '1.36'],
  snapshotters: ['overlayfs', 'native', 'fuse-overlayfs', 'stargz', 'btrfs', 'devmapper', 'blockfile', 'zfs', 'nix'],
  snapshotterSource: 'k3s-io/k3s pkg/containerd/builtins_linux.go (containerd v2 builtins)',
  snapshottersUnverified: { erofs: 'containerd 2.1+ registers it, the K3s builtins file read for these releases does not' },
};
