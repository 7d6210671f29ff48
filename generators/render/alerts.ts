/**
 * Alerting rules the renderers write for kube-prometheus-stack's Prometheus (prometheus-operator's
 * PrometheusRule): one builder for every rule file, so the rules of an engine's delivery objects and a
 * hub's rules on its managed environments share their shape, and one question, whether the environment
 * runs kube-prometheus-stack at all (its Prometheus selects every PrometheusRule, ServiceMonitor and
 * PodMonitor in every namespace: catalog/kube-prometheus-stack.ts *SelectorNilUsesHelmValues false).
 */
import type { K8sObject } from '../catalog/types.js';
import type { EnvironmentModel } from '../model/types.js';

/** The catalog add-on (catalog/kube-prometheus-stack.ts; by name: the catalog imports the renderers' modules). */
const KPS = 'kube-prometheus-stack';

/** Whether the environment runs kube-prometheus-stack (on unless turned off). */
export const runsPrometheus = (m: EnvironmentModel): boolean => m.addons.find((a) => a.name === KPS)?.enabled ?? true;

/** The input path a file that exists only with kube-prometheus-stack depends on. */
export const PROMETHEUS_INPUT = ['addons', KPS] as const;

/** One alerting rule of a PrometheusRule group (prometheus-operator v1 Rule: alert, expr, for, labels, annotations). */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string; runbook?: string };
}

/** A rule of severity warning: fires once `expr` has returned the series for `window`. */
export const warningRule = (alert: string, expr: string, window: string, annotations: AlertRule['annotations']): AlertRule => ({ alert, expr, for: window, labels: { severity: 'warning' }, annotations });

/**
 * How long a metric a rule reads may be missing before that is an alert of its own: a rule over a metric nothing serves
 * or scrapes never fires, silently. Past a restart of the exporter and a few scrapes.
 */
export const ABSENT_WINDOW = '15m';

/** The rule that fires when Prometheus has no series of `metric` (its exporter down, not serving it, or not scraped). */
export const absentRule = (alert: string, metric: string, annotations: AlertRule['annotations']): AlertRule => warningRule(alert, `absent(${metric})`, ABSENT_WINDOW, annotations);

/** A PrometheusRule holding one group of rules. */
export function prometheusRule(metadata: K8sObject['metadata'], group: string, rules: AlertRule[]): K8sObject {
  return { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata, spec: { groups: [{ name: group, rules }] } };
}

/**
 * One series per object an info metric (value 1, its state in labels) reports in a bad state, e.g. an Application not
 * Synced or not Healthy: `max by (<by>) (M{<selector>, <bad 1>} or M{<selector>, <bad 2>} …)`. The `by` labels are the
 * object's identity only, so the labels that change while it stays bad (its state, a reason, a revision, an operation)
 * are dropped and the rule's `for` keeps counting across them; the series ends the moment no bad matcher holds.
 */
export function badStateExpr(metric: string, selector: readonly string[], by: readonly string[], bad: readonly string[]): string {
  return `max by (${by.join(', ')}) (${bad.map((b) => `${metric}{${[...selector, b].join(', ')}}`).join(' or ')})`;
}
