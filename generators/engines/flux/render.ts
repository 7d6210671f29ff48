/**
 * Flux renderer (environments with `gitops: flux`): rendered/<env>/flux/ holds every entry point
 * Flux reads, and nothing else points Flux anywhere:
 *
 *   flux/kustomization.yaml          the root the FluxInstance syncs: the FluxInstance itself
 *                                    (self-management) and one Flux Kustomization per unit
 *   flux/flux-instance.yaml          Flux distribution pinned exactly, multitenant lockdown, sync
 *   flux/kustomizations/<unit>.yaml  Flux Kustomizations (dependsOn in place of sync waves)
 *   flux/units/<unit>/               kustomize overlays: chart source, HelmRelease, values
 *                                    ConfigMap generated from ../../../values/<unit>.yaml (the SAME
 *                                    file every engine and the bootstrap's helm -f read), namespaces,
 *                                    tenant identities, or the unit's manifests/<unit>/ files
 *   flux/units/flux-alerts/          Provider and Alert to kube-prometheus-stack's Alertmanager (when enabled)
 *   flux/units/flux-sync-alerts/     PodMonitor and PrometheusRule: a Kustomization or HelmRelease not Ready for an hour
 *   flux/bootstrap/bootstrap.sh      helm installs, repository Secret from SSM, FluxInstance
 *
 * Overlays reach values/ and manifests/ by relative path: kustomize-controller builds with
 * LoadRestrictionsNone on a filesystem rooted at the source artifact (fluxcd/pkg kustomize
 * generator: "As we make use of a chrooted filesystem, we can safely allow loading of files from
 * anywhere"). No overlay names the distribution's node-config folder.
 */
import { manifestFileName } from '../../render/delivery/render.js';
import type { K8sObject } from '../../catalog/types.js';
import type { InputPath } from '../../lib/paths.js';
import { parseYamlStream, toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import { deliveryPlan, namespaceCreators } from '../../plan/index.js';
import { deliveryGraph, NAMESPACES_STEP, type StepPart } from '../../plan/graph.js';
import type { DeliveryUnit } from '../../plan/types.js';
import { hasSecretEnv } from '../../plan/workloads.js';
import type { RenderedFile, Renderer } from '../../render/types.js';
import { renderDelivery } from '../../render/delivery/render.js';
import { renderWorkloads } from '../../render/workloads/render.js';
import { renderFluxBootstrap } from './bootstrap.js';
import {
  chartSource,
  clusterKinds,
  ALERTS_UNIT,
  ESO_GROUP,
  FLUX_NAMESPACE,
  fluxAlerts,
  fluxInstance,
  fluxPaths,
  helmRelease,
  KUSTOMIZE_CONFIG,
  kustomization,
  manifestsUnitName,
  prerequisitesUnitName,
  namespaceAdmin,
  namespaceObject,
  PLATFORM_UNIT,
  PRUNE_ANNOTATION,
  serviceAccount,
  tenantServiceAccount,
  THIRD_PARTY_SA,
  valuesConfigMap,
} from './objects.js';
import { SYNC_POLICY_KEY } from '../registry.js';
import { kubePrometheusStack } from '../../catalog/kube-prometheus-stack.js';
import { imdsDenialInputs } from '../../catalog/resolve.js';
import { syncAlertObjects, syncAlerts, SYNC_ALERTS_UNIT } from './sync-alerts.js';
import { kindKey } from './timeouts.js';

/** Inputs of every Flux file: the sync policy, the repository, the engine, the name (a function: the registry loads this module). */
const fluxInputs = (): NonNullable<RenderedFile['inputs']> => [[SYNC_POLICY_KEY], ['git'], ['gitops'], ['name']];

/** A kustomize kustomization.yaml (kustomize.config.k8s.io/v1beta1), not a Flux object. */
const kustomizeFile = (body: Record<string, unknown>): string => toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...body });

/** From a unit directory flux/units/<x>/ back to the environment's directory. */
const UP = '../../..';

