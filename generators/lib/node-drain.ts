/**
 * The one bounded drain of a Node that every rendered script runs before the node goes away for a while, and the one
 * table its options come from (NODE_DRAIN: one row per thing that happens to the node next).
 *
 * What every row shares (kubernetes/kubectl@dee3483a3):
 * - `kubectl drain` cordons the Node, then evicts its pods through the eviction API; an eviction a PodDisruptionBudget
 *   refuses is a 429 "Cannot evict pod as it would violate the pod's disruption budget." (kubernetes/kubernetes
 *   pkg/registry/core/pod/storage/eviction.go checkAndDecrement), which kubectl retries every 5 s ("error when evicting
 *   pods/… (will retry after 5s): …") until --timeout ("global timeout reached"), then fails ("error: unable to drain
 *   node … There are pending nodes to be drained"): pkg/drain/drain.go:295-330, pkg/cmd/drain/drain.go:226-230, 335-360.
 *   Without --timeout (or with 0: "zero means infinite", the flag's help in pkg/cmd/drain/drain.go) it retries for
 *   ever, so every drain here is bounded and a zero is refused.
 * - Which pods it refuses before evicting anything (pkg/drain/filters.go makeFilters): DaemonSet pods unless
 *   --ignore-daemonsets (daemonSetFilter: they would only be re-created on the same Node), pods with an emptyDir unless
 *   --delete-emptydir-data (localStorageFilter), and pods that no controller re-creates ("bare" pods) unless --force
 *   (unreplicatedFilter: "cannot delete Pods that declare no controller (use --force to override)"). A refused pod
 *   stops the whole drain with the Node cordoned and nothing evicted (GetPodsForDeletion fails before the evictions).
 * - A drain that fails leaves the Node cordoned: kubectl never uncordons.
 *
 * Per row: whether a bare pod is deleted (--force) or stops the script (the operator decides: the message names each
 * pod and the command that deletes it), decided by what happens to such a pod anyway:
 * - `reboot`: the node reboots. Every container stops, but a bare pod's object survives it: nothing deletes a pod of a
 *   Node that still exists, and the kubelet, once back, runs again the pods bound to its Node (kubernetes/kubernetes
 *   pkg/kubelet/config/apiserver.go NewSourceApiserver: the pods whose spec.nodeName is the node), unless the node stays
 *   away past the default not-ready/unreachable toleration (300 s, plugin/pkg/admission/defaulttolerationseconds), after
 *   which the taint manager deletes it. A drain with --force would delete it for good (pkg/drain/filters.go
 *   unreplicatedFilter: deleted with the others, no controller re-creates it), where the reboot keeps it: it stops the
 *   script, as `restart` does. (A distribution's upgrade whose own drain forces them cites that drain next to its use.)
 * - `restart`: only the cluster's service restarts. Its unit's KillMode=process (systemd.kill(5): "only the main
 *   process itself is killed") leaves the pods' containers running under their shims, so a bare pod survives the
 *   restart: deleting it would lose what the restart keeps. It stops the script; the distribution that uses this row
 *   cites its unit's KillMode next to its use.
 * - `stop`: the instance is stopped (a new instance type) and started again. The OS shuts down with it; the Node is
 *   unreachable meanwhile, and its pods tolerate node.kubernetes.io/unreachable for 300 s only (kubernetes/kubernetes
 *   plugin/pkg/admission/defaulttolerationseconds: --default-unreachable-toleration-seconds 300), after which the taint
 *   manager deletes them: a bare pod is lost either way, so it is deleted with the others.
 * - `removal`: the Node is deleted next. The pod garbage collector deletes every pod bound to a Node that no longer
 *   exists (kubernetes/kubernetes pkg/controller/podgc/gc_controller.go gcOrphaned): a bare pod is lost either way. The
 *   review prints this drain as a command; a drain that fails leaves the Node cordoned, which is where it is going.
 */

import { CLUSTER_LOCK } from './cluster-lock.js';

/** What happens to the node after its drain (the row of NODE_DRAIN). */
export type DrainEvent = 'reboot' | 'restart' | 'stop' | 'removal';

export interface DrainPolicy {
  /** kubectl drain --timeout when the env variable is not set (a Go duration). */
  timeout: string;
  /** The env variable that overrides it (its shape checked before use). */
  env: 'ODP_DRAIN_TIMEOUT';
  /** The longest duration the env variable may ask for (DRAIN_TIMEOUT_MAX: the same in every row). */
  max: string;
  /** --force: bare pods deleted (true), or the drain stops at them and the script says what to do (false). */
  force: boolean;
  /** --ignore-daemonsets: a DaemonSet's pod would be re-created on the same Node, so it is left where it is. */
  ignoreDaemonSets: true;
  /** --delete-emptydir-data: an emptyDir lives and dies with its pod, wherever the pod goes next. */
  deleteEmptyDirData: true;
  /** Where the drain stops at bare pods (force false): what the row's next step does to them, after "kubectl refuses without --force)". */
  bareKept?: string;
  /** Whether a drain that fails uncordons the Node (the node stays as it was) or leaves it cordoned. */
  uncordonOnFailure: boolean;
  /** Why, with the source (see the header for the full citations). */
  source: string;
}

