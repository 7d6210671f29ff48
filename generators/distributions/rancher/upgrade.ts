/**
 * The support matrix of this family for the upgrade plan: a release ships exactly one Kubernetes
 * version (the release tag is the Kubernetes tag plus a build suffix: `v1.35.7+<build>` is Kubernetes
 * 1.35.7), so the matrix is each distribution's release table itself; the skew policy then applies to
 * the release's Kubernetes version.
 */
import type { DistributionUpgrade } from '../types.js';
import type { RancherKeys } from './model.js';
import { releaseParameterName } from './release.js';

export function rancherUpgrade(keys: Pick<RancherKeys, 'name'>, product: string, source: string, unlisted: (release: string) => string | undefined): DistributionUpgrade {
  const kubernetesOf = (release: string): string | undefined => /^v(\d+\.\d+\.\d+)\+[a-z0-9]+$/.exec(release)?.[1];
  return {
    source,
    unlisted,
    kubernetesOf,
    // The boot script reads the release from the base stack's parameter at first boot (./release.ts), so a bump changes
    // no node's user data; the running nodes are upgraded in place by the system-upgrade-controller's Plans (./addons/).
    releaseAtBoot: { parameter: (m) => releaseParameterName(keys, m), inPlace: `the system-upgrade-controller's Plans upgrade the running ${product} nodes in place`, done: 'the server Plan is done (kubectl -n system-upgrade get plans)' },
    unsupported(release, kubernetes) {
      const k = kubernetesOf(release);
      return k !== undefined && k !== kubernetes.replace(/^v/, '') ? `${product} ${release} ships Kubernetes ${k}, not ${kubernetes}` : undefined;
    },
  };
}

/**
 * What this family's node operations do with a drain a budget refuses (DistributionFacts.blockedDrain): the upgrade
 * Plans cordon and do not drain (system-upgrade-controller v0.20.1 pkg/upgrade/job/job.go:350-420: a Plan with cordon
 * and no drain gets a `kubectl cordon` container only; ./addons/system-upgrade-controller.ts sets cordon), so an upgrade
 * evicts nothing; the review's commands for a removed node run `kubectl drain --timeout=5m` (../../lib/k8s-nodes.ts
 * removalDrain), which retries the 429 every 5 s until then and fails with the node cordoned.
 */
export const RANCHER_BLOCKED_DRAIN =
  'an upgrade Plan only cordons (no eviction), but removing the node stops at the review\'s drain (kubectl drain --timeout=5m fails with the node cordoned and the pod still on it)';
