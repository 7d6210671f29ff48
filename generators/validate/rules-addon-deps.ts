/**
 * Add-on dependencies and committed values: an add-on another rendered object needs cannot be
 * disabled (the error sits at its `enabled: false` and names who needs it), and Helm values, which
 * are committed in rendered/<env>/values/, never carry a `{ secret: … }`.
 */
import { catalogEntry, isCatalogAddon } from '../catalog/index.js';
import { findSecrets } from '../lib/secrets.js';
import type { DocPath } from '../lib/paths.js';
import type { EnvironmentInput } from '../model/input.js';
import { hubOf } from '../model/fleet.js';
import { engineNamed, engines } from '../engines/registry.js';
import type { Rule } from './rules.js';

type Addons = NonNullable<EnvironmentInput['addons']>;
const disabled = (addons: Addons, name: string): boolean => addons[name]?.enabled === false;
/** A catalog add-on that is on by default unless disabled (the unconditional entries). */
const on = (addons: Addons, name: string): boolean => !disabled(addons, name);

/** Who needs each add-on, in words; empty when nothing does. */
function dependents(input: EnvironmentInput, managed: boolean): Record<string, string[]> {
  const addons = input.addons ?? {};
  const workloads = input.workloads ?? [];
  const needs: Record<string, string[]> = { ...Object.fromEntries(engines().map((e) => [e.addon.name, []])), 'cert-manager': [], 'external-secrets': [], 'aws-ebs-csi-driver': [], 'metrics-server': [] };
  // The GitOps engine of this environment (gitops): every add-on and workload is delivered through it.
  const engine = engineNamed(input.gitops);
  // A managed environment's engine is its hub's: it installs none of its own.
  if (!managed && engine) needs[engine.addon.name]!.push('the GitOps engine');
  // What the engine itself needs of other add-ons (a hub's cluster Secrets, a repository credential).
  for (const n of engine?.rules.needs?.(input) ?? []) (needs[n.addon] ??= []).push(n.who);
  const lbcValues = addons['aws-load-balancer-controller']?.values as { enableCertManager?: unknown } | undefined;
  if (on(addons, 'aws-load-balancer-controller') && lbcValues?.enableCertManager !== false)
    needs['cert-manager']!.push('aws-load-balancer-controller (its webhook certificate is a cert-manager Certificate)');
  // ExternalSecrets: add-ons' secrets (catalog defaults: Grafana's admin user) and workloads' { secret } variables.
  if (on(addons, 'kube-prometheus-stack') && catalogEntry('kube-prometheus-stack').secrets) needs['external-secrets']!.push('kube-prometheus-stack (the grafana-admin ExternalSecret)');
  for (const [name, a] of Object.entries(addons))
    if (a.enabled !== false && Object.keys(a.secrets ?? {}).length > 0) needs['external-secrets']!.push(`${name} (addons.${name}.secrets)`);
  for (const w of workloads)
    if (Object.values(w.env ?? {}).some((v) => typeof v !== 'string')) needs['external-secrets']!.push(`workload ${w.name} ({ secret } variables)`);
  // The gp3 StorageClass: workloads' volumes and the monitoring stack's volume claims.
  for (const w of workloads) if ((w.volumes ?? []).length > 0) needs['aws-ebs-csi-driver']!.push(`workload ${w.name} (volumes on StorageClass gp3)`);
  if (on(addons, 'kube-prometheus-stack')) needs['aws-ebs-csi-driver']!.push('kube-prometheus-stack (Prometheus, Alertmanager and Grafana volumes on StorageClass gp3)');
  // The resource metrics API: an HPA on CPU utilization reads it (kubernetes/kubernetes
  // pkg/controller/podautoscaler/metrics/client.go resourceMetricsClient, metrics.k8s.io/v1beta1 PodMetrics),
  // and only metrics-server serves it: no distribution keeps a bundled one (each disables its own where the
  // catalog's replaces it), so without the add-on the HPA reports FailedGetResourceMetric and never scales.
  for (const w of workloads)
    if (w.autoscaling) needs['metrics-server']!.push(`workload ${w.name} (autoscaling: its HorizontalPodAutoscaler reads the pods' CPU from the resource metrics API, metrics.k8s.io, which metrics-server serves)`);
  // The extended resource nvidia.com/gpu: only the device plugin advertises it on a GPU node (it registers with the
  // kubelet, whose device manager adds the plugin's resources to the node's capacity: kubernetes/kubernetes
  // pkg/kubelet/cm/devicemanager/types.go Manager.GetCapacity; kubernetes/website docs/concepts/extend-kubernetes/
  // compute-storage-net/device-plugins.md), so a pod requesting it fits no node (scheduler NodeResourcesFit,
  // "Insufficient nvidia.com/gpu") and stays Pending.
  for (const w of workloads)
    if (w.placement?.gpu !== undefined)
      (needs['nvidia-device-plugin'] ??= []).push(`workload ${w.name} (placement.gpu: its pods request nvidia.com/gpu, which only the device plugin advertises on the GPU nodes; without it they stay Pending)`);
  return needs;
}

