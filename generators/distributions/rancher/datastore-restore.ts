/**
 * Restoring a Kine PostgreSQL datastore: the database's own backup (RDS automated backups or snapshots), never the
 * distribution's. With an external datastore "backup and restore operations are handled outside of" the distribution
 * (its docs' datastore/backup_restore.md, *Backup and Restore with External Datastore*, cited where a member renders
 * this); what the servers add is the token: the bootstrap data in the database is encrypted under the server token of
 * the backup's time (the same page's warning). This
 * rendered runbook step, run as root on each server: `stop` on every server before the database is restored (no
 * server may write to the old one, nor watch a revision the restored database never had), `start` on one server after,
 * then on the others; the start is bounded (./boot.ts boundedStartLines) and names the token when the restored data
 * is under another one. `stop` disables the unit too and `start` enables it again (./boot.ts restoreStopLine): a server
 * rebooted meanwhile stays stopped instead of starting against the half-restored database.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { bootScriptOf, postgresStartCauses, restoreStartLines, restoreStopLine, shQuote } from './boot.js';
import type { ServerUnit } from './datastore-password.js';

export const DATASTORE_RESTORE_SCRIPT = 'datastore-restore.sh';
const TAG = 'odp-datastore-restore';

/** The script, for an environment on Kine PostgreSQL; undefined otherwise. `tokenFile`/`token`: the server token's file and SSM parameter. */
export function datastoreRestoreScript(m: EnvironmentModel, s: ServerUnit & { tokenFile: string; token: string }): string | undefined {
  const d = m.cluster.datastore;
  if (d.type !== 'kine-postgres') return undefined;
  const head = [
    '#!/bin/sh',
    `# odp-gitops: restoring the Kine PostgreSQL database ${d.postgres.database} of environment ${m.name} from its own backup`,
    `# (RDS), as root on each ${s.title} server: "stop" on every server before the database is restored, "start" on one`,
    '# server after it, then on the others, one at a time.',
  ];
  const body = [
    `[ -e ${s.unitPath} ] || { log ${shQuote(`no ${s.title} server unit (${s.unitPath}) on this node: run this on the servers`)}; exit 1; }`,
    'case "${1:-}" in',
    '  stop)',
    `    ${restoreStopLine(`${s.unit}.service`)}`,
    `    log ${shQuote(`${s.unit} stopped and disabled (a reboot leaves it stopped): stop every server, then restore the database (it must be reachable as ${d.postgres.host}:${Number(d.postgres.port)}), then run start on one server`)} ;;`,
    '  start)',
    ...restoreStartLines(
      `${s.unit}.service`,
      `${postgresStartCauses(d.postgres)}: journalctl -u ${s.unit}. When the restored data is under another token, put the server token of the backup's time (aws ssm get-parameter-history --with-decryption --name ${s.token}) into ${s.tokenFile} on every server and back into ${s.token}, then run start again`,
    ).map((l) => `    ${l}`),
    `    log ${shQuote(`${s.unit} started on the restored database: run start on the other servers, one at a time`)} ;;`,
    `  *) log 'usage: ${DATASTORE_RESTORE_SCRIPT} stop|start'; exit 2 ;;`,
    'esac',
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
