/**
 * The Litestream alerts (catalog data): a ScrapeConfig that has Prometheus scrape Litestream's metrics
 * on the K3s server's address, and a PrometheusRule that fires when replication stops or the WAL grows
 * without checkpoints. Only where Kine runs on SQLite replicated by Litestream (../litestream.ts):
 * Kine's litestream:// driver turns off every checkpoint of its own (k3s-io/kine v0.16.3
 * pkg/drivers/sqlite/sqlite.go lines 69-74, 128-134), so while Litestream is stopped the WAL grows
 * without bound and nothing reaches S3, silently.
 *
 * Why a ScrapeConfig with node discovery: Litestream is a systemd unit, not a pod (no PodMonitor), and
 * a selector-less Service with hand-written Endpoints would pin the address; the node role follows the
 * server's Node object wherever its address moves. prometheus-operator v0.93.0
 * pkg/apis/monitoring/v1alpha1/scrapeconfig_types.go: ScrapeConfigSpec `jobName`, `kubernetesSDConfigs`,
 * `relabelings`, `scrapeInterval` (lines 168-260), KubernetesSDConfig `role` (Node: lines 81-91, 477) and
 * `selectors` (role + label: lines 93-109, 491). kube-prometheus-stack 88.5.3 selects ScrapeConfigs
 * labelled `release: <release>` (values.yaml scrapeConfigSelectorNilUsesHelmValues: true, lines 4539-4551;
 * templates/prometheus/prometheus.yaml lines 288-297) in every namespace (scrapeConfigNamespaceSelector
 * {}, lines 298-303), and its Prometheus may list and watch nodes (templates/prometheus/clusterrole.yaml
 * lines 13-20). The node security group admits 9095 from the nodes Prometheus runs on (../aws.ts).
 */
import type { CatalogEntry, K8sObject } from '../../../catalog/types.js';
import type { EnvironmentModel } from '../../../model/types.js';
import { PROMETHEUS_RELEASE } from '../../../plan/workload-constants.js';
import type { Rule } from '../../../validate/rules.js';
import { distributionOf } from '../../registry.js';
import { LITESTREAM_METRICS_PORT } from '../litestream.js';

export const LITESTREAM_ALERTS = 'litestream-alerts';
const KPS = 'kube-prometheus-stack';
/** The `job` label of the scraped series (ScrapeConfig jobName): every rule selects it. */
export const LITESTREAM_JOB = 'litestream';

/**
 * The metrics the rules read, as Litestream v0.5.16 (benbjohnson/litestream 6d61ef5d) registers them:
 * name → labels and source. Litestream's per-replica position gauges are commented out at this
 * version (replica.go lines 267-268) and a failed replica sync is only logged (replica.go lines 440-505), so
 * "replication stopped" is: the database moves on (txid) while no LTX file is PUT to S3.
 */
export const LITESTREAM_METRICS = {
  litestream_txid: { labels: ['db'], source: 'db.go lines 3360-3363 (set after every sync: line 1330)' },
  litestream_wal_size: { labels: ['db'], source: 'db.go lines 3350-3353 (the synced WAL offset: line 1336)' },
  litestream_sync_error_count: { labels: ['db'], source: 'db.go lines 3370-3373 (counted per failed sync: lines 1266-1270)' },
  litestream_disk_full: { labels: ['db'], source: 'db.go lines 3380-3383 (1 while replication is paused on a full disk: lines 1271-1275)' },
  litestream_checkpoint_count: { labels: ['db', 'mode'], source: 'db.go lines 3385-3388 (every checkpoint it runs: lines 2642-2651)' },
  litestream_checkpoint_error_count: { labels: ['db', 'mode'], source: 'db.go lines 3390-3393' },
  litestream_replica_operation_total: { labels: ['replica_type', 'operation'], source: 'internal/internal.go lines 165-168 (the S3 client counts each LTX file it PUTs: s3/replica_client.go line 705)' },
} as const;
type Metric = keyof typeof LITESTREAM_METRICS;
const sel = (name: Metric, extra = ''): string => `${name}{job="${LITESTREAM_JOB}"${extra}}`;

