/**
 * Litestream (v0.5 format) on the single kine-sqlite server: replicates K3s' SQLite database to
 * s3://<bucket>/<prefix> with the instance profile's credentials (AWS SDK default chain; no keys in
 * the file), the restore hook K3s runs before it starts, and the units.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { K3S_PATHS } from './config.js';
import type { FixedFile } from '../rancher/model.js';
import { shQuote } from '../rancher/boot.js';

type SqliteDatastore = Extract<EnvironmentModel['cluster']['datastore'], { type: 'kine-sqlite' }>;

/** Replica path in the bucket: the environment's prefix, or k3s/<cluster>. */
export const litestreamReplicaPath = (m: EnvironmentModel, d: SqliteDatastore): string => (d.litestream.prefix !== '' ? d.litestream.prefix.replace(/^\/+|\/+$/g, '') : `k3s/${m.cluster.name}`);

export const litestreamReplicaUrl = (m: EnvironmentModel, d: SqliteDatastore): string => `s3://${d.litestream.bucket}/${litestreamReplicaPath(m, d)}`;

export function litestreamConfig(m: EnvironmentModel, d: SqliteDatastore): object {
  return {
    dbs: [
      {
        path: K3S_PATHS.sqliteDb,
        replica: { type: 's3', bucket: d.litestream.bucket, path: litestreamReplicaPath(m, d), region: m.aws.region, 'sync-interval': '1s' },
      },
    ],
    // Daily snapshots kept a week: restore points for the last seven days.
    snapshot: { interval: '24h', retention: '168h' },
    // Prometheus metrics on the server's address (the alert's source: ./addons/litestream-alerts.ts).
    ...(m.controlPlaneNodes[0] ? { addr: `${m.controlPlaneNodes[0].ip}:${LITESTREAM_METRICS_PORT}` } : {}),
  };
}

/** The port Litestream serves its Prometheus metrics on (config `addr`), on the server's address. */
export const LITESTREAM_METRICS_PORT = 9095;

/** The restore hook K3s runs before it starts (ExecStartPre of the unit drop-in below). */
export const LITESTREAM_RESTORE_PATH = '/usr/local/sbin/odp-litestream-restore';
/** The unit drop-in that orders the restore before K3s and pulls Litestream in with it. */
export const K3S_LITESTREAM_DROP_IN = '/etc/systemd/system/k3s.service.d/10-litestream.conf';
/** Written once the node's database is settled (restored, or new with no replica): later starts keep it. */
export const LITESTREAM_RESTORED_MARK = '/var/lib/rancher/k3s/server/db/.odp-restore-done';

/** The replica marker: a fixed key in the Litestream bucket holding the replica path the cluster replicates to. */
export const litestreamMarkerKey = (m: EnvironmentModel): string => `.odp/k3s/${m.cluster.name}/replica`;

/** The reset: delete the marker, so that the next server boot with no replica starts a NEW, EMPTY cluster. */
export const litestreamMarkerReset = (m: EnvironmentModel, d: SqliteDatastore): string =>
  `aws s3api delete-object --region ${shQuote(m.aws.region)} --bucket ${shQuote(d.litestream.bucket)} --key ${shQuote(litestreamMarkerKey(m))}`;

const SHAPES: [string, RegExp][] = [
  ['region', /^[a-z]{2}(-[a-z]+)+-\d$/],
  ['bucket', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/],
  // S3's safe characters (rule s3-prefix, generators/validate/rules-aws.ts): no '$', '`', '"' or '\\' reaches the hook.
  ['key', /^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$/],
];
function checked(values: Record<string, string>): void {
  for (const [what, re] of SHAPES)
    for (const [k, v] of Object.entries(values))
      if (k.startsWith(what) && !re.test(v)) throw new Error(`litestream restore hook: ${k} ${JSON.stringify(v)} does not have the shape of an S3 ${what}`);
}

