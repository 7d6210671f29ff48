/**
 * After a rotation of the Kine PostgreSQL password: the DSN in a server's config drop-in keeps the password of
 * the instance's first boot, because user data runs once per instance (canonical/cloud-init@0167c1b9
 * cloudinit/config/cc_runcmd.py:60, cc_scripts_user.py:34: PER_INSTANCE), and Kine opens its connections
 * with that DSN at every start. This rendered runbook step, run as root on each server one at a time, reads
 * the password from SSM again, fetches the CA bundle again, rewrites the drop-in with the boot script's own
 * lines (./boot.ts postgresEndpointLines, ./host.ts identityDropInLines) and restarts the server, within
 * SERVICE_READY_SECONDS (./boot.ts boundedStartLines): a password the database refuses stops it with the cause.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { bootScriptOf, boundedStartLines, postgresEndpointLines, postgresStartCauses, shQuote } from './boot.js';
import { identityDropInLines } from './host.js';

export const DATASTORE_PASSWORD_SCRIPT = 'datastore-password.sh';
const TAG = 'odp-datastore-password';

export interface ServerUnit {
  /** The family member's name: its directory under /etc/rancher. */
  name: string;
  title: string;
  /** The server's systemd unit and where its unit file is. */
  unit: string;
  unitPath: string;
}

/** The script, for an environment on Kine PostgreSQL; undefined otherwise. */
export function datastorePasswordScript(m: EnvironmentModel, s: ServerUnit): string | undefined {
  const d = m.cluster.datastore;
  if (d.type !== 'kine-postgres') return undefined;
  const head = [
    '#!/bin/sh',
    `# odp-gitops: after the password of PostgreSQL role ${d.postgres.user} changed (ALTER ROLE, then the SSM parameter`,
    `# ${d.postgres.password.secret}), as root on each ${s.title} server of environment ${m.name}, one at a time: the`,
    '# server reads the password again from SSM, rewrites its datastore drop-in and restarts (user data ran once).',
  ];
  const body = [
    `[ -e ${s.unitPath} ] || { log ${shQuote(`no ${s.title} server unit (${s.unitPath}) on this node: run this on the servers`)}; exit 1; }`,
    // A failed download leaves the bundle the server runs with as it was (replace).
    ...postgresEndpointLines(d.postgres, 'DSN', true),
    ...identityDropInLines(s.name, 'DSN', true),
    // A password the database refuses (SSM changed before ALTER ROLE, or a typo) keeps the server down: said, not waited on for ever.
    ...boundedStartLines('restart', `${s.unit}.service`, `${postgresStartCauses(d.postgres)}: journalctl -u ${s.unit}. This server is down: ALTER ROLE ${d.postgres.user} must have the password now in ${d.postgres.password.secret}; fix that and run this script again here before any other server`),
    `log ${shQuote(`${s.unit} restarted with the password in ${d.postgres.password.secret}`)}`,
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
