/**
 * The bound of every kubectl request a rendered script makes while it holds the cluster-wide lock or gates a node change
 * (lib/cluster-lock.ts; aws/deploy.sh node-update and nodes): `--request-timeout`.
 *
 * kubectl's own default is no bound: "--request-timeout='0': The length of time to wait before giving up on a single
 * server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't
 * timeout requests." (kubectl reference, "kubectl options"; k8s.io/cli-runtime pkg/genericclioptions/config_flags.go,
 * flag request-timeout). An API server that does not answer (its address unreachable, a control plane stopped under
 * it) would otherwise hang the script while it holds the Lease, with a node cordoned.
 *
 * 30 s: each call here is one small GET or PUT (a Node, a Lease, /readyz, one eviction) that a live API server answers in
 * well under a second, even while etcd elects a new leader (a few seconds: etcd's default election timeout is 1 s);
 * 30 s tells "slow" from "gone". It applies to each request, not to a command: `kubectl drain` keeps its own --timeout
 * (lib/node-drain.ts), its evictions each bounded by this one. The Go duration syntax kubectl reads (1s, 2m).
 */
export const KUBECTL_REQUEST_TIMEOUT = '30s';

/** Its seconds, for the bounds that add up kubectl calls between two renewals of the Lease. */
export const KUBECTL_REQUEST_SECONDS = 30;

/**
 * A shell function named kubectl that runs the real one (`command kubectl`: POSIX, the function bypassed) with the flag
 * appended, so that every kubectl call of the script, its gates' and the shared functions' (drain, lock) alike, is
 * bounded without each line repeating it. Flags after the arguments are read by kubectl as before them (cobra's
 * interspersed flags); no call here passes `--`.
 */
export function kubectlTimeoutLines(): string[] {
  return [
    `# Every kubectl request bounded (lib/kubectl-timeout.ts): an unreachable API server fails a call after ${KUBECTL_REQUEST_TIMEOUT}, never hangs the script.`,
    `kubectl() { command kubectl "$@" --request-timeout=${KUBECTL_REQUEST_TIMEOUT}; }`,
  ];
}
