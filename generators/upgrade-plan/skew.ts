/**
 * Kubernetes' version-skew policy, as the upgrade plan (./plan.ts) and the version-skew rule of synth and validate
 * (../validate/rules-skew.ts) both apply it: the one table of it. Source: kubernetes/website
 * content/en/releases/version-skew-policy.md (read at 01bc09751ea95187842d07b12453df0eba104622), "Supported version
 * skew": in a highly available control plane the newest and oldest kube-apiserver must be within one minor;
 * "Supported component upgrade order", kube-apiserver: the project's API policies "require kube-apiserver to not skip
 * minor versions when upgrading, even in single-instance clusters", so the control plane moves one minor at a time;
 * kubelet must not be newer than kube-apiserver and may be up to three minors older (two for older kubelets), so
 * control planes upgrade before the workers. Nothing in the policy upgrades a cluster to an older minor: a downgrade
 * is a restore. A distribution's own rules (which releases run which Kubernetes) are its DistributionUpgrade
 * (../distributions/types.ts), read here, never copied.
 */
import type { DistributionUpgrade } from '../distributions/types.js';

export const SKEW_SOURCE = 'https://kubernetes.io/releases/version-skew-policy/';

/** The newest kubelet minor may be this many minors older than kube-apiserver (1.28 and later). */
export const KUBELET_MAX_SKEW = 3;

export const minorOf = (version: string): number | undefined => {
  const m = /^v?1\.(\d+)(\.|$)/.exec(version);
  return m ? Number(m[1]) : undefined;
};

/** What the policy says of moving a cluster from Kubernetes `from` to `to`. */
export interface KubernetesSkew {
  verdict: 'safe' | 'caution' | 'refused';
  /** Set when refused: a downgrade of the minor, or a jump of two or more minors. */
  kind?: 'downgrade' | 'jump';
  /** The plan's reason (the rule words its own message from the same fields). */
  reason: string;
  /** A jump: the minors to go through first, in order (1.35, …), one change each. */
  through?: string[];
}

export function kubernetesSkew(from: string, to: string): KubernetesSkew {
  const m0 = minorOf(from);
  const m1 = minorOf(to);
  if (m0 === undefined || m1 === undefined) return { verdict: 'caution', reason: 'a version the plan cannot read' };
  if (m1 < m0) return { verdict: 'refused', kind: 'downgrade', reason: `downgrading a minor is not supported (${SKEW_SOURCE}): restore from a backup taken on 1.${m1} instead` };
  if (m1 - m0 > 1) {
    const through = Array.from({ length: m1 - m0 - 1 }, (_, i) => `1.${m0 + 1 + i}`);
    return { verdict: 'refused', kind: 'jump', through, reason: `two or more minors at once (1.${m0} → 1.${m1}): kube-apiserver instances may differ by at most one minor, so the control plane upgrades one minor at a time (${SKEW_SOURCE}); change to 1.${m0 + 1}.x first, roll it out, then 1.${m0 + 2}` };
  }
  return { verdict: 'safe', reason: m1 === m0 ? 'a patch release' : `one minor; control planes before kubelets (a kubelet may be up to ${KUBELET_MAX_SKEW} minors older than kube-apiserver, never newer: ${SKEW_SOURCE})` };
}

/** The refusal when neither order keeps a supported pair (plan and rule word it alike), and its hint. */
export const NEITHER_ORDER = 'neither order keeps a supported pair';
export const SPLIT_HINT = 'Split the change: move to a release that runs both Kubernetes versions first';

/**
 * The order of a change of both the distribution's release (`r0` → `r1`) and Kubernetes (`k0` → `k1`), by the
 * distribution's support matrix: the release first when it runs the old Kubernetes, else Kubernetes first when the old
 * release (unset: any) runs the new one, else neither (the change must be split). Only for a release that does not
 * ship its Kubernetes (DistributionUpgrade.kubernetesOf: then the skew applies to the release itself).
 */
export function releaseOrder(matrix: DistributionUpgrade | undefined, r0: string | undefined, r1: string, k0: string, k1: string): { order: 'release' | 'kubernetes' | 'neither'; releaseFirst?: string; kubeFirst?: string } {
  const releaseFirst = matrix?.unsupported(r1, k0);
  if (!releaseFirst) return { order: 'release' };
  const kubeFirst = r0 ? matrix?.unsupported(r0, k1) : undefined;
  if (!kubeFirst) return { order: 'kubernetes', releaseFirst };
  return { order: 'neither', releaseFirst, kubeFirst };
}
