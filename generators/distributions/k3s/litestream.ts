/**
 * Litestream (v0.5 format) on the single kine-sqlite server: replicates K3s' SQLite database to
 * s3://<bucket>/<prefix> with the instance profile's credentials (AWS SDK default chain; no keys in
 * the file), and the pinned release's download URLs.
 */
import type { Arch, EnvironmentModel } from '../../model/types.js';
import { K3S_PATHS } from './config.js';

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
  };
}

/** goreleaser archive names of a Litestream release (`.Version` has no leading v). */
export function litestreamDownload(version: string, arch: Arch): { archive: string; url: string; checksumsUrl: string } {
  const v = version.replace(/^v/, '');
  const archive = `litestream-${v}-linux-${arch === 'amd64' ? 'x86_64' : 'arm64'}.tar.gz`;
  const base = `https://github.com/benbjohnson/litestream/releases/download/${version}`;
  return { archive, url: `${base}/${archive}`, checksumsUrl: `${base}/checksums.txt` };
}

/** systemd unit for the tarball install (the .deb's unit, with our paths and ordering after k3s). */
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