/** The seconds of a Go duration of whole hours, minutes and seconds (5m, 600s, 1h30m), as kubectl's --timeout reads it. */
export function durationSeconds(d: string): number {
  if (!/^(\d+[hms])+$/.test(d)) throw new Error(`not a duration of whole hours, minutes and seconds: ${d}`);
  const unit = { h: 3600, m: 60, s: 1 } as const;
  return [...d.matchAll(/(\d+)([hms])/g)].reduce((s, [, n, u]) => s + Number(n) * unit[u as keyof typeof unit], 0);
}

/**
 * The longest drain ODP_DRAIN_TIMEOUT may ask for, in every row: 45 minutes. The scripts that change a node under the
 * cluster-wide lock (lib/cluster-lock.ts: apply-config.sh, deploy.sh node-update) drain between two of its renewals
 * (taken or renewed, one gate check, the drain, renewed), and the Lease expires CLUSTER_LOCK.seconds (3600) after its
 * last renewal: a drain past that lets another run take the Lease over while this one still drains (and this run's
 * renewal then fails, with the node drained and the other run changing a node). Without a bound the variable allowed
 * it. 3600 s less the longest other stretch between two renewals of those scripts (apply-config's bounded restart,
 * 900 s: APPLY_LOCK_STRETCH; node-update waits 600 s for its node to be back) is 2700 s: the drain's stretch keeps that
 * much room for its gate check and kubectl calls (test/node-drain.test.ts asserts it). A script that takes no Lease (a
 * distribution's own runbook) is bound too: one rule for every script, and 45 minutes is already a long drain.
 */
export const DRAIN_TIMEOUT_MAX = '45m';

/** What every row shares: one override for every script, DaemonSet pods left, emptyDir data deleted with its pod. */
const COMMON = { env: 'ODP_DRAIN_TIMEOUT', max: DRAIN_TIMEOUT_MAX, ignoreDaemonSets: true, deleteEmptyDirData: true } as const;

export const NODE_DRAIN: Readonly<Record<DrainEvent, DrainPolicy>> = {
  reboot: {
    timeout: '5m',
    ...COMMON,
    force: false,
    bareKept: "and a reboot alone keeps them (their objects stay bound to the Node; an upgrade's own drain would delete them too)",
    uncordonOnFailure: true,
    source: "a bare pod's object survives a reboot (the kubelet runs the pods bound to its Node again: pkg/kubelet/config/apiserver.go), and kubectl drain --force deletes it for good (pkg/drain/filters.go unreplicatedFilter): it stops the drain; 5 minutes is the node OS's own drain's bound (cited by the distribution using this row)",
  },
  restart: {
    timeout: '600s',
    ...COMMON,
    force: false,
    uncordonOnFailure: true,
    source: "the service unit's KillMode=process (systemd.kill(5)): a bare pod survives the restart, so it stops the drain (cited with the unit by the distribution using this row); 600 s is this project's bound (kubectl has none)",
  },
  stop: {
    timeout: '5m',
    ...COMMON,
    force: true,
    uncordonOnFailure: true,
    source: 'kubernetes/kubernetes plugin/pkg/admission/defaulttolerationseconds (unreachable: 300 s, then the taint manager deletes the pods): a bare pod is lost either way',
  },
  removal: {
    timeout: '5m',
    ...COMMON,
    force: true,
    uncordonOnFailure: false,
    source: 'kubernetes/kubernetes pkg/controller/podgc/gc_controller.go gcOrphaned (pods of a deleted Node are deleted): a bare pod is lost either way',
  },
};

/** The kubectl drain options of a row (without --timeout). */
export function drainOptions(p: DrainPolicy): string {
  return [p.ignoreDaemonSets && '--ignore-daemonsets', p.deleteEmptyDirData && '--delete-emptydir-data', p.force && '--force'].filter(Boolean).join(' ');
}

/** The review's drain of a fixed node about to be removed (NODE_DRAIN.removal), as a command an operator runs. */
export function removalDrain(ref: string): string {
  const p = NODE_DRAIN.removal;
  return `kubectl drain ${ref} ${drainOptions(p)} --timeout=${p.timeout}`;
}

/** kubectl's refusal of a bare pod (pkg/drain/filters.go unmanagedFatal), which the drain function reads. */
export const BARE_POD_REFUSAL = 'declare no controller';

export interface DrainShell {
  /** The kubectl command line (a server's kubectl with its kubeconfig, or plain `kubectl`). */
  kubectl: string;
  /** A shell line saying `text` (the inside of a double-quoted string) to the operator on stderr. */
  say(text: string): string;
}