/** One Flux Kustomization of the tree: its name, overlay directory, dependencies, identity. */
export interface FluxStep {
  name: string;
  unit: DeliveryUnit | undefined;
  /** Which step of its unit (plan/graph.ts). */
  part: StepPart;
  dir: string;
  dependsOn: string[];
  serviceAccountName?: string;
  keep?: boolean;
  /** File names (under manifests/<unit>/) of the unit's extra manifests this step applies. */
  manifests: string[];
  /** apiVersions of the extra manifests it applies (its health checks follow them). */
  applies: string[];
}

/** One manifest file a unit delivers: its env-relative path and the kinds (kstatus keys, ./timeouts.ts kindKey) it holds. */
export interface ManifestFile {
  path: string;
  kinds: string[];
}

const kindsOf = (objects: readonly unknown[]): string[] =>
  objects.flatMap((o) => (o !== null && typeof o === 'object' && typeof (o as K8sObject).kind === 'string' ? [kindKey(String((o as K8sObject).apiVersion ?? ''), (o as K8sObject).kind)] : []));

/** The manifest files each unit delivers (env-relative), as the neutral renderers write them, with the kinds each holds. */
export function manifestFilesOf(model: EnvironmentModel): Map<string, ManifestFile[]> {
  const out = new Map<string, ManifestFile[]>();
  for (const f of [...renderDelivery(model), ...renderWorkloads(model)]) {
    const m = /^(manifests\/[^/]+)\/[^/]+\.yaml$/.exec(f.path);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), { path: f.path, kinds: kindsOf(parseYamlStream(f.content)) }]);
  }
  for (const list of out.values()) list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/**
 * apiVersions a workload unit applies that its health checks follow: the ExternalSecret of its `{ secret }` variables
 * (render/workloads: one per workload with one), which kstatus would count Current before External Secrets reconciles
 * it (the rendered check motion.flux refuses a wait without healthCheckExprs for it). The graph's steps carry no
 * workload objects (they are rendered by render/workloads).
 */
const workloadApplies = (model: EnvironmentModel, u: DeliveryUnit | undefined): string[] => {
  const w = u?.kind === 'workload' ? model.workloads.find((x) => x.name === u.name) : undefined;
  return w && hasSecretEnv(w) ? [`${ESO_GROUP}/v1`] : [];
};

/**
 * The Kustomizations of the delivery graph (plan/graph.ts): one per step (a chart's manifests the
 * chart needs: `<unit>-prerequisites`; the chart: `<unit>`; its other manifests: `<unit>-manifests`),
 * each depending on exactly the steps that provide what it needs. The graph's namespaces step is
 * `platform-namespaces`, which also holds the third-party charts' identities.
 */
export function fluxSteps(model: EnvironmentModel, plan: readonly DeliveryUnit[] = deliveryPlan(model)): FluxStep[] {
  const g = deliveryGraph(model);
  const nameOf = (id: string): string => {
    if (id === NAMESPACES_STEP) return PLATFORM_UNIT;
    const s = g.steps.find((x) => x.id === id)!;
    return s.part === 'before' ? prerequisitesUnitName(s.unit!.name) : s.part === 'after' ? manifestsUnitName(s.unit!.name) : s.unit!.name;
  };
  const steps: FluxStep[] = [];
  for (const s of g.steps) {
    const u = s.unit;
    if (u && !plan.includes(u)) continue;
    const name = nameOf(s.id);
    const deps = g.edges.filter((e) => e.from === s.id).map((e) => nameOf(e.to));
    // A third-party release impersonates the identity platform-namespaces creates in its namespace.
    if (u?.tenant === 'third-party' && u.chart && s.part === 'main') deps.push(PLATFORM_UNIT);
    steps.push({
      name,
      unit: u,
      part: s.part,
      dir: fluxPaths.unit(name),
      dependsOn: [...new Set(deps)].filter((d) => d !== name).sort(),
      serviceAccountName: u?.kind === 'workload' ? tenantServiceAccount(u.namespace) : undefined,
      keep: u?.onDelete === 'orphan',
      manifests: s.manifests.map((o) => manifestFileName(o, u?.namespace)),
      applies: s.part === 'main' && u?.chart ? [] : [...s.manifests.map((o) => o.apiVersion), ...workloadApplies(model, u)],
    });
  }
  return steps;
}

const uniquePaths = (ps: InputPath[]): InputPath[] => [...new Map(ps.map((p) => [JSON.stringify(p), p])).values()];