/**
 * Litestream checkpoints (PASSIVE) at 1000 WAL pages (~4 MB) and every minute the database changed,
 * TRUNCATE at ~500 MB (v0.5.16 db.go lines 33-37, 50-63, 1471-1479): a WAL past this for 15 minutes is
 * one no checkpoint empties.
 */
export const WAL_ALERT_BYTES = 128 * 1024 * 1024;

interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string };
}

const RUNBOOK = 'On the server: systemctl status litestream; journalctl -u litestream (environment README, "Datastore: Kine on SQLite, Litestream to S3").';

/** The alert rules, in the order the README lists them. */
export function litestreamAlertRules(): AlertRule[] {
  const rule = (alert: string, expr: string, dur: string, severity: 'critical' | 'warning', summary: string, description: string): AlertRule => ({ alert, expr, for: dur, labels: { severity }, annotations: { summary, description: `${description} ${RUNBOOK}` } });
  const failed = `sum by (job, instance, node, db) (increase(${sel('litestream_checkpoint_error_count')}[30m]))`;
  return [
    rule('LitestreamDown', `up{job="${LITESTREAM_JOB}"} == 0`, '5m', 'critical', 'Litestream on {{ $labels.node }} does not answer', 'Nothing replicates K3s\' datastore to S3 and nothing checkpoints its WAL (Kine leaves every checkpoint to Litestream): the WAL grows until Litestream runs again.'),
    rule('LitestreamMetricsAbsent', `absent(up{job="${LITESTREAM_JOB}"})`, '15m', 'critical', 'Prometheus finds no Litestream to scrape', `No K3s server was discovered for job ${LITESTREAM_JOB} (ScrapeConfig ${LITESTREAM_JOB} in the monitoring namespace): replication is not watched.`),
    rule(
      'LitestreamReplicationStalled',
      `delta(${sel('litestream_txid')}[15m]) > 0 unless on (instance) increase(${sel('litestream_replica_operation_total', ', operation="PUT"')}[15m]) > 0`,
      '5m',
      'critical',
      'Litestream on {{ $labels.node }} uploads nothing while the database changes',
      'The database {{ $labels.db }} moved on in the last 15 minutes but no LTX file was written to the S3 replica: a restore would lose those changes.',
    ),
    rule('LitestreamSyncErrors', `increase(${sel('litestream_sync_error_count')}[10m]) > 0`, '10m', 'warning', 'Litestream on {{ $labels.node }} fails to sync {{ $labels.db }}', 'Every sync of the last 20 minutes had errors: the replica falls behind.'),
    rule('LitestreamDiskFull', `${sel('litestream_disk_full')} == 1`, '1m', 'critical', 'Litestream on {{ $labels.node }} paused replication: the disk is full', 'Replication of {{ $labels.db }} is paused until the server has free disk space.'),
    rule(
      'LitestreamWALGrowing',
      `${sel('litestream_wal_size')} > ${WAL_ALERT_BYTES}`,
      '15m',
      'warning',
      'The WAL of {{ $labels.db }} on {{ $labels.node }} stays over 128 MiB',
      'Checkpoints do not empty the WAL (Litestream checkpoints at ~4 MB and every minute; a long read transaction or failing checkpoints keep it growing).',
    ),
    rule(
      'LitestreamCheckpointsStopped',
      `sum by (job, instance, node, db) (increase(${sel('litestream_checkpoint_count')}[30m])) == 0 and on (instance, db) delta(${sel('litestream_wal_size')}[30m]) > 0`,
      '5m',
      'warning',
      'No checkpoint of {{ $labels.db }} on {{ $labels.node }} for 30 minutes while the WAL grows',
      'Litestream checkpoints every minute the database changed; none ran while the WAL kept growing.',
    ),
    rule(
      'LitestreamCheckpointsFailing',
      `${failed} > 0 and ${failed} >= sum by (job, instance, node, db) (increase(${sel('litestream_checkpoint_count')}[30m]))`,
      '15m',
      'warning',
      'Every checkpoint of {{ $labels.db }} on {{ $labels.node }} fails',
      'All checkpoints of the last 30 minutes failed (the count includes the failed ones: db.go lines 2642-2651): the WAL is not emptied.',
    ),
  ];
}