const addonDependencies: Rule = ({ env, input, fleet }, report) => {
  const addons = input.addons ?? {};
  for (const [name, who] of Object.entries(dependents(input, fleet !== undefined && hubOf(fleet, env.name) !== undefined))) {
    if (!disabled(addons, name) || who.length === 0) continue;
    // An engine's own add-on says why in its own words (Engine.rules.required).
    const required = engines().find((e) => e.addon.name === name)?.rules.required();
    const message = required?.message ?? `${name} cannot be disabled: ${who.join('; ')} ${who.length === 1 ? 'needs' : 'need'} it`;
    report('addon-dependencies', ['addons', name, 'enabled'], message, { hint: required?.hint ?? `remove enabled: false, or remove what needs ${name} first` });
  }
  // A GPU pool without the device plugin, while no workload asks for GPUs (that case is the error above): its nodes
  // advertise no nvidia.com/gpu (only the plugin does, see dependents()), so no pod can ever request their GPUs. Right
  // only when another chart provides the plugin (the GPU Operator as a third-party chart): then acknowledged.
  const gpuPools = input.nodePools.filter((p) => p.gpu !== undefined).map((p) => p.name);
  if (disabled(addons, 'nvidia-device-plugin') && gpuPools.length > 0 && !(input.workloads ?? []).some((w) => w.placement?.gpu !== undefined))
    report('addon-dependencies', ['addons', 'nvidia-device-plugin', 'enabled'], `nvidia-device-plugin is disabled, but GPU pool${gpuPools.length === 1 ? '' : 's'} ${gpuPools.join(', ')} ${gpuPools.length === 1 ? 'has' : 'have'} no other way to advertise nvidia.com/gpu: no pod can request ${gpuPools.length === 1 ? 'its' : 'their'} GPUs`, {
      severity: 'warning',
      hint: 'remove enabled: false; or, if another chart provides the device plugin (the GPU Operator as a third-party chart), acknowledge this warning with that reason',
    });
};

/** Every `{ secret: … }` below `v`, with its path. */
function secretRefs(v: unknown, path: DocPath): DocPath[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => secretRefs(x, [...path, i]));
  if (v === null || typeof v !== 'object') return [];
  const o = v as Record<string, unknown>;
  if (typeof o.secret === 'string' && Object.keys(o).length === 1) return [path];
  return Object.entries(o).flatMap(([k, x]) => secretRefs(x, [...path, k]));
}

/**
 * A key whose last word says its value is a password or a token (`adminPassword`, `password`, `bearerToken`,
 * `api_token`), not a reference to one (`existingSecret…`, `passwordKey`, `tokenSecretName` end in another word).
 */
const PASSWORD_KEY = /(^|[a-z0-9_-])(password|passwd|passphrase|token)$/i;
/** A value that names a secret rather than holding one: an SSM or file path, a URL without credentials, an ARN, a template. */
const NAMES_A_SECRET = /^(\/|[a-z][a-z0-9+.-]*:\/\/[^@\s]*$|arn:|\$\(|\$\{|\{\{)/i;

/**
 * Every plain secret below `v` with its path and what it looks like: a secret-shaped value the rendered-tree policy
 * would refuse after the write (lib/secrets.ts findSecrets), or any plain value under a password- or token-named key.
 */
function plainSecrets(v: unknown, path: DocPath): { at: DocPath; kind: string }[] {
  const shaped = findSecrets(v).map((h) => ({ at: [...path, ...h.path], kind: h.kind }));
  const named: { at: DocPath; kind: string }[] = [];
  const walk = (x: unknown, at: DocPath): void => {
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...at, i]));
    else if (x !== null && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...at, k]);
    else {
      const key = at[at.length - 1];
      if (typeof key === 'string' && typeof x === 'string' && x !== '' && PASSWORD_KEY.test(key) && !/^existing/i.test(key) && !NAMES_A_SECRET.test(x))
        named.push({ at, kind: `a plain value under the key '${key}'` });
    }
  };
  walk(v, path);
  const seen = new Set(shaped.map((s) => s.at.join('\0')));
  return [...shaped, ...named.filter((n) => !seen.has(n.at.join('\0')))];
}

const valuesWithoutSecrets: Rule = ({ input }, report) => {
  for (const [name, a] of Object.entries(input.addons ?? {})) {
    const hint = `deliver it as a Secret (addons.${name}.secrets: { <secret-name>: { <key>: { secret: … } } } renders an ExternalSecret) and point the chart's existingSecret-style value at that Secret${isCatalogAddon(name) && catalogEntry(name).settings ? ` (or use the add-on's settings: ${Object.keys(catalogEntry(name).settings!).join(', ')})` : ''}`;
    for (const at of secretRefs(a.values, ['addons', name, 'values']))
      report('addon-values-secret', at, `a { secret } in Helm values would be committed: values are written to rendered/${input.name}/values/${name}.yaml and read by the chart as plain text`, { hint });
    for (const { at, kind } of plainSecrets(a.values, ['addons', name, 'values']))
      report('addon-values-secret', at, `a secret written in plain in Helm values (${kind}) would be committed: values are written to rendered/${input.name}/values/${name}.yaml, in git`, {
        hint: `${hint}; remove the value from git history if it was real`,
      });
  }
};

export const ADDON_DEPENDENCY_RULES: readonly Rule[] = [addonDependencies, valuesWithoutSecrets];
