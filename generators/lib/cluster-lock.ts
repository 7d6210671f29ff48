/**
 * The cluster-wide lock of the runbook scripts that take a node out of the cluster (a server's config applied and its
 * service restarted; a fixed node's instance type changed by `aws/deploy.sh node-update`): one Lease, so at most one
 * such change runs at a time, whoever runs it and from wherever. One copy of the shell functions; each script passes
 * its kubectl command line and its own words.
 *
 * - Taken with `kubectl create`, which the API server refuses with AlreadyExists when the object exists: its storage
 *   creates with one transaction, If(key not found) Then(Put), and answers KeyExistsError otherwise (k8s.io/apiserver
 *   pkg/storage/etcd3/store.go Create; the Kine repository's pkg/server/create.go serves that transaction on SQL).
 * - A Lease older than its leaseDurationSeconds (renewTime + duration: coordination.k8s.io/v1 LeaseSpec, k8s.io/api
 *   coordination/v1 types.go) belongs to a run that died: it is taken over with `kubectl replace` carrying the
 *   resourceVersion read (a PUT with metadata.resourceVersion is refused with Conflict when the object changed since:
 *   the API's optimistic concurrency, kubernetes.io "API concepts"), so of two runs taking over the same stale Lease
 *   one wins.
 * - Renewed by calling `lock` again while held: a PUT carrying the resourceVersion this run last wrote (refused with
 *   Conflict once another run took it over, NotFound once deleted: then `lock` returns 1 with NOT_OK set, and the run
 *   goes no further). A script whose run may outlast the duration renews it at its step boundaries.
 * - Handed over (optional): a run may leave the Lease under a holder identity starting with a hand-over prefix, for a
 *   later run to adopt (an agent drained by a server's run, finished by the next server run). The Lease then carries
 *   the node it was handed to in an annotation (LEASE_HANDED_TO, set from HANDED_TO): a run that finds it expired does
 *   not take it over (that node may still be cordoned, its own run not done): it refuses, naming the node and how to
 *   finish or abandon the hand-over (LockWords.handedOver), whatever script it is.
 * - The refusal says when the lock expires and prints the command that deletes it sooner, safe only once the run it
 *   names has ended without releasing it (killed, or its host lost): a delete has no precondition, so a live holder
 *   would lose it.
 * - Times read and written without GNU-only `date -d` (lib/portable-shell.ts): deploy.sh runs on an operator's macOS too.
 * - Released on exit (a trap on EXIT, and HUP/INT/TERM turned into exits) when this run holds it.
 */

import { PORTABLE_DATE } from './portable-shell.js';

/** The Lease: its duration covers the longest stretch between two renewals of any run that takes it (each script's own bound). */
export const CLUSTER_LOCK = { name: 'odp-apply-config', namespace: 'kube-system', seconds: 3600 } as const;

/** The Lease's annotation naming the node it was handed over to (a node drained for its own run). */
export const LEASE_HANDED_TO = 'odp-gitops.io/handed-over-to';

export interface LockWords {
  /** The kubectl command line (with its kubeconfig, if any). */
  kubectl: string;
  /** A shell word (double-quoted string) naming this run in holderIdentity, e.g. "$NODE on $(hostname) pid $$". */
  holder: string;
  /** The shell command printing its arguments as one message on stderr (e.g. a `log` function). */
  log: string;
  /** Who holds it, in the refusal: e.g. "another server run". */
  other: string;
  /** The rule the refusal recalls: e.g. "apply to one server at a time". */
  rule: string;
  /** Where kubectl asks, for the refusal when the lock can be neither taken nor read: e.g. "through this server's API server". */
  through: string;
  /**
   * A hand-over this script may adopt: the shell variable holding the holder prefix that marks a handed-over Lease, and
   * the shell condition under which this run adopts it (ADOPTED=1, HOLDER and RV taken from the Lease).
   */
  handoff?: { variable: string; when: string };
  /**
   * The refusal when the Lease found expired was handed over to a node ($handed; the expiry $until_t): how to finish or
   * abandon that hand-over. Without it, a generic sentence.
   */
  handedOver?: string;
}

/**
 * Shell lines defining `lock` (takes the Lease or exits 1, changing nothing; called again while held, renews it or
 * returns 1 with NOT_OK), `unlock` and the traps that run it on exit (`lock_on_exit`: to call once, before `lock`).
 */
