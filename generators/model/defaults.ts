/** Defaults applied when the environment does not say otherwise (documented in docs/reference/environment.md). */
export const DEFAULTS = {
  renderedPath: 'rendered',
  maxPods: 110,
  plannedPods: 300,
  cni: 'flannel',
  dnsDomain: 'cluster.local',
  backupSchedule: '0 */6 * * *',
  /** RKE2's own default for etcd-snapshot-retention and etcd-s3-retention (rke2-docs datastore/backup_restore.md). */
  etcdSnapshotRetention: 5,
  /** Talos: days the snapshot bucket keeps each snapshot (its lifecycle rule; talos-backup never deletes). */
  etcdSnapshotExpireAfterDays: 30,
  /** Root volume of every node (GiB, gp3, encrypted). */
  rootVolumeGiB: 100,
  installDisk: '/dev/xvda',
  nvidiaDriver: 'lts',
  talosSecretsParameter: (env: string): string => `/odp/${env}/talos/secrets-bundle`,
  postgresPort: 5432,
  rdsCaBundlePath: '/etc/ssl/certs/rds-global-bundle.pem',
  litestreamVersion: 'v0.5.16',
  replicas: 2,
  metricsPath: '/metrics',
  hpaTargetCPUUtilization: 70,
} as const;