/**
 * The restore hook (POSIX sh). `litestream restore -if-db-not-exists` only checks that the output path
 * exists (cmd/litestream/restore.go lines 308-311: os.Stat), so an empty or half-written state.db left
 * by a failed first boot would block the restore and K3s would start an empty cluster. The hook
 * restores into a new file instead (`-o`, `-if-replica-exists`), moves whatever was there aside, and
 * marks the node done; until the mark exists every K3s start (a retried first boot included) restores again.
 *
 * `-if-replica-exists` exits 0 when no replica exists (v0.5.16 cmd/litestream/restore.go:145-149,
 * replica.go:1622-1623), which is right for a new cluster and wrong for a replacement server whose replica is gone:
 * that one would start an EMPTY cluster silently. The marker object (litestreamMarkerKey) tells them apart: written
 * at first start (the hook runs before K3s and cannot wait for replication), it names the replica path. No replica
 * and no marker is a new cluster; no replica and a marker refuses (the replica vanished, or it moved and was not
 * copied); a restore from another path than the marker's adopts the copy. S3 answers a GET of a missing key with
 * NoSuchKey only when the caller may list that key (S3 API reference, GetObject, "Permissions":
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html; grants in ./aws.ts); any other error
 * (network, permission) refuses: a fault must never start an empty cluster.
 */
export function litestreamRestoreScript(m: EnvironmentModel, d: SqliteDatastore): string {
  const db = K3S_PATHS.sqliteDb;
  const bucket = d.litestream.bucket;
  const replica = litestreamReplicaPath(m, d);
  const key = litestreamMarkerKey(m);
  checked({ region: m.aws.region, bucket, keyMarker: key, keyReplica: replica });
  const s3 = (op: string): string => `aws s3api ${op} --region "$REGION"`;
  return [
    '#!/bin/sh',
    "# odp-gitops: restore K3s' SQLite database from its Litestream replica before K3s starts (ExecStartPre).",
    'set -eu',
    'umask 077',
    'log() { echo "odp-litestream-restore: $*" >&2; }',
    `DB=${db}`,
    `REGION=${shQuote(m.aws.region)} BUCKET=${shQuote(bucket)} MARKER=${shQuote(key)} REPLICA=${shQuote(replica)}`,
    `[ -e ${LITESTREAM_RESTORED_MARK} ] && exit 0`,
    'install -d -m 0700 "${DB%/*}"',
    'mf="$DB.replica-marker" err="$DB.replica-marker.err"',
    'rm -f "$mf" "$err"',
    '# The marker: NoSuchKey is "none"; any other error refuses (a network or permission fault must not start an empty cluster).',
    `if ${s3('get-object')} --bucket "$BUCKET" --key "$MARKER" "$mf" >/dev/null 2>"$err"; then marker=$(cat "$mf"); have=1`,
    `elif grep -q '(NoSuchKey)' "$err"; then marker=; have=0`,
    'else cat "$err" >&2; log "cannot read the replica marker s3://$BUCKET/$MARKER: refusing to start K3s (an empty cluster could start); fix access to S3 and restart k3s"; exit 1',
    'fi',
    `write_marker() { printf '%s' "$REPLICA" >"$mf"; ${s3('put-object')} --bucket "$BUCKET" --key "$MARKER" --body "$mf" >/dev/null; log "replica marker s3://$BUCKET/$MARKER set to $REPLICA"; }`,
    'tmp="$DB.restoring"',
    'rm -f "$tmp" "$tmp-wal" "$tmp-shm"',
    `/usr/local/bin/litestream restore -config ${K3S_PATHS.litestreamConfig} -if-replica-exists -o "$tmp" "$DB"`,
    'if [ -e "$tmp" ]; then',
    '  now=$(date +%s)',
    '  for f in "$DB" "$DB-wal" "$DB-shm"; do if [ -e "$f" ]; then mv "$f" "$f.before-restore-$now"; fi; done',
    '  mv "$tmp" "$DB"',
    '  log "restored $DB from the replica"',
    '  # A copied replica after a move: the marker follows it.',
    '  if [ "$have" = 0 ] || [ "$marker" != "$REPLICA" ]; then write_marker; fi',
    'elif [ "$have" = 0 ]; then',
    '  write_marker',
    '  log "no replica yet: K3s starts a new database"',
    'elif [ "$marker" = "$REPLICA" ]; then',
    '  log "refusing to start K3s: the replica at s3://$BUCKET/$REPLICA vanished (the marker s3://$BUCKET/$MARKER says this cluster replicates there), and K3s would start an EMPTY cluster. Bring the replica back (S3 versioning, a copy) and restart k3s; to start an empty cluster on purpose: ' + litestreamMarkerReset(m, d) + '"',
    '  exit 1',
    'else',
    '  log "refusing to start K3s: the replica moved from s3://$BUCKET/$marker to s3://$BUCKET/$REPLICA and nothing is there yet: aws s3 sync s3://$BUCKET/$marker/ s3://$BUCKET/$REPLICA/, then systemctl restart k3s"',
    '  exit 1',
    'fi',
    'rm -f "$mf" "$err"',
    `touch ${LITESTREAM_RESTORED_MARK}`,
    '',
  ].join('\n');
}

