/**
 * The bound of every kubectl request a rendered script makes while it holds the cluster-wide lock (./cluster-lock.ts:
 * a distribution's apply-config.sh, aws/deploy.sh node-update) or gates a node change on the cluster: `--request-timeout`.
 *
 * kubectl's own default is no bound: "--request-timeout='0': The length of time to wait before giving up on a single
 * server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't
 * timeout requests." (kubectl reference, "kubectl options"; k8s.io/cli-runtime pkg/genericclioptions/config_flags.go,
 * flag request-timeout). An API server that accepted the connection but never answers (its datastore stuck, a control
 * plane stopped under it) would otherwise hang the script while it holds the Lease, with a node cordoned.
 *
 * 15 s: each request here is one small GET or PUT (a Node, a Node list, a Lease, /readyz, one eviction) that a serving API
 * server answers in well under a second, even while etcd elects a new leader (a few seconds: etcd's default election
 * timeout is 1 s); longer means it is not serving, and the check fails (a poll tries again) instead of waiting. Kept short
 * because a gate's poll makes several requests per try and the Lease's duration must cover a whole poll of them bounded
 * this way (the scripts' lock stretches count it: rancher/apply-config.ts APPLY_GATE_SECONDS, infra/aws/deploy.ts
 * NODE_UPDATE_WAIT). It bounds each request, not a command: `kubectl drain` keeps its own --timeout (./node-drain.ts),
 * its evictions each bounded by this one. The Go duration syntax kubectl reads.
 */
export const KUBECTL_REQUEST_TIMEOUT = '15s';

/** Its seconds, for the bounds that add up kubectl calls between two renewals of the Lease. */
export const KUBECTL_REQUEST_SECONDS = 15;

/** The flag, for a kubectl command line (a global flag: any position before or after the verb). */
export const KUBECTL_TIMEOUT_FLAG = `--request-timeout=${KUBECTL_REQUEST_TIMEOUT}`;

/**
 * A shell function named kubectl that runs the real one (`command kubectl`: POSIX, the function bypassed) with the flag
 * appended, so that every kubectl call of the script, its gates' and the shared functions' (drain, lock) alike, is
 * bounded without each line repeating it. Flags after the arguments are read by kubectl as before them (cobra's
 * interspersed flags); no call here passes `--`.
 */
export function kubectlTimeoutLines(): string[] {
  return [
    `# Every kubectl request bounded (lib/kubectl-timeout.ts): an unreachable API server fails a call after ${KUBECTL_REQUEST_TIMEOUT}, never hangs the script.`,
    `kubectl() { command kubectl "$@" ${KUBECTL_TIMEOUT_FLAG}; }`,
  ];
}
