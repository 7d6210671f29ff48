/**
 * Argo CD as an Engine (../types.ts): Applications and AppProjects from the delivery plan, the
 * bootstrap, hub mode, its README sections and tree checks. The one object the registry lists.
 */
import type { Engine } from '../types.js';
import { argoCd } from './addons/argo-cd.js';
import { ARGOCD_SCHEMA } from './schema.js';
import { BOOTSTRAP_PATH } from './bootstrap.js';
import { applicationNamespaceLevel, ARGOCD_FILE_CHECKERS, ARGOCD_TREE_CHECKERS } from './checks.js';
import { argoCdSections } from './readme.js';
import { renderArgoCdTree } from './render.js';
import { FLEET_RULES } from './rules.js';

// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
export const argocd: Engine = {
  name: 'argocd',
  title: 'Argo CD',
  get addon() {
    return argoCd;
  },
  hubMode: true,
  render: (m) => renderArgoCdTree(m),
  readme: (m, ctx) => argoCdSections(m, ctx),
  readmeText: { workloadDelivery: 'Argo CD Application', addon: 'an Argo CD add-on' },
  get bootstrapScript() {
    return BOOTSTRAP_PATH;
  },
  get schema() {
    return ARGOCD_SCHEMA;
  },
  rules: {
    get fleet() {
      return FLEET_RULES;
    },
  },
  checks: {
    get files() {
      return ARGOCD_FILE_CHECKERS;
    },
    get tree() {
      return ARGOCD_TREE_CHECKERS;
    },
    modelPackages: { 'argoproj.io': '@kubernetes-models/argo-cd' },
    namespaceLevels: (f, d) => applicationNamespaceLevel(f, d),
  },
};
