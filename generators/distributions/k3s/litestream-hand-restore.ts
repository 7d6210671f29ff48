/**
 * The Litestream hand restore of the single kine-sqlite server, as a rendered runbook step (`k3s/litestream-restore.sh
 * [<RFC 3339 time>]`, run as root on the server) instead of README commands. What it adds over the commands it replaces:
 *
 * - The start is bounded (../rancher/boot.ts boundedStartLines): K3s' unit is Type=notify with TimeoutStartSec=0 and
 *   Restart=always (k3s-io/k3s@0136cf25 install.sh create_systemd_service_file), so a plain `systemctl enable --now k3s`
 *   on a database K3s cannot open waits for ever.
 * - The token: the bootstrap data in the database is encrypted under the server token of its time (k3s-io/k3s@8fed810c
 *   pkg/cluster/storage.go getBootstrapKeyFromStorage: "bootstrap data already found and encrypted with different
 *   token"); a point before a token rotation opens only with the token of that time, which SSM keeps as an earlier
 *   version of the parameter. The bounded start names it.
 * - The old database stays until the restore succeeded: Litestream restores into a new file (`-o`; v0.5.16
 *   replica.go:665-667 refuses an output path that exists) and only then is the old one moved aside, so a time with no
 *   backup ("no matching backup files available", cmd/litestream/restore.go:145-150) leaves the server as it was.
 * - Litestream's local state (`.state.db-litestream`, db.go:312) moves aside with the old database: with none, Litestream
 *   fetches the replica's latest position and goes on from there (db.go:1589-1666, checkDatabaseBehindReplica, upstream
 *   issue #781), the path a replacement server takes after its restore hook (./litestream.ts).
 * - Litestream starts only once K3s runs on the restored database: a K3s that does not start leaves the replica untouched.
 *
 * `stop` is `disable --now` (../rancher/boot.ts restoreStopLine): a reboot mid-restore leaves both units stopped; the
 * restore hook does not run again on this node (LITESTREAM_RESTORED_MARK), so a K3s started meanwhile would open a new,
 * empty database.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { bootScriptOf, restoreStartLines, restoreStopLine, shQuote } from '../rancher/boot.js';
import { K3S_PATHS } from './config.js';
import { LITESTREAM_RESTORED_MARK, litestreamReplicaUrl } from './litestream.js';
import { k3sCluster } from './model.js';

export const LITESTREAM_HAND_RESTORE_SCRIPT = 'litestream-restore.sh';
const TAG = 'odp-litestream-restore';

/** A time `litestream restore -timestamp` accepts: Go's time.RFC3339 (cmd/litestream/restore.go:87-91). */
export const RFC3339_ERE = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})';

/** The script, for an environment on Kine SQLite; undefined otherwise. */
export function litestreamHandRestoreScript(m: EnvironmentModel): string | undefined {
  const d = m.cluster.datastore;
  if (d.type !== 'kine-sqlite') return undefined;
  const db = K3S_PATHS.sqliteDb;
  const meta = `${db.slice(0, db.lastIndexOf('/'))}/.${db.slice(db.lastIndexOf('/') + 1)}-litestream`;
  const token = k3sCluster(m).token.secret;
  const url = litestreamReplicaUrl(m, d);
  const head = [
    '#!/bin/sh',
    `# odp-gitops: restore the K3s SQLite database of environment ${m.name} from its Litestream replica ${url}, as root on`,
    `# the server: sh ${LITESTREAM_HAND_RESTORE_SCRIPT} [<time, RFC 3339, e.g. 2026-01-02T03:04:05Z>] (no time: the latest state).`,
    '# K3s and Litestream stop (and stay stopped across a reboot) until K3s runs on the restored database.',
  ];
  const body = [
    `[ -e /etc/systemd/system/k3s.service ] || { log 'no K3s server unit (/etc/systemd/system/k3s.service) on this node: run this on the server'; exit 1; }`,
    '[ $# -le 1 ] || { log ' + shQuote(`usage: sh ${LITESTREAM_HAND_RESTORE_SCRIPT} [<time, RFC 3339>]`) + '; exit 2; }',
    'AT=${1:-}',
    `[ -z "$AT" ] || printf '%s\\n' "$AT" | grep -Eqx '${RFC3339_ERE}' || { log "$AT is not an RFC 3339 time (e.g. 2026-01-02T03:04:05Z)"; exit 2; }`,
    `DB=${db}`,
    `META=${meta}`,
    restoreStopLine('litestream.service k3s.service'),
    'tmp="$DB.restoring"',
    'rm -f "$tmp" "$tmp-wal" "$tmp-shm"',
    `if [ -n "$AT" ]; then set -- -timestamp "$AT"; else set --; fi`,
    `/usr/local/bin/litestream restore -config ${K3S_PATHS.litestreamConfig} "$@" -o "$tmp" "$DB" || { log ${shQuote(`litestream restore failed: the database is as it was; K3s and Litestream are stopped and disabled (systemctl enable --now k3s litestream to go back to it), or run this again with another time`)}; exit 1; }`,
    'now=$(date +%s)',
    'for f in "$DB" "$DB-wal" "$DB-shm" "$META"; do if [ -e "$f" ]; then mv "$f" "$f.before-restore-$now"; fi; done',
    'mv "$tmp" "$DB"',
    '# The restore hook must not restore the latest state over this one (a server whose first start never completed).',
    `touch ${LITESTREAM_RESTORED_MARK}`,
    `log "restored $DB from "${shQuote(url)}"\${AT:+ at $AT} (the old database and Litestream state: *.before-restore-$now)"`,
    ...restoreStartLines(
      'k3s.service',
      `it exits before it is ready on the restored database: journalctl -u k3s. "bootstrap data already found and encrypted with different token": the database is from before a token rotation; put the server token of that time (aws ssm get-parameter-history --with-decryption --name ${token}) into ${K3S_PATHS.token} and back into ${token}, then systemctl restart k3s and systemctl enable --now litestream. Litestream stays stopped meanwhile (the replica is untouched)`,
    ),
    'systemctl enable --now litestream.service',
    `log ${shQuote(`k3s runs on the restored database and Litestream replicates it to ${url}`)}`,
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
