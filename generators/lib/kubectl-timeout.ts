/**
 * The bound of one kubectl request in the runbook scripts that hold the cluster-wide lock (./cluster-lock.ts) or gate
 * on the cluster: kubectl's `--request-timeout`. kubectl's default is "0", no timeout ("The length of time to wait
 * before giving up on a single server request … A value of zero means don't timeout requests": k8s.io/cli-runtime
 * pkg/genericclioptions/config_flags.go, flag request-timeout, as every kubectl --help prints it), so an API server that
 * accepted the connection but never answers (its datastore stuck) would hang a script while it holds the Lease.
 *
 * 10 s: the scripts' requests are one object, a Node list or an eviction, which a serving API server answers in well
 * under a second; an answer that takes longer means it is not serving, and the script's check fails (a poll tries
 * again) instead of waiting. Kept short because a gate's poll makes a few requests per try, and the Lease's duration
 * must cover a whole poll of them bounded this way (the scripts' lock stretch counts it).
 */
export const KUBECTL_REQUEST_TIMEOUT = '10s';

/** The flag, for a kubectl command line (a global flag: any position before or after the verb). */
export const KUBECTL_TIMEOUT_FLAG = `--request-timeout=${KUBECTL_REQUEST_TIMEOUT}`;
