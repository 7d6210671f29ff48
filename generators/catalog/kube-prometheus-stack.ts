/**
 * Catalog entry (data): kube-prometheus-stack (Prometheus, Alertmanager, Grafana) and its admin secret.
 */
import { DEFAULT_STORAGE_CLASS } from './aws-ebs-csi-driver.js';
import { kubeSystemPolicies, monitoringIngressPolicy } from './network-policies.js';
import { CRD, RBAC, WEBHOOKS, type CatalogEntry } from './types.js';

export const GRAFANA_ADMIN_SECRET = 'grafana-admin';

const volumeClaim = (size: string) => ({
  volumeClaimTemplate: {
    spec: { storageClassName: DEFAULT_STORAGE_CLASS, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  },
});

export const kubePrometheusStack: CatalogEntry = {
  name: 'kube-prometheus-stack',
  description: 'Prometheus Operator, Prometheus, Alertmanager and Grafana on EBS-backed volumes',
  chart: { repoURL: 'https://prometheus-community.github.io/helm-charts', name: 'kube-prometheus-stack', version: '88.5.3' },
  namespace: 'monitoring',
  syncWave: 1,
  enabledByDefault: () => true,
  condition: 'always',
  podSecurity: 'privileged', // node-exporter uses the host network, PID namespace and hostPath
  serverSideApply: true, // the Prometheus and Alertmanager CRDs exceed the 256 KiB last-applied annotation
  // orphan: a cascade deletes Grafana's volume (a chart PVC; the gp3 class reclaims with Delete) and the operator serving other Applications' ServiceMonitors and PrometheusRules.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS],
  // The chart puts the Services that expose control-plane metrics into kube-system.
  extraNamespaces: () => ['kube-system'],
  settings: {
    grafanaAdminUserSecret: 'SSM SecureString with the Grafana admin user name (default /odp/<env>/grafana/admin-user)',
    grafanaAdminPasswordSecret: 'SSM SecureString with the Grafana admin password (default /odp/<env>/grafana/admin-password)',
  },
  values: () => ({
    prometheus: {
      prometheusSpec: {
        retention: '10d',
        storageSpec: volumeClaim('50Gi'),
        // Select every ServiceMonitor/PodMonitor/rule of the cluster, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
      },
    },
    alertmanager: { alertmanagerSpec: { storage: volumeClaim('10Gi') } },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
      // lookupVolumeName (default true) looks the PVC up at render: helm install and an engine that
      // renders without lookup would render different PVCs (catalog/determinism.ts).
      persistence: { enabled: true, storageClassName: DEFAULT_STORAGE_CLASS, size: '10Gi', lookupVolumeName: false },
    },
    // Controller-manager and scheduler metrics bound to localhost and etcd metrics not exposed (the
    // default distribution's defaults): scraping them would only produce permanently failing targets.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    // With Cilium's kube-proxy replacement there is no kube-proxy; where it runs, it serves metrics on localhost.
    kubeProxy: { enabled: false },
  }),
  // kube-system restricted (it admits only its own pods): Prometheus scrapes from this namespace.
  manifests: ({ model, namespace }) => (kubeSystemPolicies(model) ? [monitoringIngressPolicy(namespace)] : []),
  secrets: ({ model, settings }) => ({
    [GRAFANA_ADMIN_SECRET]: {
      'admin-user': { secret: typeof settings.grafanaAdminUserSecret === 'string' ? settings.grafanaAdminUserSecret : `/odp/${model.name}/grafana/admin-user` },
      'admin-password': { secret: typeof settings.grafanaAdminPasswordSecret === 'string' ? settings.grafanaAdminPasswordSecret : `/odp/${model.name}/grafana/admin-password` },
    },
  }),
};
