/**
 * Flux as an Engine (../types.ts): the Flux Operator's FluxInstance, Flux Kustomizations and
 * HelmReleases from the delivery plan, the bootstrap, its README sections and tree checks. The one
 * object the registry lists.
 */
import type { Engine } from '../types.js';
import { fluxOperator } from './addons/flux-operator.js';
import { FLUX_SCHEMA } from './schema.js';
import { FLUX_BOOTSTRAP_PATH } from './bootstrap.js';
import { fluxInstanceErrors, fluxPolicies } from './checks.js';
import { fluxSections } from './readme.js';
import { renderFluxTree } from './render.js';
import { fluxKubernetes } from './rules.js';

// Members that read other modules' values are functions or getters (see ../argocd/index.ts).
export const flux: Engine = {
  name: 'flux',
  title: 'Flux',
  get addon() {
    return fluxOperator;
  },
  hubMode: false,
  render: (m) => renderFluxTree(m),
  readme: (m, ctx) => fluxSections(m, ctx),
  readmeText: { workloadDelivery: 'Flux Kustomization (impersonating `tenant-<namespace>`, which may write its namespace only)', addon: 'a Flux add-on' },
  get bootstrapScript() {
    return FLUX_BOOTSTRAP_PATH;
  },
  get schema() {
    return FLUX_SCHEMA;
  },
  rules: { versions: (ctx, report) => fluxKubernetes(ctx, report) },
  checks: {
    get tree() {
      return [fluxPolicies];
    },
    modelPackages: {
      'kustomize.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
      'helm.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
      'source.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
    },
    customResources: { 'fluxcd.controlplane.io/v1/FluxInstance': (o) => fluxInstanceErrors(o) },
  },
};
