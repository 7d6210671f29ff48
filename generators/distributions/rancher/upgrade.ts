/**
 * The support matrix of the K3s / RKE2 family for the upgrade plan: a release ships exactly one
 * Kubernetes version (`v1.35.9+k3s1` is Kubernetes 1.35.9, `v1.35.7+rke2r1` is 1.35.7: the release tag
 * is the Kubernetes tag plus the build suffix), so the matrix is the release table itself; the skew
 * policy then applies to the release's Kubernetes version.
 */
import type { DistributionUpgrade } from '../types.js';

export function rancherUpgrade(product: string, source: string, unlisted: (release: string) => string | undefined): DistributionUpgrade {
  const kubernetesOf = (release: string): string | undefined => /^v(\d+\.\d+\.\d+)\+[a-z0-9]+$/.exec(release)?.[1];
  return {
    source,
    unlisted,
    kubernetesOf,
    unsupported(release, kubernetes) {
      const k = kubernetesOf(release);
      return k !== undefined && k !== kubernetes.replace(/^v/, '') ? `${product} ${release} ships Kubernetes ${k}, not ${kubernetes}` : undefined;
    },
  };
}
