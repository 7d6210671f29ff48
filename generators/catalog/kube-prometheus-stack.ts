/**
 * Catalog entry (data): kube-prometheus-stack (Prometheus, Alertmanager, Grafana) and its admin secret.
 */
import { DEFAULT_STORAGE_CLASS } from './aws-ebs-csi-driver.js';
import { kubeSystemPolicies, monitoringIngressPolicy } from './network-policies.js';
import { createsServices, crds, placementAt, stringAt, valueAt } from './facts.js';
import { cap, type Need } from '../plan/needs.js';
import { CRD, kubeVersionOf, RBAC, WEBHOOKS, type CatalogEntry, type ChartFacts } from './types.js';

export const GRAFANA_ADMIN_SECRET = 'grafana-admin';

const volumeClaim = (size: string) => ({
  volumeClaimTemplate: {
    spec: { storageClassName: DEFAULT_STORAGE_CLASS, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  },
});

/**
 * kube-prometheus-stack 88.5.3 (prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3):
 * - CRDs monitoring.coreos.com (charts/crds, the prometheus-operator v0.93 CRDs);
 * - the PrometheusRule webhooks fail open with the defaults (admissionWebhooks.failurePolicy "" and
 *   patch.enabled true: templates/prometheus-operator/admission-webhooks/mutatingWebhookConfiguration.yaml:15-34,
 *   values.yaml:2869-2875, 3127-3128), so they order nothing;
 * - Grafana (subchart grafana 12.11.1, Chart.yaml:62-65) reads admin.existingSecret through a
 *   secretKeyRef with no `optional` (grafana-community/helm-charts grafana-12.11.1
 *   charts/grafana/templates/_pod.tpl:1420-1433) and creates no admin Secret then (templates/secret.yaml:1):
 *   the Secret must exist before the chart's Deployment can start;
 * - PVCs of the storage classes its values name; Services (the operator's, Grafana's, exporters').
 */
const KPS_FACTS: ChartFacts = {
  version: '88.5.3',
  provides: () => crds('monitoring.coreos.com', ['Alertmanager', 'AlertmanagerConfig', 'PodMonitor', 'Probe', 'Prometheus', 'PrometheusAgent', 'PrometheusRule', 'ScrapeConfig', 'ServiceMonitor', 'ThanosRuler']),
  needs: (values, namespace) => {
    const out: Need[] = [createsServices('kube-prometheus-stack')];
    const grafana = valueAt(values, 'grafana.enabled') !== false;
    const secret = stringAt(values, 'grafana.admin.existingSecret');
    const env = (k: string) => valueAt(values, `grafana.env.${k}`) !== undefined;
    if (grafana && secret && !env('GF_SECURITY_ADMIN_USER') && !env('GF_SECURITY_ADMIN_USER__FILE') && !env('GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION'))
      out.push({ what: cap.secret(namespace, secret), why: 'values grafana.admin.existingSecret (Grafana\'s admin secretKeyRef, not optional)' });
    for (const [path, what] of [
      ['prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName', 'Prometheus volume'],
      ['alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName', 'Alertmanager volume'],
      ['grafana.persistence.storageClassName', 'Grafana volume'],
    ] as const) {
      const sc = stringAt(values, path);
      if (sc) out.push({ what: cap.storageClass(sc), why: `values ${path} (${what})` });
    }
    return out;
  },
  pods: (values) => [placementAt(values, 'the operator', 'prometheusOperator.'), placementAt(values, 'Grafana', 'grafana.')],
};

export const kubePrometheusStack: CatalogEntry = {
  name: 'kube-prometheus-stack',
  description: 'Prometheus Operator, Prometheus, Alertmanager and Grafana on EBS-backed volumes',
  chart: { repoURL: 'https://prometheus-community.github.io/helm-charts', name: 'kube-prometheus-stack', version: '88.5.3' },
  upgradeNotes: 'https://github.com/prometheus-community/helm-charts/blob/main/charts/kube-prometheus-stack/UPGRADE.md',
  // charts/kube-prometheus-stack/Chart.yaml at each kube-prometheus-stack-<version> tag (88.0.0 … 88.5.3): `kubeVersion: ">=1.25.0-0"`.
  chartKubeVersions: kubeVersionOf(
    ['88.0.0', '88.0.1', '88.1.0', '88.1.1', '88.1.2', '88.1.3', '88.1.4', '88.1.5', '88.1.6', '88.2.0', '88.3.0', '88.4.0', '88.5.0', '88.5.1', '88.5.2', '88.5.3'],
    { constraint: '>=1.25.0-0', source: 'prometheus-community/helm-charts charts/kube-prometheus-stack/Chart.yaml at kube-prometheus-stack-<version> (88.5.3: ea930ba)' },
  ),
  namespace: 'monitoring',
  syncWave: 1,
  enabledByDefault: () => true,
  condition: 'always',
  facts: KPS_FACTS,
  podSecurity: 'privileged', // node-exporter uses the host network, PID namespace and hostPath
  // The operator's PrometheusRule mutating webhook annotates every rule it admits (prometheus-operator
  // v0.93.0 pkg/admission/admission.go:43-44, 220-223); the engines' dry-run does not trigger it
  // (helm-controller issue 643 of the GitOps toolkit): without this rule every PrometheusRule shows as drifted.
  driftIgnore: [{ group: 'monitoring.coreos.com', kind: 'PrometheusRule', paths: ['/metadata/annotations/prometheus-operator-validated'], why: 'set by the PrometheusRule admission webhook' }],
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
