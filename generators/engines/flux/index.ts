/**
 * Flux as an Engine (../types.ts): the Flux Operator's FluxInstance, Flux Kustomizations and
 * HelmReleases from the delivery plan, the bootstrap, its README sections and tree checks. The one
 * object the registry lists.
 */
import { otherEngines } from '../registry.js';
import { FLUX_REVIEW } from './review.js';
import type { Engine } from '../types.js';
import type { EnvironmentModel } from '../../model/types.js';
import { fluxOperator } from './addons/flux-operator.js';
import { FLUX_SCHEMA } from './schema.js';
import { FLUX_BOOTSTRAP_PATH } from './bootstrap.js';
import { fluxInstanceErrors, fluxPolicies } from './checks.js';
import { SYNC_ALERTS_UNIT } from './sync-alerts.js';
import { ALERTS_UNIT, FLUX_UNIT_NAME, fluxPaths, manifestsUnitName, PLATFORM_UNIT, prerequisitesUnitName, PRUNE_ANNOTATION } from './objects.js';
import { fluxSections } from './readme.js';
import { fluxSteps, renderFluxTree } from './render.js';
import { fluxKubernetes } from './rules.js';
import { FLUX_MOTION_RULES, fluxMotion } from './motion.js';
import { fluxHealth } from './health.js';

// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
export const flux: Engine = {
  name: 'flux',
  title: 'Flux',
  get addon() {
    return fluxOperator;
  },
  hubMode: false,
  get review() {
    return FLUX_REVIEW;
  },
  sync: {
    orderName: 'dependsOn',
    order: 'a Flux Kustomization starts once every Kustomization of the next lower order is Ready (wait: true: every object it applied is healthy)',
    cascade: "the Kustomization's prune: deleting it deletes what it applied",
    tenants: "the identity a Kustomization or HelmRelease impersonates: a ServiceAccount allowed only its tenant's namespaces and declared cluster kinds",
  },
  // An object that stays when its unit goes is never pruned (kustomize-controller v1.9.1 kustomization_controller.go:1401-1416).
  manifestAnnotations: (intent): Record<string, string> => (intent.keep ? { [PRUNE_ANNOTATION]: 'disabled' } : {}),
  render: (m) => renderFluxTree(m),
  motion: (ctx) => fluxMotion(ctx),
  get motionRules() {
    return FLUX_MOTION_RULES;
  },
  get health() {
    return fluxHealth;
  },
  readme: (m, ctx) => fluxSections(m, ctx),
  text: {
    workloadDelivery: 'Flux Kustomization (impersonating `tenant-<namespace>`, which may write its namespace only)',
    addon: 'a Flux add-on',
    unit: 'Flux Kustomization',
    unitShort: 'Kustomization',
    unitFile: (name) => fluxPaths.kustomization(name),
    createsNamespaces: "Flux creates only the namespaces of the add-ons it installs",
    refusesClusterKinds: "its HelmRelease, impersonating flux-third-party (a ClusterRole for exactly the declared kinds), cannot create its cluster-scoped objects (ClusterRole, ClusterRoleBinding, CustomResourceDefinition, webhook configurations …): the install fails 'forbidden'",
  },
  get bootstrapScript() {
    return FLUX_BOOTSTRAP_PATH;
  },
  get schema() {
    return FLUX_SCHEMA;
  },
  rules: {
    versions: (ctx, report) => fluxKubernetes(ctx, report),
    required: () => ({
      message: 'flux-operator cannot be disabled: it is the GitOps engine of this environment (it installs Flux, which delivers every add-on and workload)',
      hint: `Flux manages this environment; remove enabled: false (or switch the engine with ${otherEngines('flux')})`,
    }),
    // Flux reads this repository with credentials an ExternalSecret keeps current (./addons/flux-operator.ts).
    needs: () => [{ addon: 'external-secrets', who: 'flux-operator (the repository credentials ExternalSecret)' }],
    // Every unit is a Kustomization flux-system/<name> and a file flux/kustomizations/<name>.yaml (render.ts): a
    // workload or add-on of the same name would be a second object and file of that name.
    get reservedNames() {
      return {
        [PLATFORM_UNIT]: { what: "the Flux Kustomization of the add-ons' Namespaces and tenant identities", where: `(${fluxPaths.kustomization(PLATFORM_UNIT)})` },
        [ALERTS_UNIT]: { what: 'the Flux Kustomization of the alerts to Alertmanager', where: `(${fluxPaths.kustomization(ALERTS_UNIT)})` },
        [SYNC_ALERTS_UNIT]: { what: 'the Flux Kustomization of the alert on Kustomizations and HelmReleases not Ready', where: `(${fluxPaths.kustomization(SYNC_ALERTS_UNIT)})` },
      };
    },
    // Each step's Kustomization (and a chart's HelmRelease, named like its unit) as render.ts names it.
    get unitNames() {
      return { object: 'Flux Kustomization', ...FLUX_UNIT_NAME, names: (m: EnvironmentModel) => fluxSteps(m).flatMap((s) => (s.unit ? [{ name: s.name, unit: s.unit }] : [])) };
    },
    addonUnitNames: (addon) => [
      { name: prerequisitesUnitName(addon), what: `the Flux Kustomization of the prerequisites of add-on ${addon} (applied before its chart)`, where: `(${fluxPaths.kustomization(prerequisitesUnitName(addon))})` },
      { name: manifestsUnitName(addon), what: `the Flux Kustomization of the manifests of add-on ${addon} (applied after its chart)`, where: `(${fluxPaths.kustomization(manifestsUnitName(addon))})` },
    ],
  },
  checks: {
    get tree() {
      return [fluxPolicies];
    },
    modelPackages: {
      'kustomize.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
      'helm.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
      'source.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
      'notification.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
    },
    customResources: { 'fluxcd.controlplane.io/v1/FluxInstance': (o) => fluxInstanceErrors(o) },
  },
};
