/**
 * Argo CD as an Engine (../types.ts): Applications and AppProjects from the delivery plan, the
 * bootstrap, hub mode, its README sections and tree checks. The one object the registry lists.
 */
import { ARGOCD_REVIEW } from './review.js';
import type { Engine } from '../types.js';
import type { EnvironmentModel } from '../../model/types.js';
import { argoCd } from './addons/argo-cd.js';
import { ARGOCD_SCHEMA } from './schema.js';
import { BOOTSTRAP_PATH } from './bootstrap.js';
import { applicationNamespaceLevel, ARGOCD_FILE_CHECKERS, ARGOCD_TREE_CHECKERS } from './checks.js';
import { argoCdSections } from './readme.js';
import { otherEngines, syncPolicyInput } from '../registry.js';
import { APPLICATION_NAME, applicationName, manifestAnnotations, ROOT_APP } from './objects.js';
import { argoContext, renderArgoCdTree } from './render.js';
import { deliveryPlan } from '../../plan/index.js';
import { FLEET_RULES } from './rules.js';
import { ARGOCD_MOTION_RULES, argocdMotion } from './motion.js';
import { argocdHealth } from './health.js';
import { hubClusterSecrets, hubSecretStores } from './hub.js';
import { fleetPlanSteps } from './decommission.js';

// Members that read other modules' values are functions or getters: the registry is imported by core
// modules these modules import, so a value read while the modules load could still be uninitialised.
export const argocd: Engine = {
  name: 'argocd',
  title: 'Argo CD',
  get addon() {
    return argoCd;
  },
  hubMode: true,
  planSteps: (base, head) => fleetPlanSteps(base, head),
  get review() {
    return ARGOCD_REVIEW;
  },
  sync: {
    orderName: 'sync waves',
    order:
      "the root Application applies the Applications wave by wave (argocd.argoproj.io/sync-wave), each wave once the lower ones are Healthy (gitops-engine sync_context.go); with manual syncs there are no waves and the runbook syncs them in order",
    cascade: 'the resources finalizer (resources-finalizer.argocd.argoproj.io): deleting the Application deletes what it applied',
    tenants: 'one AppProject per tenant: source repositories, destination namespaces and cluster-scoped kinds of its Applications',
  },
  manifestAnnotations: (intent) => manifestAnnotations(intent),
  // A hub's cluster Secrets (./hub.ts) are ExternalSecrets in Argo CD's namespace, on a store of their own.
  secretStores: (m, own) => hubSecretStores(m, own),
  secrets: (env, m) => hubClusterSecrets(env, m),
  render: (m) => renderArgoCdTree(m),
  motion: (ctx) => argocdMotion(ctx),
  get motionRules() {
    return ARGOCD_MOTION_RULES;
  },
  get health() {
    return argocdHealth;
  },
  readme: (m, ctx) => argoCdSections(m, ctx),
  text: {
    workloadDelivery: 'Argo CD Application',
    addon: 'an Argo CD add-on',
    unit: 'Argo CD Application',
    unitShort: 'Application',
    unitFile: (name) => `apps/${name}.yaml`,
    createsNamespaces: "Argo CD creates only an Application's own namespace",
    // argo-cd v3.4.4: a kind missing from the AppProject's clusterResourceWhitelist fails the sync (docs/user-guide/projects.md).
    refusesClusterKinds: "Argo CD refuses to sync its cluster-scoped objects (ClusterRole, ClusterRoleBinding, CustomResourceDefinition, webhook configurations …): the AppProject third-party whitelists exactly the declared kinds ('resource … is not permitted in project third-party'), and the whole sync fails",
    clientSideApply: "Argo CD's client-side apply",
  },
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
    required: () => ({
      message: 'argo-cd cannot be disabled: it is the GitOps engine of this environment (every add-on and workload, Argo CD included, is delivered as an Argo CD Application)',
      hint: `Argo CD manages this environment; remove enabled: false (or switch the engine with ${otherEngines('argocd')})`,
    }),
    // A hub reads its managed clusters' credentials through ExternalSecrets (./hub.ts).
    needs: (input) => ((syncPolicyInput(input)?.manages ?? []).length + (syncPolicyInput(input)?.decommission ?? []).length > 0 ? [{ addon: 'external-secrets', who: "the managed clusters' Argo CD cluster Secrets (argocd.manages: one ExternalSecret each)" }] : []),
    // Each unit's Application, as objects.ts names it.
    get unitNames() {
      return { object: 'Argo CD Application', ...APPLICATION_NAME, names: (m: EnvironmentModel) => deliveryPlan(m).map((u) => ({ name: applicationName(argoContext(m), u.name), unit: u })) };
    },
    get reservedNames() {
      return { [ROOT_APP]: { what: 'the root Application (app of apps)', where: "in Argo CD's namespace" } };
    },
    // An Application that may write to Argo CD's namespace can create Applications and AppProjects, i.e. escape its project.
    guardedNamespace: (addon, ns) => ({
      message: `${addon} may not write to Argo CD's namespace '${ns}': an Application allowed there can create Applications and AppProjects and leave its project`,
      hint: 'install what the chart puts there another way, or ask the platform team to add it to the catalog',
    }),
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
