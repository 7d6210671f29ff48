/**
 * The delivery graph (engine-neutral): every unit of the delivery plan split into the steps an engine
 * applies and waits on, what each step provides and needs (plan/needs.ts), and the edges that follow:
 * a step is applied after the steps that provide what it needs. Ordering for every engine comes from
 * here (each engine maps edges to its own mechanism); nothing is ordered without a need.
 *
 * - An add-on with a chart is up to three steps: `before` (its extra manifests the chart needs, e.g.
 *   the ExternalSecret of a Secret its values name), the chart (`main`), and `after` (the manifests
 *   that need the chart's CRDs or webhooks, or nothing of it). The chart's needs come from the
 *   catalog's facts for the pinned version (CatalogEntry.facts), evaluated on the merged values.
 * - A manifests-only unit (an add-on without a chart, a workload namespace, a workload) is one step.
 *   Workloads' needs are derived from the model.
 * - Namespaces the engine creates for add-ons are provided by the `namespaces` step.
 * - What the cluster has before anything is applied (built-in namespaces, the distribution's own
 *   objects such as a RuntimeClass it ships) needs no step.
 * - A webhook need (mode `webhook`) orders its consumer after the webhook's provider unless that
 *   provider already (transitively) comes after the consumer: then the consumer is applied before the
 *   webhook exists.
 */
import { resolveAddons, type ResolvedAddon } from '../catalog/resolve.js';
import type { K8sObject } from '../catalog/types.js';
import { distributionOf } from '../distributions/registry.js';
import type { EnvironmentModel, Workload } from '../model/types.js';
import { deliveryPlan } from './index.js';
import { BUILTIN_NAMESPACES, cap, objectFacts, type Need, type PodPlacement } from './needs.js';
import type { DeliveryUnit } from './types.js';
import { namespaceStoreName } from '../catalog/secret-stores.js';
import { GPU_RESOURCE, GPU_RUNTIME_CLASS, STORAGE_CLASS } from './workload-constants.js';
import { envSecretName, hasSecretEnv, servesTraffic } from './workloads.js';

export type StepPart = 'before' | 'main' | 'after';

export interface GraphStep {
  /** `<unit>`, `<unit>/before`, `<unit>/after`, or `namespaces`. */
  id: string;
  /** The unit (undefined for the namespaces step). */
  unit?: DeliveryUnit;
  part: StepPart;
  provides: string[];
  needs: Need[];
  pods: PodPlacement[];
  /** The unit's extra manifests this step applies (add-ons with a chart split them). */
  manifests: K8sObject[];
}

export interface GraphEdge {
  /** The step that waits. */
  from: string;
  /** The step it waits for. */
  to: string;
  /** The capability, and why the waiting step needs it. */
  what: string;
  why: string;
  /** The waiting step retries until it is provided (Need.retried). */
  retried?: true;
}

export interface DeliveryGraph {
  steps: GraphStep[];
  edges: GraphEdge[];
  /** Needs nothing provides (reported by validation; not ordered). */
  unresolved: { step: string; need: Need }[];
  /** Capabilities the cluster has before anything is applied. */
  base: Set<string>;
}

export const NAMESPACES_STEP = 'namespaces';
export const stepId = (unit: string, part: StepPart): string => (part === 'main' ? unit : `${unit}/${part}`);

/** What a workload's objects need and provide, from the model (render/workloads renders the same objects). */
function workloadStep(w: Workload): { provides: string[]; needs: Need[]; pods: PodPlacement[] } {
  const ns = w.namespace;
  const who = `workload ${w.name}`;
  const needs: Need[] = [{ what: cap.namespace(ns), why: `${who}: namespace ${ns}` }];
  const provides: string[] = [];
  if (hasSecretEnv(w)) {
    // Its ExternalSecret (same unit) makes the Secret its pods read.
    provides.push(cap.secret(ns, envSecretName(w)));
    needs.push(
      { what: cap.crd('external-secrets.io', 'ExternalSecret'), why: `${who}: ExternalSecret ${envSecretName(w)}` },
      { what: cap.webhook('external-secrets.io', 'ExternalSecret'), why: `${who}: ExternalSecret ${envSecretName(w)}`, mode: 'webhook' },
      { what: cap.clusterSecretStore(namespaceStoreName(ns)), why: `${who}: ExternalSecret ${envSecretName(w)} secretStoreRef`, retried: true },
    );
  }
  if (servesTraffic(w)) needs.push({ what: cap.webhook('', 'Service'), why: `${who}: Service ${w.name}`, mode: 'webhook' });
  if (w.metricsPort) needs.push({ what: cap.crd('monitoring.coreos.com', 'ServiceMonitor'), why: `${who}: ServiceMonitor ${w.name} (metricsPort)` });
  if (w.ingress)
    needs.push(
      { what: cap.ingressClass('alb'), why: `${who}: Ingress ${w.name} ingressClassName` },
      { what: cap.webhook('networking.k8s.io', 'Ingress'), why: `${who}: Ingress ${w.name}`, mode: 'webhook' },
    );
  if (w.volumes.length > 0) needs.push({ what: cap.storageClass(STORAGE_CLASS), why: `${who}: volumes (volumeClaimTemplates storageClassName)` });
  if (w.placement.gpu)
    needs.push({ what: cap.runtimeClass(GPU_RUNTIME_CLASS), why: `${who}: runtimeClassName` }, { what: cap.resource(GPU_RESOURCE), why: `${who}: resources ${GPU_RESOURCE}` });
  return { provides, needs, pods: [] };
}

