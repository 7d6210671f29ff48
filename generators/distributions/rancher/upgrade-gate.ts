/**
 * The server Plan's prepare step of the family (run by the controller's Job in the host, `chroot /host`, with the
 * server's own kubectl and admin kubeconfig): no server is upgraded while another one is not back.
 *
 * The upgrade Job ends as soon as the binary is replaced and the service SIGTERMed (each member's upgrade image,
 * scripts/upgrade.sh upgrade(): replace_binary, kill the process; systemd restarts it; cited in its model.ts), and
 * system-upgrade-controller v0.20.1 then labels the node done and creates the next node's Job at once
 * (pkg/upgrade/handle_batch.go:103-135; pkg/upgrade/plan/plan.go SelectConcurrentNodes): nothing waits for the
 * restarted server. `postCompleteDelay` (pkg/apis/upgrade.cattle.io/v1/types.go:84-85) gives it time first: right after
 * the Job its Node still reads Ready until the node lifecycle controller's grace period has passed.
 *
 * A member adds what "back" means beyond the Node's Ready (on embedded etcd: its etcd pod) and what to do once every
 * server is back (the etcd snapshot). On Kine (PostgreSQL) there is no quorum, but the same
 * pace: without the gate every server restarted on the new release within a minute or so, and a release that cannot
 * start on this datastore took every API server down.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { shQuote } from './boot.js';

export const SERVER_UPGRADE_GATE = { postCompleteDelay: '5m', tries: 120, interval: 5 } as const;

/** Why a server waits on Kine, in words (the gate's message and the README). */
export const KINE_UPGRADE_GATE_REASON = 'a second server down on a release that does not start would leave fewer API servers, none once every server has restarted on it';

export interface ServerGate {
  kubectl: string;
  kubeconfig: string;
  /** Variables the `back` lines use. */
  head?: string[];
  /** The comment above `back`. */
  comment: string[];
  /** `back` lines after the Node's Ready (`$node` its name), each ending its own way out. */
  back?: string[];
  /** What is not Ready, after "the server $ip" (e.g. " or its etcd"). */
  what?: string;
  /** Why this server is not upgraded then. */
  reason: string;
  /** Lines once every server is back. */
  tail?: string[];
}

export function serverGateScript(m: EnvironmentModel, g: ServerGate): string {
  const t = SERVER_UPGRADE_GATE;
  const ips = m.controlPlaneNodes.map((n) => shQuote(n.ip)).join(' ');
  const ready = (what: string) => `-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'` + what;
  return [
    'set -eu',
    `export KUBECONFIG=${g.kubeconfig}`,
    `K=${g.kubectl}`,
    ...(g.head ?? []),
    ...g.comment,
    'back() {',
    `  node=$($K get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' | awk -v ip="$1" '$2 == ip {print $1}')`,
    '  [ -n "$node" ] || return 1',
    `  [ "$($K get node "$node" ${ready(')" = True ] || return 1')}`,
    ...(g.back ?? []),
    '}',
    `for ip in ${ips}; do`,
    '  n=0',
    '  until back "$ip"; do',
    '    n=$((n + 1))',
    `    [ "$n" -lt ${t.tries} ] || { echo "odp-upgrade-gate: the server $ip${g.what ?? ''} is not Ready after ${(t.tries * t.interval) / 60} minutes: this server is not upgraded (${g.reason})" >&2; exit 1; }`,
    `    sleep ${t.interval}`,
    '  done',
    'done',
    ...(g.tail ?? []),
  ].join('\n');
}

/** The family's Kine PostgreSQL server Plan backup entry: the Node gate with the delay, and the README's words. */
export function kineServerGate(m: EnvironmentModel, kubectl: string, kubeconfig: string): { prepare: { command: string[]; args: string[] }; postCompleteDelay: string; text: string } {
  const script = serverGateScript(m, { kubectl, kubeconfig, comment: ['# The Node of an address, Ready.'], reason: KINE_UPGRADE_GATE_REASON });
  return {
    prepare: { command: ['chroot', '/host'], args: ['sh', '-c', script] },
    postCompleteDelay: SERVER_UPGRADE_GATE.postCompleteDelay,
    text: `each server waits until every server's Node is Ready (the server the previous Job restarted is back on the new release: ${KINE_UPGRADE_GATE_REASON}); the controller waits ${SERVER_UPGRADE_GATE.postCompleteDelay} after each server's Job before the next one (postCompleteDelay), time for a server that does not come back to read NotReady. The database is PostgreSQL: take an RDS snapshot (or rely on its automated backups and point-in-time recovery) before changing the version; the nodes hold no RDS permission, so no Plan step can`,
  };
}
