/**
 * Values that make a pinned chart render differently on every render, and the values that prevent it.
 *
 * An engine that renders each chart with `helm template` on every refresh, without cluster access,
 * gets nothing from `lookup`, so a template that reuses an existing Secret through `lookup` and
 * otherwise calls genCA / genSelfSignedCert / genSignedCert / genPrivateKey / randAlphaNum / uuidv4 /
 * now produces a new certificate, password or timestamp each time: the delivery is permanently
 * OutOfSync, and self-heal rotates the secret on every sync. Audited on every catalog chart's
 * templates at the pinned version (sub-charts included); each row names the template, the functions,
 * and the value that keeps the template off that path. The rows of a contributed add-on live with it
 * (CatalogEntry.determinism). The environment rules check each row against the environment's values
 * (validate/rules-addons.ts), the engines' tree checks against rendered/<env>/values/*.yaml, and a
 * test keeps the table's versions equal to the catalog's pins, so a pin bump forces a new audit.
 *
 * Audited without findings (no such function in a rendered path): aws-cloud-controller-manager
 * 0.0.11, aws-ebs-csi-driver 2.64.0, cert-manager v1.21.1 (the webhook makes its own CA at run
 * time; the matches are CRD descriptions), external-secrets 2.9.0 (the cert controller makes the
 * webhook certificate at run time), kubelet-csr-approver 1.2.14, nvidia-device-plugin 0.20.0,
 * kube-prometheus-stack 88.5.3 itself and its kube-state-metrics 8.4.0 and prometheus-node-exporter
 * 4.56.1 sub-charts (the admission-webhook certificate comes from the kube-webhook-certgen Job at
 * run time; `.Release.IsInstall` is constant under `helm template`; "now" in dashboards is JSON).
 * Cilium's `now` (helpers hasDuration/validateDuration) only validates durations: its output does
 * not change.
 */

import { catalogEntries } from './index.js';

/** A condition on a value: it holds when the value at `path` is (or is not) one of `in`. */
export interface ValueCondition {
  path: string[];
  in?: readonly unknown[];
  notIn?: readonly unknown[];
}

export interface DeterminismRule {
  chart: string;
  version: string;
  /** Template(s) that call the functions. */
  template: string;
  functions: string[];
  /** Value path (in the chart's values; sub-chart values under the sub-chart's name). */
  path: string[];
  /** Values that keep the template deterministic; `undefined` = the key absent (chart default). */
  allowed?: readonly unknown[];
  /** Any non-empty string is fine (a reference such as an existing Secret's name). */
  nonEmptyString?: boolean;
  /** The rule does not apply when any of these holds. */
  unless?: readonly ValueCondition[];
  /** What we render, in words (README, hint). */
  fix: string;
}

/** The core's table; a contributed add-on brings its own rows (CatalogEntry.determinism). */
const CORE_RULES: readonly DeterminismRule[] = [
  {
    chart: 'cilium',
    version: '1.18.0',
    template: 'templates/_helpers.tpl (cilium.ca.setup), templates/cilium-ca-secret.yaml, templates/hubble/tls-helm/*.yaml',
    functions: ['lookup', 'genCA', 'genSignedCert'],
    path: ['hubble', 'tls', 'auto', 'method'],
    allowed: ['cronJob', 'certmanager'],
    unless: [
      { path: ['hubble', 'enabled'], in: [false] },
      { path: ['hubble', 'tls', 'enabled'], in: [false] },
      { path: ['hubble', 'tls', 'auto', 'enabled'], in: [false] },
    ],
    fix: 'hubble.tls.auto.method: cronJob (certgen Job and CronJob generate the Hubble certificates in the cluster)',
  },
  {
    chart: 'cilium',
    version: '1.18.0',
    template: 'templates/clustermesh-apiserver/tls-helm/*.yaml, templates/cilium-ca-secret.yaml',
    functions: ['lookup', 'genCA', 'genSignedCert'],
    path: ['clustermesh', 'useAPIServer'],
    allowed: [undefined, false],
    unless: [{ path: ['clustermesh', 'apiserver', 'tls', 'auto', 'method'], in: ['cronJob', 'certmanager'] }],
    fix: 'clustermesh.useAPIServer off (chart default), or clustermesh.apiserver.tls.auto.method: cronJob',
  },
  {
    chart: 'aws-load-balancer-controller',
    version: '3.5.0',
    template: 'templates/_helpers.tpl (aws-load-balancer-controller.webhookCerts), templates/webhook.yaml',
    functions: ['lookup', 'genCA', 'genSignedCert'],
    path: ['enableCertManager'],
    allowed: [true],
    fix: 'enableCertManager: true (cert-manager issues the webhook certificate)',
  },
  {
    chart: 'metrics-server',
    version: '3.13.1',
    template: 'templates/apiservice.yaml',
    functions: ['lookup', 'genSelfSignedCert'],
    path: ['tls', 'type'],
    allowed: [undefined, 'metrics-server', 'cert-manager'],
    fix: 'tls.type metrics-server (chart default: metrics-server makes its own certificate at run time)',
  },
  {
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
    template: 'charts/grafana (12.11.1) templates/_helpers.tpl (grafana.password), templates/secret.yaml',
    functions: ['lookup', 'randAlphaNum'],
    path: ['grafana', 'admin', 'existingSecret'],
    nonEmptyString: true,
    unless: [{ path: ['grafana', 'enabled'], in: [false] }],
    fix: 'grafana.admin.existingSecret: grafana-admin (an ExternalSecret from SSM)',
  },
  {
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
    template: 'charts/grafana (12.11.1) templates/pvc.yaml',
    functions: ['lookup'],
    path: ['grafana', 'persistence', 'lookupVolumeName'],
    allowed: [false],
    unless: [
      { path: ['grafana', 'enabled'], in: [false] },
      { path: ['grafana', 'persistence', 'enabled'], in: [undefined, false] },
    ],
    fix: 'grafana.persistence.lookupVolumeName: false (helm install and a rendering engine make the same PVC)',
  },
  {
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
    template: 'charts/grafana (12.11.1) templates/_helpers.tpl (grafana.imageRenderer.token), templates/image-renderer-secret.yaml',
    functions: ['lookup', 'randAlphaNum'],
    path: ['grafana', 'imageRenderer', 'enabled'],
    allowed: [undefined, false],
    unless: [{ path: ['grafana', 'enabled'], in: [false] }],
    fix: 'grafana.imageRenderer off (chart default)',
  },
];

/** Every row: the core's, then the contributed add-ons' (catalog order). */
export const determinismRules = (): DeterminismRule[] => [...CORE_RULES, ...catalogEntries().flatMap((e) => e.determinism ?? [])];

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function valueAt(values: unknown, path: readonly string[]): unknown {
  let cur = values;
  for (const seg of path) cur = isMap(cur) ? cur[seg] : undefined;
  return cur;
}

const holds = (values: unknown, c: ValueCondition): boolean => {
  const v = valueAt(values, c.path);
  if (c.in && !c.in.includes(v)) return false;
  if (c.notIn && c.notIn.includes(v)) return false;
  return true;
};

/** The rules of one chart version that the merged values break. */
export function determinismViolations(chart: string, version: string, values: unknown): DeterminismRule[] {
  return determinismRules().filter((r) => {
    if (r.chart !== chart || r.version !== version) return false;
    if ((r.unless ?? []).some((c) => holds(values, c))) return false;
    const v = valueAt(values, r.path);
    if (r.nonEmptyString) return !(typeof v === 'string' && v.length > 0);
    return !(r.allowed ?? []).includes(v);
  });
}