const relative = (envPath: string): string => `${UP}/${envPath}`;

/** The objects of the platform-namespaces overlay: add-on Namespaces with Pod Security labels, tenant identities. */
function platformObjects(plan: readonly DeliveryUnit[]): K8sObject[] {
  const objects: K8sObject[] = [];
  // One Namespace object per namespace, at the least restrictive level its units need (plan/index.ts namespaceCreators).
  const namespaces = [...namespaceCreators(plan.filter((u) => u.kind === 'addon'))].flatMap(([ns, c]) => (c.podSecurity ? [[ns, c.podSecurity] as const] : []));
  for (const [ns, level] of namespaces.sort(([a], [b]) => a.localeCompare(b))) objects.push(namespaceObject(ns, level));
  const thirdParty = plan.filter((u) => u.tenant === 'third-party' && u.chart);
  for (const ns of [...new Set(thirdParty.map((u) => u.namespace))].sort()) {
    const subject = { name: THIRD_PARTY_SA, namespace: ns };
    objects.push(serviceAccount(THIRD_PARTY_SA, ns), ...namespaceAdmin(THIRD_PARTY_SA, ns, subject));
  }
  for (const u of thirdParty) objects.push(...clusterKinds(`${THIRD_PARTY_SA}-${u.name}`, u.clusterResources, { name: THIRD_PARTY_SA, namespace: u.namespace }));
  return objects;
}

/** File of an object in an overlay: <kind>-<name>.yaml; in the platform overlay, where names repeat per namespace, <kind>-<namespace>-<name>.yaml. */
const objectFile = (o: K8sObject, qualified = false): string =>
  qualified && o.metadata.namespace ? manifestFileName({ kind: o.kind, metadata: { name: `${o.metadata.namespace}-${o.metadata.name}` } }) : manifestFileName(o);

/** The unit whose Alertmanager receives Flux's error events (kube-prometheus-stack's chart), if the plan has it. */
export const alertmanagerUnit = (plan: readonly DeliveryUnit[]): DeliveryUnit | undefined =>
  plan.find((u) => u.kind === 'addon' && u.name === kubePrometheusStack.name && u.chart !== undefined);

