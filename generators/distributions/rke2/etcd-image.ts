/**
 * The etcd image each listed RKE2 release runs its etcd static pod with (`rancher/hardened-etcd:<tag>`), so that the
 * server Plan's gate (./model.ts etcdUpgradeGate) can tell an upgraded server's new etcd pod from the old one.
 *
 * The supervisor writes the etcd static pod from its compile-time default image (rancher/rke2 pkg/images/images.go
 * getDefaultImage: ETCD → DefaultEtcdImage, unless the environment sets `etcd-image`: ./model.ts etcdImageTag), linked
 * in by scripts/build-binary `-X …/pkg/images.DefaultEtcdImage=rancher/hardened-etcd:${ETCD_VERSION}-build<date>` with
 * ETCD_VERSION from scripts/version.sh (the etcd release and the fork's suffix, e.g. v3.6.14-<fork>1; recorded here:
 * the etcd release and the build date). Read at each release tag (commit; scripts/version.sh line of ETCD_VERSION,
 * scripts/build-binary line of DefaultEtcdImage):
 *
 * | release | commit | version.sh | build-binary |
 * |---|---|---|---|
 * | v1.34.8+rke2r1 | 4fdfd151 | 38 | 36 |
 * | v1.34.8+rke2r2 | b227fefe | 38 | 36 |
 * | v1.34.9+rke2r1 | 4d4c9021 | 38 | 35 |
 * | v1.34.10+rke2r1 | d419f092 | 38 | 35 |
 * | v1.35.4+rke2r1 | 5dc4f439 | 36 | 35 |
 * | v1.35.5+rke2r1 | e28e7c1a | 36 | 36 |
 * | v1.35.5+rke2r2 | a779b949 | 36 | 36 |
 * | v1.35.6+rke2r1 | 343ad2f9 | 36 | 35 |
 * | v1.35.7+rke2r1 | 382a8b31 | 36 | 35 |
 * | v1.36.1+rke2r2 | 05cf623e | 36 | 36 |
 * | v1.36.2+rke2r1 | 5c95ec95 | 36 | 35 |
 * | v1.36.3+rke2r1 | c4f306e6 | 36 | 35 |
 *
 * Two releases can share a tag (a re-spin, v1.35.5+rke2r1 → r2; or v1.35.7+rke2r1 → v1.36.3+rke2r1): the gate then
 * cannot tell the pods apart by image, and the etcd pod is replaced only if its manifest changed otherwise, from an
 * image already on the node (seconds, well inside the Plan's postCompleteDelay). Every release of ./rules.ts
 * RKE2_RELEASES has an entry (test/rke2-upgrade-gate.test.ts).
 */
export const RKE2_ETCD_IMAGE: Readonly<Record<string, { etcd: string; build: string }>> = {
  'v1.34.8+rke2r1': { etcd: 'v3.6.7', build: '20260512' },
  'v1.34.8+rke2r2': { etcd: 'v3.6.7', build: '20260512' },
  'v1.34.9+rke2r1': { etcd: 'v3.6.12', build: '20260603' },
  'v1.34.10+rke2r1': { etcd: 'v3.6.14', build: '20260723' },
  'v1.35.4+rke2r1': { etcd: 'v3.6.7', build: '20260415' },
  'v1.35.5+rke2r1': { etcd: 'v3.6.7', build: '20260512' },
  'v1.35.5+rke2r2': { etcd: 'v3.6.7', build: '20260512' },
  'v1.35.6+rke2r1': { etcd: 'v3.6.12', build: '20260603' },
  'v1.35.7+rke2r1': { etcd: 'v3.6.14', build: '20260723' },
  'v1.36.1+rke2r2': { etcd: 'v3.6.7', build: '20260512' },
  'v1.36.2+rke2r1': { etcd: 'v3.6.12', build: '20260603' },
  'v1.36.3+rke2r1': { etcd: 'v3.6.14', build: '20260723' },
};

/**
 * How the gate recognises the etcd image of a listed release: its tag starts with `<etcd>-` and ends with
 * `-build<date>` (between them the supervisor fork's suffix of ETCD_VERSION, `-<fork>1`, which this table does not
 * repeat). The release rule refuses an unlisted release before anything renders.
 */
export function rke2EtcdImageTag(release: string): { prefix: string; suffix: string } {
  const image = RKE2_ETCD_IMAGE[release];
  if (!image) throw new Error(`no etcd image recorded for RKE2 ${release} (generators/distributions/rke2/etcd-image.ts)`);
  return { prefix: `${image.etcd}-`, suffix: `-build${image.build}` };
}