/** Whether the environment keeps K3s' datastore in SQLite replicated by Litestream. */
const onLitestream = (m: EnvironmentModel): boolean => m.cluster.datastore.type === 'kine-sqlite';
const enabledIn = (m: EnvironmentModel, name: string, byDefault: boolean): boolean => m.addons.find((a) => a.name === name)?.enabled ?? byDefault;

/** Whether Prometheus scrapes Litestream in this environment (the alerts add-on is on): the AWS layer opens 9095 then. */
export const litestreamScraped = (m: EnvironmentModel): boolean => enabledIn(m, LITESTREAM_ALERTS, onLitestream(m) && enabledIn(m, KPS, true));

/** The ScrapeConfig: the control planes found through their Node objects, scraped on Litestream's port. */
export function litestreamScrapeConfig(namespace: string, controlPlaneLabel: string): K8sObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'ScrapeConfig',
    metadata: { name: LITESTREAM_JOB, namespace, labels: { release: PROMETHEUS_RELEASE } },
    spec: {
      jobName: LITESTREAM_JOB,
      scrapeInterval: '30s',
      kubernetesSDConfigs: [{ role: 'Node', selectors: [{ role: 'Node', label: `node-role.kubernetes.io/control-plane=${controlPlaneLabel}` }] }],
      relabelings: [
        // Litestream listens on the server's address (config `addr`, ../litestream.ts), not on the kubelet's port.
        { sourceLabels: ['__meta_kubernetes_node_address_InternalIP'], targetLabel: '__address__', replacement: `$1:${LITESTREAM_METRICS_PORT}` },
        { sourceLabels: ['__meta_kubernetes_node_name'], targetLabel: 'node' },
      ],
    },
  };
}

export function litestreamPrometheusRule(namespace: string): K8sObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: LITESTREAM_ALERTS, namespace, labels: { release: PROMETHEUS_RELEASE } },
    spec: { groups: [{ name: 'litestream', rules: litestreamAlertRules() }] },
  };
}

/** Enabled where it cannot work: refused at `enabled`. */
const conditions: Rule = ({ input }, report) => {
  if (input.addons?.[LITESTREAM_ALERTS]?.enabled !== true) return;
  if (input.cluster.datastore?.type !== 'kine-sqlite')
    report(`addon-${LITESTREAM_ALERTS}`, ['addons', LITESTREAM_ALERTS, 'enabled'], `${LITESTREAM_ALERTS} watches Litestream, which runs only with cluster.datastore.type kine-sqlite`, { hint: 'remove the add-on: this datastore has no Litestream' });
  else if (input.addons?.[KPS]?.enabled === false)
    report(`addon-${LITESTREAM_ALERTS}`, ['addons', LITESTREAM_ALERTS, 'enabled'], `${LITESTREAM_ALERTS} needs ${KPS} (its Prometheus scrapes Litestream and evaluates the rules), which this environment turns off`, { hint: `enable ${KPS}, or remove ${LITESTREAM_ALERTS}` });
};

export const litestreamAlerts: CatalogEntry = {
  name: LITESTREAM_ALERTS,
  description: `Scrapes Litestream on the K3s server (:${LITESTREAM_METRICS_PORT}) and alerts when replication to S3 stops or the WAL grows without checkpoints`,
  // Beside kube-prometheus-stack, whose Prometheus selects them; the delivery graph orders them after
  // it (the ScrapeConfig and PrometheusRule CRDs it provides).
  namespace: 'monitoring',
  syncWave: 1,
  enabledByDefault: (model) => onLitestream(model) && enabledIn(model, KPS, true),
  condition: 'Kine on SQLite replicated by Litestream (cluster.datastore.type kine-sqlite), with kube-prometheus-stack',
  // The namespace kube-prometheus-stack labels privileged (node-exporter): the same label here.
  podSecurity: 'privileged',
  // cascade: only the scrape and the alerts go; Litestream keeps replicating.
  onDelete: 'cascade',
  clusterResources: [],
  rules: { conditions },
  extraInputs: () => [['cluster', 'datastore'], ['addons', KPS]],
  manifests: ({ model, namespace }) => [litestreamScrapeConfig(namespace, distributionOf(model).facts.controlPlaneLabel), litestreamPrometheusRule(namespace)],
};
