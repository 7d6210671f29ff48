/**
 * The delivery plan of an environment: every unit the GitOps engine delivers (add-ons, workload
 * namespaces, workloads), ordered by order, then name. Engine renderers read only this (and the
 * files the engine-neutral renderers write: values/, manifests/).
 */
import { resolveAddons } from '../catalog/resolve.js';
import type { EnvironmentModel } from '../model/types.js';
import { addonUnit } from './addons.js';
import type { DeliveryUnit, PodSecurityLevel } from './types.js';
import { workloadUnits } from './workload-units.js';

export { bootstrapUnits } from './types.js';

export type UnitSource = (model: EnvironmentModel) => DeliveryUnit[];

export const addonUnits: UnitSource = (model) => resolveAddons(model).map(addonUnit);

/** Where units come from: add-ons, then workloads. */
export const UNIT_SOURCES: UnitSource[] = [addonUnits, workloadUnits];

const plans = new WeakMap<EnvironmentModel, DeliveryUnit[]>();

export function deliveryPlan(model: EnvironmentModel, sources: readonly UnitSource[] = UNIT_SOURCES): DeliveryUnit[] {
  const cached = sources === UNIT_SOURCES ? plans.get(model) : undefined;
  if (cached) return cached;
  const units = sources.flatMap((s) => s(model));
  const seen = new Set<string>();
  for (const u of units) {
    if (seen.has(u.name)) throw new Error(`two delivery units are named '${u.name}'`);
    seen.add(u.name);
  }
  const out = units.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  if (sources === UNIT_SOURCES) plans.set(model, out);
  return out;
}


const PSS_PERMISSIVE: readonly PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];

/**
 * Who creates each namespace the engine creates (units with createNamespace, kube-system and the like excepted by
 * their podSecurity being unset): ONE unit per namespace, the first of the plan order (the delivery graph orders the
 * others after it: graph.ts unitLayers, namespaceOwner), labelled with the least restrictive Pod Security level any
 * unit of that namespace needs. Two units writing one Namespace's labels would be two owners of one object
 * (test/one-owner.test.ts).
 */
export function namespaceCreators(plan: readonly DeliveryUnit[]): Map<string, { unit: string; podSecurity?: PodSecurityLevel }> {
  const out = new Map<string, { unit: string; podSecurity?: PodSecurityLevel }>();
  for (const u of plan) {
    if (!u.createNamespace) continue;
    const first = out.get(u.namespace);
    const levels = [first?.podSecurity, u.podSecurity].filter((l): l is PodSecurityLevel => l !== undefined);
    const podSecurity = levels.sort((a, b) => PSS_PERMISSIVE.indexOf(a) - PSS_PERMISSIVE.indexOf(b))[0];
    out.set(u.namespace, { unit: first?.unit ?? u.name, ...(podSecurity ? { podSecurity } : {}) });
  }
  return out;
}
