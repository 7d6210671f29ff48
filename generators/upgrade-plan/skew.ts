/**
 * Kubernetes' version-skew policy, as the upgrade plan applies it (source:
 * kubernetes/website content/en/releases/version-skew-policy.md): in a highly available control plane
 * the newest and oldest kube-apiserver may be at most one minor apart, so the control plane moves one
 * minor at a time; kubelet may be up to three minors older than kube-apiserver (since 1.28; two
 * before) and never newer, so control planes upgrade before the workers; downgrading a minor is not
 * supported.
 */
export const SKEW_SOURCE = 'https://kubernetes.io/releases/version-skew-policy/';

/** The newest kubelet minor may be this many minors older than kube-apiserver (1.28 and later). */
export const KUBELET_MAX_SKEW = 3;

export const minorOf = (version: string): number | undefined => {
  const m = /^v?1\.(\d+)(\.|$)/.exec(version);
  return m ? Number(m[1]) : undefined;
};
