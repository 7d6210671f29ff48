/**
 * The restore runbook of RKE2's embedded etcd (`rke2/restore-etcd.sh`), run as root on the servers, step by step as
 * rke2-docs@9477b7b1 docs/datastore/backup_restore.md ("Snapshot Restore Steps", Multiple Servers, lines 225-268) has it:
 * stop RKE2 on every server; on one server `rke2 server --cluster-reset --cluster-reset-restore-path=<snapshot>`
 * (with etcd-s3 in config.yaml "only the snapshot filename" is given: the server downloads it from the bucket, line
 * 270); start that server again; on each other server delete (here: move away) `<data-dir>/server/db` and start it,
 * so it joins the restored cluster. The reset itself ends with "Managed etcd cluster membership has been reset,
 * restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin
 * the nodes" (lines 251-253).
 *
 * Why each step is what it is:
 * - Listing the snapshots cannot ask RKE2 once it is stopped: `rke2 etcd-snapshot ls` posts to the running server's
 *   /db/snapshot (the supervisor's pkg/cli/etcdsnapshot/etcd_snapshot.go list(): info.Post("/db/snapshot"); the server is
 *   --etcd-server, default https://127.0.0.1, pkg/cli/cmds/etcd_snapshot.go), so after "stop RKE2 on every server" it
 *   only fails. `list` reads the bucket with the servers' instance profile (s3:ListBucket on the prefix, ./aws.ts) and
 *   the local snapshot directory: it works while RKE2 is down, which is when a restore is needed.
 * - A peer that starts with its old database is not a member of the reset cluster (the restored member is alone,
 *   pkg/etcd/etcd.go Reset()/Test(): "this server is a not a member of the etcd cluster"); hence `rejoin` moves
 *   `<data-dir>/server/db` away first (kept, not deleted: the docs' "Backup and delete").
 * - `systemctl stop` leaves the static pods' containers running (KillMode=process); RKE2 terminates the old etcd and
 *   API server pods itself on a cluster reset and on a server whose etcd name file is gone, i.e. after `rejoin` moved
 *   the database (rancher/rke2@6ce1a801 pkg/executor/staticpod/cleanup.go:40-45, pkg/rke2/rke2_linux.go:89-92): no
 *   killall step is needed, as the docs have none.
 * - `stop` disables the unit as well (../rancher/boot.ts restoreStopLine): a server rebooted before its `restore` or
 *   `rejoin` would otherwise start on its old database (WantedBy=multi-user.target) and, being a member of the old
 *   cluster, run it again beside the restored one; `restore` and `rejoin` enable it again.
 * - `rejoin` refuses while nothing answers on the supervisor port of the endpoint: run on the restored server
 *   itself, or before it runs, it would throw away the only copy of the restored data.
 * - The snapshot's bootstrap data is encrypted under the server token it was taken with (lines 280-300 "Restoring To
 *   New Hosts"; security section): the token-file must hold that token.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { bootScriptOf, restoreStartLines, restoreStopLine, shQuote } from '../rancher/boot.js';
import { RKE2_PATHS, supervisorUrl } from './config.js';
import { rke2Unit } from './userdata.js';

export const RESTORE_SCRIPT = 'restore-etcd.sh';
const TAG = 'odp-restore-etcd';

/** The restore runbook of one environment's servers (embedded etcd only; undefined otherwise). */
export function restoreEtcdScript(m: EnvironmentModel): string | undefined {
  const d = m.cluster.datastore;
  if (d.type !== 'etcd') return undefined;
  const unit = rke2Unit('server');
  const db = `${RKE2_PATHS.dataDir}/server/db`;
  const s3 = d.backup ? `s3://${d.backup.bucket}/${d.backup.prefix.replace(/^\/+|\/+$/g, '')}/` : undefined;
  const names = m.controlPlaneNodes.map((n) => `${n.name} (${n.ip})`).join(', ');
  const head = [
    '#!/bin/sh',
    `# odp-gitops: restore the embedded etcd of environment ${m.name} from a snapshot (rke2-docs datastore/backup_restore.md),`,
    `# as root on its servers (${names}), in this order:`,
    `#   sh ${RESTORE_SCRIPT} list              on any server: the snapshots${s3 ? ` in ${s3} and` : ''} on this server (works while RKE2 is stopped)`,
    `#   sh ${RESTORE_SCRIPT} stop              on EVERY server`,
    `#   sh ${RESTORE_SCRIPT} restore <name>    on ONE server: cluster-reset from that snapshot, then start RKE2`,
    `#   sh ${RESTORE_SCRIPT} rejoin            on each other server, one at a time: old database moved away, RKE2 started`,
    '# The snapshot needs the server token it was taken with in the token-file (a rotation since: take the old one from',
    '# the SSM parameter\'s history). Agents need nothing: they reconnect once the servers are back.',
  ];
  const body = [
    `[ -e /usr/local/lib/systemd/system/${unit}.service ] || { log 'no RKE2 server unit on this node: run this on the servers'; exit 1; }`,
    `stopped() { ! systemctl is-active --quiet ${unit}.service; }`,
    'case "${1:-}" in',
    'list)',
    // `aws s3 ls` of a prefix with no key exits 1 (aws/aws-cli#1008, #5544): said, and the local list still follows.
    s3 ? `  aws s3 ls --region "$REGION" ${shQuote(s3)} || log ${shQuote(`nothing listed in ${s3} (no snapshot there yet, or the error above)`)}` : `  log ${shQuote("no snapshots go to S3 (cluster.datastore.backup): only this server's own")}`,
    `  ls -1 ${RKE2_PATHS.snapshots} 2>/dev/null || log ${shQuote(`no local snapshots in ${RKE2_PATHS.snapshots}`)}`,
    '  ;;',
    'stop)',
    `  ${restoreStopLine(`${unit}.service`)}`,
    `  log ${shQuote(`${unit} stopped and disabled (a reboot leaves it stopped); once it is stopped on every server: sh ${RESTORE_SCRIPT} restore <snapshot> on one of them`)}`,
    '  ;;',
    'restore)',
    '  SNAP=${2:-}',
    `  case "$SNAP" in ""|*[!A-Za-z0-9._-]*) log ${shQuote(`usage: sh ${RESTORE_SCRIPT} restore <snapshot name from sh ${RESTORE_SCRIPT} list> (a file name: letters, digits, . _ -)`)}; exit 2 ;; esac`,
    `  stopped || { log ${shQuote(`${unit} runs on this server: stop it on every server first (sh ${RESTORE_SCRIPT} stop)`)}; exit 1; }`,
    s3
      ? `  log "restoring $SNAP from "${shQuote(`${s3} (the etcd-s3 settings of ${RKE2_PATHS.config})`)}`
      : `  log "restoring ${RKE2_PATHS.snapshots}/$SNAP"; SNAP=${RKE2_PATHS.snapshots}/$SNAP`,
    `  ${RKE2_PATHS.bin} server --cluster-reset --cluster-reset-restore-path="$SNAP" >&2 || { log ${shQuote(`the cluster reset failed (above); ${db} is as RKE2 left it (the old database in etcd-old-<time>); nothing was started`)}; exit 1; }`,
    ...restoreStartLines(`${unit}.service`, `it exits and systemd keeps restarting it (journalctl -u ${unit}): the restored snapshot needs the server token it was taken with in the token-file`).map((l) => `  ${l}`),
    `  log ${shQuote(`restored and started; now on each other server, one at a time: sh ${RESTORE_SCRIPT} rejoin`)}`,
    '  ;;',
    'rejoin)',
    `  stopped || { log ${shQuote(`${unit} runs on this server: on the restored server never; on another one: sh ${RESTORE_SCRIPT} stop first`)}; exit 1; }`,
    `  curl -sk --max-time 10 -o /dev/null ${shQuote(`${supervisorUrl(m)}/cacerts`)} || { log ${shQuote(`nothing answers at ${supervisorUrl(m)}: restore on one server first (sh ${RESTORE_SCRIPT} restore <snapshot>); this database is left as it is`)}; exit 1; }`,
    `  if [ -d ${db} ]; then OLD=${db}.old-$(date +%s); mv ${db} "$OLD"; log "moved the old database to $OLD"; fi`,
    ...restoreStartLines(`${unit}.service`, `it exits and systemd keeps restarting it (journalctl -u ${unit}): check that the restored server is up and that this server's token-file holds the token the snapshot was taken with`).map((l) => `  ${l}`),
    `  log ${shQuote(`${unit} started: joined the restored cluster`)}`,
    '  ;;',
    `*) log ${shQuote(`usage: sh ${RESTORE_SCRIPT} list | stop | restore <snapshot> | rejoin`)}; exit 2 ;;`,
    'esac',
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
