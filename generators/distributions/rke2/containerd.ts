/**
 * What RKE2's containerd accepts for `snapshotter` (the shared rule and the runtime table:
 * ../rancher/containerd.ts).
 */
import type { ContainerdFacts } from '../rancher/containerd.js';

/**
 * RKE2 v1.34–v1.36: the agent is the supervisor's code (rancher/rke2 go.mod pins the supervisor module on
 * the same line, e.g. v1.35.7+rke2r1: v1.35.7-0.20260720191031-7464a828f03e), but containerd is a separate binary
 * from rancher/hardened-containerd (rancher/rke2 Dockerfile:150, containerd v2.2.6 at v1.35.7+rke2r1), built
 * from containerd's own cmd/containerd: builtins_linux.go registers blockfile, erofs, native and
 * overlayfs, btrfs_linux.go / devmapper_linux.go / zfs_linux.go the filesystem ones (containerd/containerd
 * cmd/containerd/builtins/). Whether that fork's build adds fuse-overlayfs and stargz cannot be read
 * here (its source is not in the index): both are reported as unverified, never refused nor promised;
 * erofs too (it needs the EROFS kernel module and mkfs.erofs on the node, which this table cannot confirm).
 */
export const RKE2_CONTAINERD: ContainerdFacts = {
  title: 'RKE2',
  lines: ['1.34', '1.35', '1.36'],
  snapshotters: ['overlayfs', 'native', 'btrfs', 'devmapper', 'blockfile', 'zfs'],
  snapshotterSource: 'rancher/rke2 Dockerfile:150 (hardened-containerd) and containerd/containerd cmd/containerd/builtins/',
  snapshottersUnverified: {
    'fuse-overlayfs': 'the supervisor\'s embedded containerd registers it; RKE2\'s separate containerd build could not be read',
    stargz: 'the supervisor\'s embedded containerd registers it; RKE2\'s separate containerd build could not be read',
    erofs: 'containerd 2.1+ registers it, but it needs the EROFS kernel module and mkfs.erofs, not confirmed on the node images',
  },
};