/**
 * The shell functions of a row's drain, one copy for every script:
 * - `drain_timeout`: DRAIN_TIMEOUT from the row's env variable, else its default; refused (exit 2) unless a Go duration
 *   of whole hours/minutes/seconds (5m, 300s, 10m30s; not zero, which kubectl reads as no bound; no other character can
 *   reach the command line) and at most the row's max (DRAIN_TIMEOUT_MAX: the cluster-wide lock's room; awk sums the
 *   units, since a shell's $((…)) reads 08 as octal and overflows). Called where the script refuses its arguments,
 *   before it changes anything.
 * - `drain_bounded NODE WHAT [WHO]`: NODE (a Node name) drained as the budgets allow within DRAIN_TIMEOUT; kubectl's own lines
 *   shown (stdout as it goes, its errors after). If not drained: NODE uncordoned (per the row), then the reason, what
 *   happened to the node, WHAT (what the script did not do) and what to do, said of WHO (default NODE); returns 1.
 */
export function drainFunctions(p: DrainPolicy, sh: DrainShell): string[] {
  const { kubectl: K, say } = sh;
  const state = p.uncordonOnFailure ? `The node is uncordoned, $2` : `The node stays cordoned, $2`;
  const bare = p.force
    ? []
    : [
        `    *'${BARE_POD_REFUSAL}'*)`,
        `      bare=$(printf '%s\\n' "$drain_out" | sed -n '/${BARE_POD_REFUSAL}/{s/.*(use --force to override): //;s/, continuing command.*//;s/, cannot delete .*//;s/]$//;p;}' | tail -n 1)`,
        `      delete=$(printf '%s\\n' "$bare" | sed 's#\\([^ ,/]*\\)/\\([^ ,]*\\)#kubectl delete pod -n \\1 \\2#g; s#, #; #g')`,
        `      ${say(`$who: not drained: pods that no controller re-creates run on it ($bare). A drain would delete them for good (kubectl refuses without --force), ${p.bareKept ?? 'and this step would keep them running'}. ${state}. Delete each that may go ($delete), or run it under a controller (a Deployment), then run this again`)}`,
        '      ;;',
      ];
  return [
    `# drain_timeout: DRAIN_TIMEOUT from ${p.env} (a duration such as 5m, 300s or 10m30s, not zero, at most ${p.max}), else ${p.timeout}; exit 2 if not one.`,
    'drain_timeout() {',
    `  DRAIN_TIMEOUT=\${${p.env}:-${p.timeout}}`,
    `  case "$DRAIN_TIMEOUT" in '' | *[!0-9hms]*) DRAIN_BAD=1 ;; *) DRAIN_BAD= ;; esac`,
    `  if [ -n "$DRAIN_BAD" ] || ! printf '%s\\n' "$DRAIN_TIMEOUT" | grep -Eqx '([0-9]+[hms])+' || printf '%s\\n' "$DRAIN_TIMEOUT" | grep -Eqx '(0+[hms])+'; then`,
    `    ${say(`${p.env}: a duration such as 5m, 300s or 10m30s (not zero), not $DRAIN_TIMEOUT`)}`,
    '    exit 2',
    '  fi',
    `  if ! printf '%s\\n' "$DRAIN_TIMEOUT" | awk -v max=${durationSeconds(p.max)} '{ s = 0; t = $0; while (match(t, /^[0-9]+[hms]/)) { u = substr(t, RLENGTH, 1); s += substr(t, 1, RLENGTH - 1) * (u == "h" ? 3600 : u == "m" ? 60 : 1); t = substr(t, RLENGTH + 1) } exit (s > max) }'; then`,
    `    ${say(`${p.env}: at most ${p.max}, not $DRAIN_TIMEOUT: a node change drains while it holds the cluster-wide lock (Lease ${CLUSTER_LOCK.namespace}/${CLUSTER_LOCK.name}), which expires ${CLUSTER_LOCK.seconds} s after its last renewal; a longer drain would let another run take the lock over while this one drains (one bound for every script)`)}`,
    '    exit 2',
    '  fi',
    '}',
    `# drain_bounded NODE WHAT [WHO]: NODE drained as the budgets allow within DRAIN_TIMEOUT; else ${p.uncordonOnFailure ? 'uncordoned, ' : ''}why said (WHAT: what did not happen), 1.`,
    'drain_bounded() {',
    '  who=${3:-$1}',
    `  if { drain_out=$(${K} drain "$1" ${drainOptions(p)} --timeout="$DRAIN_TIMEOUT" 2>&1 >&3 3>&-); } 3>&1; then`,
    `    [ -z "$drain_out" ] || printf '%s\\n' "$drain_out" >&2`,
    '    return 0',
    '  fi',
    `  printf '%s\\n' "$drain_out" >&2`,
    ...(p.uncordonOnFailure ? [`  ${K} uncordon "$1" >&2 || true`] : []),
    '  case "$drain_out" in',
    ...bare,
    '    *)',
    `      ${say(`$who: not drained within $DRAIN_TIMEOUT: a PodDisruptionBudget allows no eviction of a pod kubectl named above (kubectl get pdb -A: ALLOWED DISRUPTIONS 0), or a pod did not stop in time. ${state}. Give the workload room (more replicas Ready elsewhere), or raise ${p.env}, then run this again`)}`,
    '      ;;',
    '  esac',
    '  return 1',
    '}',
  ];
}