export function renderFlux(model: EnvironmentModel, plan: readonly DeliveryUnit[] = deliveryPlan(model)): RenderedFile[] {
  const files: RenderedFile[] = [];
  const manifests = manifestFilesOf(model);
  const steps = fluxSteps(model, plan);
  const unitInputs = (u: DeliveryUnit | undefined): RenderedFile['inputs'] => (u?.inputs ? uniquePaths([...u.inputs, ...fluxInputs()]) : undefined);

  const overlay = (dir: string, objects: K8sObject[], extra: Record<string, unknown>, inputs: RenderedFile['inputs'], resources: string[] = [], qualified = false): void => {
    const names = objects.map((o) => objectFile(o, qualified));
    objects.forEach((o, i) => files.push({ path: `${dir}/${names[i]}`, content: toYaml(o), inputs }));
    files.push({ path: `${dir}/kustomization.yaml`, content: kustomizeFile({ resources: [...names, ...resources], ...extra }), inputs });
  };

  // Each Kustomization's timeout follows the kinds its overlay applies (./timeouts.ts KIND_WAITS).
  const kustomizationFile = (s: FluxStep, objects: readonly K8sObject[], applied: readonly ManifestFile[] = []): void => {
    const kinds = [...new Set([...kindsOf(objects), ...applied.flatMap((f) => f.kinds)])];
    files.push({ path: fluxPaths.kustomization(s.name), content: toYaml(kustomization(model, { ...s, kinds })), inputs: unitInputs(s.unit) });
  };
  for (const s of steps) {
    const u = s.unit;
    if (!u) {
      const objects = platformObjects(plan);
      kustomizationFile(s, objects);
      overlay(s.dir, objects, {}, undefined, [], true);
      continue;
    }
    if (u.chart && s.part === 'main') {
      const release = helmRelease(model, u);
      kustomizationFile(s, [chartSource(u), release]);
      overlay(s.dir, [chartSource(u), release], {
        configMapGenerator: [{ name: valuesConfigMap(u), namespace: release.metadata.namespace, files: [`values.yaml=${relative(u.chart.valuesFile)}`] }],
        configurations: ['kustomizeconfig.yaml'],
      }, unitInputs(u));
      files.push({ path: `${s.dir}/kustomizeconfig.yaml`, content: toYaml(KUSTOMIZE_CONFIG), inputs: unitInputs(u) });
      continue;
    }
    const own: K8sObject[] = [];
    const extra: Record<string, unknown> = {};
    if (u.kind === 'workload-namespace') {
      // The tenant's identity: a ServiceAccount in flux-system, allowed everything in its namespace only.
      const sa = tenantServiceAccount(u.namespace);
      own.push(serviceAccount(sa, FLUX_NAMESPACE), ...namespaceAdmin(sa, u.namespace, { name: sa, namespace: FLUX_NAMESPACE }));
      // The shared Namespace file carries the keep markers of the engines that read one (plan/annotations.ts); Flux's is added here.
      extra.patches = [{ target: { kind: 'Namespace' }, patch: `- op: add\n  path: /metadata/annotations/${PRUNE_ANNOTATION.replace('/', '~1')}\n  value: disabled\n` }];
    }
    // A chart's extra manifests are split between its steps; a manifests-only unit applies all of its files.
    const applied = (manifests.get(u.manifestsDir!) ?? []).filter((f) => !u.chart || s.manifests.includes(f.path.slice(f.path.lastIndexOf('/') + 1)));
    kustomizationFile(s, own, applied);
    overlay(s.dir, own, extra, unitInputs(u), applied.map((f) => relative(f.path)));
  }

  // Flux's error events to Alertmanager, where kube-prometheus-stack runs: no dependsOn (the CRDs come
  // with the FluxInstance's notification-controller, before the root syncs), so it also reports the first sync.
  const alertmanager = alertmanagerUnit(plan);
  const names = steps.map((s) => s.name);
  if (alertmanager) {
    const step = { name: ALERTS_UNIT, dir: fluxPaths.unit(ALERTS_UNIT), dependsOn: [] };
    const inputs = uniquePaths([...(alertmanager.inputs ?? []), ...fluxInputs(), ['cluster', 'network']]);
    const objects = fluxAlerts(model, { release: alertmanager.chart!.releaseName, namespace: alertmanager.namespace });
    files.push({ path: fluxPaths.kustomization(ALERTS_UNIT), content: toYaml(kustomization(model, { ...step, kinds: kindsOf(objects) })), inputs });
    overlay(step.dir, objects, {}, inputs);
    names.push(ALERTS_UNIT);
  }
  // The rule on every Kustomization and HelmRelease not Ready, and the PodMonitor of the operator that reports them
  // (sync-alerts.ts): after kube-prometheus-stack's release, which installs their CRDs.
  if (alertmanager && syncAlerts(model)) {
    const step = { name: SYNC_ALERTS_UNIT, dir: fluxPaths.unit(SYNC_ALERTS_UNIT), dependsOn: [alertmanager.name] };
    const inputs = uniquePaths([...(alertmanager.inputs ?? []), ...fluxInputs()]);
    const objects = syncAlertObjects(model);
    files.push({ path: fluxPaths.kustomization(SYNC_ALERTS_UNIT), content: toYaml(kustomization(model, { ...step, kinds: kindsOf(objects) })), inputs });
    overlay(step.dir, objects, {}, inputs);
    names.push(SYNC_ALERTS_UNIT);
  }
  files.push({ path: `${fluxPaths.root}/flux-instance.yaml`, content: toYaml(fluxInstance(model)), inputs: uniquePaths([...fluxInputs(), ['cluster', 'network'], ...imdsDenialInputs(model)]) });
  files.push({
    path: `${fluxPaths.root}/kustomization.yaml`,
    content: kustomizeFile({ resources: ['flux-instance.yaml', ...names.map((n) => fluxPaths.kustomization(n).slice(`${fluxPaths.root}/`.length))] }),
  });
  return files;
}

export const renderFluxTree: Renderer = (model) => {
  if (model.gitops !== 'flux') return [];
  const plan = deliveryPlan(model);
  return [...renderFlux(model, plan), ...renderFluxBootstrap(model, plan)];
};