export function leaseLockLines(w: LockWords): string[] {
  const L = CLUSTER_LOCK;
  const K = w.kubectl;
  const lease = `${K} -n ${L.namespace}`;
  const deleteLease = `${lease} delete lease ${L.name}`;
  const h = w.handoff;
  return [
    `# The cluster-wide lock: the Lease ${L.namespace}/${L.name}, created (refused when it exists: one holder), or`,
    '# taken over with its resourceVersion once expired (refused when another run changed it first); deleted on exit.',
    '# Called again while held, lock renews it: a PUT carrying the resourceVersion this run last wrote, refused (Conflict)',
    '# once another run took it over (or NotFound once deleted): then it returns 1 with NOT_OK, and the run goes no further.',
    'LOCKED=',
    ...(h ? ['ADOPTED='] : []),
    '# A hand-over names its node on the Lease (set HANDED_TO before the renewal that hands it over).',
    'HANDED_TO=',
    `HOLDER=${w.holder}`,
    'lease_doc() {',
    `  printf 'apiVersion: coordination.k8s.io/v1\\nkind: Lease\\nmetadata:\\n  name: ${L.name}\\n  namespace: ${L.namespace}\\n'`,
    `  [ -z "$1" ] || printf '  resourceVersion: "%s"\\n' "$1"`,
    `  [ -z "$HANDED_TO" ] || printf '  annotations:\\n    ${LEASE_HANDED_TO}: "%s"\\n' "$HANDED_TO"`,
    `  printf 'spec:\\n  holderIdentity: "%s"\\n  leaseDurationSeconds: ${L.seconds}\\n  acquireTime: %s\\n  renewTime: %s\\n' "$HOLDER" "$2" "\${3:-$2}"`,
    '}',
    ...PORTABLE_DATE,
    'lock() {',
    "  now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)",
    `  put() { ${K} "$1" -f - -o jsonpath='{.metadata.resourceVersion}' 2>/dev/null; }`,
    '  if [ -n "$LOCKED" ]; then',
    '    if RV=$(lease_doc "$RV" "$ACQUIRED" "$now" | put replace); then RENEWED=$now; return 0; fi',
    `    LOCKED=; NOT_OK="this run lost the lock (Lease ${L.namespace}/${L.name}): another run took it over, or it was deleted"; return 1`,
    '  fi',
    `  if RV=$(lease_doc '' "$now" | put create); then LOCKED=1; ACQUIRED=$now; RENEWED=$now; return 0; fi`,
    `  held=$(${lease} get lease ${L.name} -o jsonpath='{.metadata.resourceVersion}|{.spec.renewTime}|{.spec.leaseDurationSeconds}|{.metadata.annotations.${LEASE_HANDED_TO.replace(/\./g, '\\.')}}|{.spec.holderIdentity}') || { ${w.log} "cannot take or read the lock (Lease ${L.namespace}/${L.name}) ${w.through}: nothing changed here"; exit 1; }`,
    '  rv=${held%%|*}; rest=${held#*|}; renewed=${rest%%|*}; rest=${rest#*|}; seconds=${rest%%|*}; rest=${rest#*|}; handed=${rest%%|*}; holder=${rest#*|}',
    `  renewed_s=$(epoch_of "$renewed") || { ${w.log} "the lock (Lease ${L.namespace}/${L.name}) has no renewTime in UTC (got '$renewed'): nothing changed here"; exit 1; }`,
    '  until_s=$((renewed_s + seconds))',
    ...(h
      ? [
          '  case "$HOLDER|$holder" in',
          `    *"|$${h.variable}"*) if ${h.when}; then LOCKED=1; ADOPTED=1; HOLDER=$holder; HANDED_TO=$handed; RV=$rv; ACQUIRED=$renewed; RENEWED=$renewed; return 0; fi ;;`,
          '  esac',
        ]
      : []),
    // A hand-over first, expired or not: the run that handed it over ended on purpose (exit 0), so the generic "delete it
    // sooner if its run ended" below would send the operator to delete a Lease whose node is still cordoned.
    '  if [ -n "$handed" ]; then',
    '    until_t=$(utc_of "$until_s")',
    `    ${w.log} "${w.handedOver ?? `the lock (Lease ${L.namespace}/${L.name}) was handed over to $handed (drained for its own run; the Lease runs until $until_t and is never taken over, even expired): $handed may still be cordoned; finish or abandon that hand-over first, with the script that handed it over; nothing changed here`}"`,
    '    exit 1',
    '  fi',
    `  if [ "$(date -u +%s)" -lt "$until_s" ]; then`,
    '    until_t=$(utc_of "$until_s")',
    `    ${w.log} "${w.other} holds the lock (Lease ${L.namespace}/${L.name}: $holder, until $until_t): ${w.rule}; nothing changed here"`,
    `    ${w.log} "the lock expires at $until_t (${L.seconds} s after its holder took or last renewed it; the next run then takes it over). Only if that run ended without releasing it ($holder is no longer running: killed, or its host lost), delete it sooner: ${deleteLease}"`,
    '    exit 1',
    '  fi',
    `  RV=$(lease_doc "$rv" "$now" | put replace) || { ${w.log} "another run took over the expired lock (Lease ${L.namespace}/${L.name}) first: nothing changed here"; exit 1; }`,
    '  LOCKED=1; ACQUIRED=$now; RENEWED=$now',
    `  ${w.log} "took over the expired lock of $holder"`,
    '}',
    'unlock() {',
    '  [ -n "$LOCKED" ] || return 0',
    `  [ "$(${lease} get lease ${L.name} -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" = "$HOLDER" ] && ${deleteLease} >/dev/null 2>&1 || true`,
    '}',
    'lock_on_exit() {',
    '  trap unlock EXIT',
    "  trap 'exit 129' HUP",
    "  trap 'exit 130' INT",
    "  trap 'exit 143' TERM",
    '}',
  ];
}