/** The k3s.service drop-in: restore first, and Litestream wanted with K3s (it orders itself after it). */
export function k3sLitestreamDropIn(): string {
  return ['[Unit]', 'Wants=litestream.service', '', '[Service]', `ExecStartPre=${LITESTREAM_RESTORE_PATH}`, ''].join('\n');
}

/**
 * systemd unit for the tarball install (the .deb's unit, with our paths). After k3s.service: K3s is
 * Type=notify, so Litestream starts once the restore is done and Kine has opened the database. Kine's
 * litestream:// driver leaves every WAL checkpoint to Litestream: while it is stopped the WAL grows
 * and nothing replicates, so it restarts always and an alert watches it (./addons/litestream-alerts.ts).
 */
export function litestreamUnit(): string {
  return [
    '[Unit]',
    'Description=Litestream: replicate the K3s SQLite datastore to S3',
    'After=network-online.target k3s.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    `ExecStart=/usr/local/bin/litestream replicate -config ${K3S_PATHS.litestreamConfig}`,
    'Restart=always',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * The replica's place (bucket and path) is the cluster's for good: a server that boots restores from it before K3s
 * starts, and `-if-replica-exists` (restore.go:145-149 at v0.5.16) exits 0 when nothing is there (no LTX file:
 * replica.go:1622-1623 ErrTxNotAvailable), so a server that boots with a new place and nothing at it starts an empty
 * cluster. And the running server keeps its own litestream.yml (user data runs once per instance) while the base
 * stack's policy grants only the new place: its replication stops at that stack update. Moving the replica is
 * therefore done by hand: copy it, then point the running server's Litestream at the copy.
 */
const bucketOf = (url: string): string => url.replace(/^s3:\/\//, '').split('/')[0]!;

export const LITESTREAM_REPLICA_FIXED: FixedFile = {
  file: K3S_PATHS.litestreamConfig,
  what: 'litestream replica',
  value: (doc) => {
    const dbs = (doc as { dbs?: { replica?: { bucket?: string; path?: string } }[] } | undefined)?.dbs ?? [];
    const r = dbs[0]?.replica;
    return r?.bucket === undefined ? undefined : `s3://${r.bucket}/${r.path ?? ''}`;
  },
  steps: (from, to) => [
    `the Litestream replica moves from ${from} to ${to} (a server booting with this user data restores from ${to} and, with nothing there, ${bucketOf(from) === bucketOf(to) ? 'refuses to start K3s (the replica marker names the old place)' : 'starts an empty cluster (the new bucket has no replica marker)'}; the running server keeps its ${K3S_PATHS.litestreamConfig}, and the base stack's policy grants only ${to}: its replication stops at that update)`,
    `after the base stack update: aws s3 sync ${from}/ ${to}/`,
    `on the server: set bucket and path in ${K3S_PATHS.litestreamConfig} to ${to} and systemctl restart litestream (it ships what the database wrote since); check that the newest files under ${to}/ are recent (aws s3 ls --recursive ${to}/ | sort | tail -3)`,
  ],
};
