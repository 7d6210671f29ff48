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
 * - Renewed by calling `lock` again while held: a PUT carrying the resourceVersion this run last wrote. A failed PUT is
 *   not read as lost: the Lease is read back (`get --ignore-not-found`: "If the requested object does not exist the
 *   command will return exit code 0", kubectl reference, kubectl get), and the run has lost it only when that read
 *   answers with another holderIdentity, or with nothing (deleted): then `lock` returns 1 with NOT_OK set and LOCKED
 *   cleared, and the run goes no further. A read that names this run (its PUT may have been applied with the answer
 *   lost: a client-side timeout does not cancel the write on the server) takes the resourceVersion read and tries
 *   again. A read that fails too (kubectl's --request-timeout expired, the connection refused: kubectl exits 1 with
 *   "Unable to connect to the server: …", k8s.io/kubectl pkg/cmd/util/helpers.go standardErrorMessage) is "could not
 *   reach the API": retried with a backoff (LOCK_RETRY) until the Lease could have expired by the wall clock (its last
 *   renewal + the duration, less LOCK_RETRY.margin for the clocks of other hosts), then `lock` returns 1 saying so,
 *   LOCKED kept (the exit's unlock still releases it if the API answers by then and it is still this run's). A
 *   script whose run may outlast the duration renews it at its step boundaries, or by the wall clock (RENEWED_S).
 * - Handed over (optional): a run may leave the Lease under a holder identity starting with a hand-over prefix, for a
 *   later run to adopt (an agent drained by a server's run, finished by the next server run). The Lease then carries
 *   the node it was handed to in an annotation (LEASE_HANDED_TO, set from HANDED_TO): a run that finds it expired does
 *   not take it over (that node may still be cordoned, its own run not done): it refuses, naming the node and how to
 *   finish or abandon the hand-over (LockWords.handedOver), whatever script it is.
 * - The refusal says when the lock expires and prints the command that deletes it sooner, safe only once the run it
 *   names has ended without releasing it (killed, or its host lost): a delete has no precondition, so a live holder
 *   would lose it.
 * - Times read and written without GNU-only `date -d` (lib/portable-shell.ts): deploy.sh runs on an operator's macOS too.
 * - Released on exit (a trap on EXIT, and HUP/INT/TERM turned into exits) when this run holds it: deleted only while it
 *   still names this run; when the API cannot be reached to read or delete it, unlock says so, when it expires, and
 *   prints the command that releases it.
 */

import { PORTABLE_DATE } from './portable-shell.js';

/** The Lease: its duration covers the longest stretch between two renewals of any run that takes it (each script's own bound). */
export const CLUSTER_LOCK = { name: 'odp-apply-config', namespace: 'kube-system', seconds: 3600 } as const;

/**
 * A renewal the API server did not answer: retried after `first` s, the wait doubled up to `max` s, until `margin` s
 * before the Lease could expire by this host's clock (renewTime + leaseDurationSeconds, compared by another host's
 * clock when it decides to take the Lease over: the margin covers their skew and one request's timeout).
 */
export const LOCK_RETRY = { first: 10, max: 120, margin: 60 } as const;

/**
 * What an apply-config run writes on an agent's Node when it drains it and hands the Lease over for the agent's own
 * run (`<node>:<sha256 of the config>`; the distribution's apply-config.sh): while any Node carries it, every run that
 * takes the lock for another node refuses (apply-config.sh on a server, aws/deploy.sh node-update), whatever became of
 * the Lease (expired, or deleted by hand).
 */
export const NODE_HANDOVER_ANNOTATION = 'odp-gitops.io/apply-config-handover';

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
  const readHolder = `${lease} get lease ${L.name} --ignore-not-found -o jsonpath='{.spec.holderIdentity}|{.metadata.resourceVersion}'`;
  const R = LOCK_RETRY;
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
    '# The holder this run last wrote (HOLDER changes at a hand-over), and its last renewal in epoch seconds.',
    'HELD_AS=',
    'RENEWED_S=0',
    'lease_doc() {',
    `  printf 'apiVersion: coordination.k8s.io/v1\\nkind: Lease\\nmetadata:\\n  name: ${L.name}\\n  namespace: ${L.namespace}\\n'`,
    `  [ -z "$1" ] || printf '  resourceVersion: "%s"\\n' "$1"`,
    `  [ -z "$HANDED_TO" ] || printf '  annotations:\\n    ${LEASE_HANDED_TO}: "%s"\\n' "$HANDED_TO"`,
    `  printf 'spec:\\n  holderIdentity: "%s"\\n  leaseDurationSeconds: ${L.seconds}\\n  acquireTime: %s\\n  renewTime: %s\\n' "$HOLDER" "$2" "\${3:-$2}"`,
    '}',
    ...PORTABLE_DATE,
    'held_now() { HELD_AS=$HOLDER; RENEWED=$now; RENEWED_S=$(epoch_of "$now"); }',
    '# A renewal: lost only when the Lease, read back, names another holder or is gone; not reached (the read fails too):',
    `# retried until ${R.margin} s before the Lease could expire by the wall clock.`,
    'renew() {',
    `  give_up=$((RENEWED_S + ${L.seconds} - ${R.margin}))`,
    `  wait_s=${R.first}`,
    '  while :; do',
    '    if rv=$(lease_doc "$RV" "$ACQUIRED" "$now" | put replace); then RV=$rv; held_now; return 0; fi',
    `    if seen=$(${readHolder} 2>/dev/null); then`,
    `      [ -n "$seen" ] || { LOCKED=; NOT_OK="this run lost the lock (Lease ${L.namespace}/${L.name}): it was deleted (by an operator, or another run)"; return 1; }`,
    '      case "${seen%|*}" in',
    `        "$HOLDER" | "$HELD_AS") RV=\${seen##*|}; why="its renewal failed, the Lease still this run's" ;;`,
    `        *) LOCKED=; NOT_OK="this run lost the lock (Lease ${L.namespace}/${L.name}): another run holds it now (\${seen%|*})"; return 1 ;;`,
    '      esac',
    '    else',
    '      why="the API server does not answer"',
    '    fi',
    '    left=$((give_up - $(date -u +%s)))',
    `    [ "$left" -gt 0 ] || { NOT_OK="this run could not renew the lock (Lease ${L.namespace}/${L.name}) since $RENEWED ($why): it may expire at $(utc_of $((RENEWED_S + ${L.seconds}))), another run then taking it over"; return 1; }`,
    '    [ "$wait_s" -le "$left" ] || wait_s=$left',
    `    ${w.log} "could not renew the lock (Lease ${L.namespace}/${L.name}): $why; trying again in $wait_s s (until $(utc_of "$give_up"), ${R.margin} s before it could expire)"`,
    '    sleep "$wait_s"',
    `    wait_s=$((wait_s * 2)); [ "$wait_s" -le ${R.max} ] || wait_s=${R.max}`,
    "    now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)",
    '  done',
    '}',
    'lock() {',
    "  now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)",
    `  put() { ${K} "$1" -f - -o jsonpath='{.metadata.resourceVersion}' 2>/dev/null; }`,
    '  [ -z "$LOCKED" ] || { renew; return; }',
    `  if RV=$(lease_doc '' "$now" | put create); then LOCKED=1; ACQUIRED=$now; held_now; return 0; fi`,
    `  held=$(${lease} get lease ${L.name} -o jsonpath='{.metadata.resourceVersion}|{.spec.renewTime}|{.spec.leaseDurationSeconds}|{.metadata.annotations.${LEASE_HANDED_TO.replace(/\./g, '\\.')}}|{.spec.holderIdentity}') || { ${w.log} "cannot take or read the lock (Lease ${L.namespace}/${L.name}) ${w.through}: nothing changed here"; exit 1; }`,
    '  rv=${held%%|*}; rest=${held#*|}; renewed=${rest%%|*}; rest=${rest#*|}; seconds=${rest%%|*}; rest=${rest#*|}; handed=${rest%%|*}; holder=${rest#*|}',
    `  renewed_s=$(epoch_of "$renewed") || { ${w.log} "the lock (Lease ${L.namespace}/${L.name}) has no renewTime in UTC (got '$renewed'): nothing changed here"; exit 1; }`,
    '  until_s=$((renewed_s + seconds))',
    ...(h
      ? [
          '  case "$HOLDER|$holder" in',
          `    *"|$${h.variable}"*) if ${h.when}; then LOCKED=1; ADOPTED=1; HOLDER=$holder; HELD_AS=$holder; HANDED_TO=$handed; RV=$rv; ACQUIRED=$renewed; RENEWED=$renewed; RENEWED_S=$renewed_s; return 0; fi ;;`,
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
    '  LOCKED=1; ACQUIRED=$now; held_now',
    `  ${w.log} "took over the expired lock of $holder"`,
    '}',
    'unlock() {',
    '  [ -n "$LOCKED" ] || return 0',
    '  LOCKED=',
    "  # Deleted only while it names this run; gone, or another run's now: nothing to release.",
    `  if seen=$(${readHolder} 2>/dev/null); then`,
    '    case "${seen%|*}" in',
    "      '') return 0 ;;",
    `      "$HOLDER" | "$HELD_AS") ! ${deleteLease} >/dev/null 2>&1 || return 0 ;;`,
    '      *) return 0 ;;',
    '    esac',
    '  fi',
    `  ${w.log} "could not release the lock (Lease ${L.namespace}/${L.name}, held by $HOLDER): the API server did not answer. It expires at $(utc_of $((RENEWED_S + ${L.seconds}))); to release it sooner, once the API server answers and the Lease still names this run (${lease} get lease ${L.name} -o jsonpath='{.spec.holderIdentity}'): ${deleteLease}"`,
    '  return 0',
    '}',
    'lock_on_exit() {',
    '  trap unlock EXIT',
    "  trap 'exit 129' HUP",
    "  trap 'exit 130' INT",
    "  trap 'exit 143' TERM",
    '}',
  ];
}