/** Whether an object provides something the chart needs (it goes before the chart). */
const feedsChart = (o: K8sObject, ns: string, chartNeeds: readonly Need[]): boolean => {
  const provided = new Set(objectFacts(o, ns).provides);
  return chartNeeds.some((n) => provided.has(n.what));
};

function addonSteps(a: ResolvedAddon, u: DeliveryUnit): GraphStep[] {
  const values = a.values ?? {};
  const facts = a.catalog?.facts && a.chart && a.catalog.facts.version === a.chart.version ? a.catalog.facts : undefined;
  const chartNeeds = facts?.needs(values, a.namespace) ?? [];
  const chartProvides = facts?.provides(values, a.namespace) ?? [];
  if (!u.chart) {
    const f = a.manifests.map((o) => objectFacts(o as never, a.namespace));
    return [{ id: stepId(u.name, 'main'), unit: u, part: 'main', provides: f.flatMap((x) => x.provides), needs: f.flatMap((x) => x.needs), pods: f.flatMap((x) => x.pods), manifests: a.manifests }];
  }
  const before = a.manifests.filter((o) => feedsChart(o, a.namespace, chartNeeds));
  const after = a.manifests.filter((o) => !before.includes(o));
  const part = (p: StepPart, objects: K8sObject[]): GraphStep => {
    const f = objects.map((o) => objectFacts(o as never, a.namespace));
    return { id: stepId(u.name, p), unit: u, part: p, provides: f.flatMap((x) => x.provides), needs: f.flatMap((x) => x.needs), pods: f.flatMap((x) => x.pods), manifests: objects };
  };
  const release: Need[] = u.createNamespace && !BUILTIN_NAMESPACES.includes(u.namespace) ? [{ what: cap.namespace(u.namespace), why: `the release namespace ${u.namespace}` }] : [];
  const main: GraphStep = { id: stepId(u.name, 'main'), unit: u, part: 'main', provides: chartProvides, needs: [...release, ...chartNeeds], pods: facts?.pods?.(values) ?? [], manifests: [] };
  return [...(before.length > 0 ? [part('before', before)] : []), main, ...(after.length > 0 ? [part('after', after)] : [])];
}

const graphs = new WeakMap<EnvironmentModel, DeliveryGraph>();

export function deliveryGraph(model: EnvironmentModel): DeliveryGraph {
  const cached = graphs.get(model);
  if (cached) return cached;
  const plan = deliveryPlan(model);
  const addons = new Map(resolveAddons(model).map((a) => [a.name, a]));
  const workloads = new Map(model.workloads.map((w) => [w.name, w]));
  const steps: GraphStep[] = [];
  const created = [...new Set(plan.filter((u) => u.kind === 'addon' && u.createNamespace && !BUILTIN_NAMESPACES.includes(u.namespace)).map((u) => u.namespace))].sort();
  steps.push({ id: NAMESPACES_STEP, part: 'main', provides: created.map(cap.namespace), needs: [], pods: [], manifests: [] });
  for (const u of plan) {
    if (u.kind === 'addon') {
      const a = addons.get(u.name);
      if (a) steps.push(...addonSteps(a, u));
    } else if (u.kind === 'workload-namespace') {
      steps.push({ id: u.name, unit: u, part: 'main', provides: [cap.namespace(u.namespace)], needs: [], pods: [], manifests: [] });
    } else {
      const w = workloads.get(u.name);
      if (w) steps.push({ id: u.name, unit: u, part: 'main', ...workloadStep(w), manifests: [] });
    }
  }
  // What exists before the engine applies anything: built-in namespaces, the distribution's own
  // objects, and the namespaces the bootstrap's helm installs create.
  const base = new Set<string>([
    ...BUILTIN_NAMESPACES.map(cap.namespace),
    ...(distributionOf(model).facts.runtimeClasses ?? []).map(cap.runtimeClass),
    ...(distributionOf(model).facts.clusterCapabilities?.(model) ?? []),
    ...plan.filter((u) => u.bootstrapOrder !== undefined).map((u) => cap.namespace(u.namespace)),
  ]);
  const providers = new Map<string, string[]>();
  for (const s of steps) for (const p of s.provides) providers.set(p, [...(providers.get(p) ?? []), s.id]);
  const edges: GraphEdge[] = [];
  const unresolved: DeliveryGraph['unresolved'] = [];
  const after = new Map<string, Set<string>>(steps.map((s) => [s.id, new Set<string>()]));
  /** Whether `a` (transitively) waits for `b`. */
  const waitsFor = (a: string, b: string, seen = new Set<string>()): boolean => {
    if (a === b) return true;
    if (seen.has(a)) return false;
    seen.add(a);
    return [...after.get(a)!].some((x) => waitsFor(x, b, seen));
  };
  const add = (from: string, to: string, n: Need): void => {
    if (after.get(from)!.has(to)) return;
    after.get(from)!.add(to);
    edges.push({ from, to, what: n.what, why: n.why, ...(n.retried ? { retried: true as const } : {}) });
  };
  for (const webhooks of [false, true])
    for (const s of steps)
      for (const n of s.needs) {
        if ((n.mode === 'webhook') !== webhooks || base.has(n.what)) continue;
        const ps = (providers.get(n.what) ?? []).filter((p) => p !== s.id);
        if ((providers.get(n.what) ?? []).includes(s.id)) continue;
        if (ps.length === 0) {
          if (!webhooks) unresolved.push({ step: s.id, need: n });
          continue;
        }
        for (const p of ps) if (!webhooks || !waitsFor(p, s.id)) add(s.id, p, n);
      }
  const g = { steps, edges, unresolved, base };
  graphs.set(model, g);
  return g;
}

