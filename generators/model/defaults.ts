/** Defaults applied when the environment does not say otherwise (documented in docs/reference/environment.md). */
export const DEFAULTS = {
  renderedPath: 'rendered',
  maxPods: 110,
  plannedPods: 300,
  cni: 'flannel',
  dnsDomain: 'cluster.local',
  backupSchedule: '0 */6 * * *',
  /** Snapshots kept (the distribution that uses backup.retention cites where its own default is 5). */
  etcdSnapshotRetention: 5,
  /** Root volume of every node (GiB, gp3, encrypted). */
  rootVolumeGiB: 100,
  /** Its EBS volume type (the AWS layer's root volumes; priced by --refresh-ssm). */
  rootVolumeType: 'gp3',
  postgresPort: 5432,
  rdsCaBundlePath: '/etc/ssl/certs/rds-global-bundle.pem',
  // renovate: datasource=github-releases depName=benbjohnson/litestream
  litestreamVersion: 'v0.5.16',
  replicas: 2,
  metricsPath: '/metrics',
  hpaTargetCPUUtilization: 70,
} as const;
