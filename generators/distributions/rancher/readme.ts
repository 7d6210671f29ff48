/** README text the distributions of this family share (they run Kine on PostgreSQL the same way). */
import type { Datastore } from '../../model/types.js';

/** Template source (needs user, database, password): the database prerequisites of Kine on PostgreSQL. */
/**
 * Where the DSN's CA bundle comes from (../rancher/boot.ts postgresEndpointLines): the default path gets the
 * RDS bundle at the instance's first boot (user data runs once per instance); any other caBundlePath is the
 * environment's own file, never overwritten.
 */
export function caBundleText(caBundlePath: string, rdsDefault: string, rdsUrl: string): string {
  return caBundlePath === rdsDefault
    ? `the boot script downloads the RDS CA bundle (\`${rdsUrl}\`) there at the instance's first boot (user data runs once per instance: a node keeps that bundle; after RDS adds a CA, replace the nodes or fetch the bundle again and restart the service)`
    : `that file is the environment's own (\`postgres.caBundlePath\`): the boot script never downloads anything over it and stops when it is missing or empty, so put it on the AMI (or remove \`caBundlePath\` to use the RDS bundle)`;
}

export const POSTGRES_PREREQUISITES = `Database prerequisites (once, as the RDS master user):

\`\`\`sql
CREATE ROLE {{user}} LOGIN PASSWORD '…';        -- the password stored in {{password}}
CREATE DATABASE {{database}} OWNER {{user}};
-- PostgreSQL 15+ no longer grants CREATE on schema public to every role. The database owner may
-- create there (public is owned by pg_database_owner); otherwise:
-- GRANT USAGE, CREATE ON SCHEMA public TO {{user}};
\`\`\`

Kine creates its table (\`kine\`) and indexes itself and must own them (its migrations ALTER them).
Pre-creating the database avoids giving the role CREATEDB. Kine needs prepared statements: put no
PgBouncer in transaction mode in between.

Password rotation: a server reads the password once, at its first boot (user data runs once per instance). Change it
with \`ALTER ROLE {{user}} PASSWORD '…'\`, put the new one in \`{{password}}\`, then run {{rotate}} as root on each server,
one at a time (a copy on the node): it reads the parameter again, rewrites the drop-in and restarts the server. Until a
server has run it, its open connections stay and new ones fail, and a server restarted meanwhile (a reboot, an upgrade
Plan) keeps the old password and stays down until it runs it. The script waits at most {{readySeconds}} s for the server;
when the database refuses the new password (SSM changed but not the role, or another value) it stops there, says the
server is down and names the cause: fix it and run the script again on that server before any other.

`;

/** The overview's datastore cell for Kine (the distribution embeds it), `title` naming the distribution. */
export function kineDatastoreText(title: string, d: Datastore): string {
  switch (d.type) {
    case 'kine-postgres':
      return `Kine (embedded in ${title}) on PostgreSQL \`${d.postgres.host}:${d.postgres.port}/${d.postgres.database}\``;
    case 'kine-sqlite':
      return `Kine (embedded in ${title}) on SQLite, replicated by Litestream to \`s3://${d.litestream.bucket}/${d.litestream.prefix}\``;
    default:
      return d.type;
  }
}