/** The steps of one unit. */
export const unitSteps = (g: DeliveryGraph, unit: string): GraphStep[] => g.steps.filter((s) => s.unit?.name === unit);

/** A cycle of steps, if the graph has one (each waits for the next). */
export function findCycle(g: DeliveryGraph): string[] | undefined {
  const next = new Map<string, string[]>(g.steps.map((s) => [s.id, []]));
  for (const e of g.edges) next.get(e.from)!.push(e.to);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (v: string): string[] | undefined => {
    state.set(v, 1);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (state.get(w) === 1) return [...stack.slice(stack.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(v, 2);
    return undefined;
  };
  for (const s of g.steps) if (!state.has(s.id)) {
    const c = visit(s.id);
    if (c) return c;
  }
  return undefined;
}

/**
 * Units in layers (for an engine ordering by layers): a unit's layer is as late as its consumers allow (a unit
 * nothing waits for is in the last layer, which an engine need not wait on), every unit after those
 * it waits for. Edges between steps of one unit are the engine's to order inside the unit.
 *
 * A unit whose consumers are all in the last layer and all retry until it is there (edges `retried`
 * only) shares that last layer with them instead of coming one before it: an engine waiting for a whole
 * layer before the next would otherwise make every unit of the last layer wait for it, each namespace's
 * workloads for every other namespace's secret store. Its consumers wait for it by retrying
 * (Need.retried), for as long as it takes, since nothing waits for them. A consumer something else
 * waits for keeps its provider one layer before it: its engine may give up retrying (a sync retry
 * limit, research/sync-semantics.md), and the layers after it wait for it anyway.
 *
 * `lastNeeds`: what the engine's own objects applied with the last layer need (a root application's PrometheusRule needs
 * the CRD kube-prometheus-stack installs): the units providing it are one layer before the last at the latest, so the
 * engine has waited for them when it applies those objects; the units nothing waits for stay in the last layer.
 */
export function unitLayers(g: DeliveryGraph, lastNeeds: readonly string[] = []): Map<string, number> {
  const namespaceOwner = (what: string): string | undefined => g.steps.find((s) => s.unit?.createNamespace && s.part === 'main' && cap.namespace(s.unit.namespace) === what)?.unit?.name;
  const unitOf = (id: string, what?: string): string | undefined => (id === NAMESPACES_STEP && what ? namespaceOwner(what) : g.steps.find((s) => s.id === id)?.unit?.name);
  const units = [...new Set(g.steps.flatMap((s) => (s.unit ? [s.unit.name] : [])))];
  const consumers = new Map<string, Map<string, boolean>>(units.map((u) => [u, new Map<string, boolean>()]));
  for (const e of g.edges) {
    const a = unitOf(e.from);
    const b = unitOf(e.to, e.what);
    // true: `a` waits for `b` (some edge between them is not retried).
    if (a && b && a !== b) consumers.get(b)!.set(a, consumers.get(b)!.get(a) === true || !e.retried);
  }
  // The engine's own objects in the last layer (lastNeeds): a unit providing what they need waits in a layer before it.
  const sinkProviders = new Set(g.steps.flatMap((s) => (s.unit && s.provides.some((p) => lastNeeds.includes(p)) ? [s.unit.name] : [])));
  const height = new Map<string, number>();
  const visiting = new Set<string>();
  const h = (u: string): number => {
    if (height.has(u)) return height.get(u)!;
    if (visiting.has(u)) throw new Error(`the delivery graph has a cycle through unit ${u}: its steps wait for each other across units`);
    visiting.add(u);
    const v = Math.max(sinkProviders.has(u) ? 1 : 0, ...[...consumers.get(u)!].map(([c, waits]) => (waits || h(c) > 0 ? h(c) + 1 : 0)));
    visiting.delete(u);
    height.set(u, v);
    return v;
  };
  const max = Math.max(0, ...units.map(h));
  return new Map(units.map((u) => [u, max - h(u)]));
}
