/**
 * Catalog entry (data): External Secrets with its ClusterSecretStore over SSM Parameter Store.
 */
import { ClusterSecretStore, Role, RoleBinding, ServiceAccount } from '../lib/k8s-objects.js';
import type { InputPath } from '../lib/paths.js';
import { SYNC_POLICY_KEY } from '../engines/registry.js';
import { CHART_ADDON_IAM_ROLE } from './irsa.js';
import { controllersPlacement } from './placement.js';
import { dedicatedStoreAuth, namespaceStoreName, platformStoreAuth, storeProviderAuth, type StoreAuth } from './secret-stores.js';
import { createsServices, crds, placementAt, valueAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { CRD, kubeVersionOf, RBAC, WEBHOOKS, type AddonContext, type CatalogEntry, type ChartFacts, type K8sObject } from './types.js';

/**
 * external-secrets chart 2.9.0 (external-secrets/external-secrets tag helm-chart-2.9.0): its CRDs
 * are templates (installCRDs, values.yaml:56-79); the ValidatingWebhookConfigurations
 * `secretstore-validate` and `externalsecret-validate` intercept CREATE, UPDATE and DELETE of
 * SecretStores, ClusterSecretStores and ExternalSecrets with `failurePolicy: {{ .Values.webhook.failurePolicy }}`,
 * default Fail (deploy/charts/external-secrets/templates/validatingwebhook.yaml:19-34, 70-85;
 * values.yaml:509-510): none of them can be created until the webhook serves.
 */
const ESO_FACTS: ChartFacts = {
  version: '2.9.0',
  provides: (values) => [
    ...(valueAt(values, 'installCRDs') === false ? [] : crds('external-secrets.io', ['ClusterExternalSecret', 'ClusterPushSecret', 'ClusterSecretStore', 'ExternalSecret', 'PushSecret', 'SecretStore'])),
    ...(valueAt(values, 'webhook.create') !== false && valueAt(values, 'webhook.failurePolicy') !== 'Ignore'
      ? ['ClusterSecretStore', 'ExternalSecret', 'SecretStore'].map((k) => cap.webhook('external-secrets.io', k))
      : []),
  ],
  needs: () => [createsServices('external-secrets')],
  pods: (values) => [placementAt(values, 'the controller')],
};

/**
 * With IRSA: the ServiceAccount whose role a namespace's ClusterSecretStore assumes, `ssm-reader-<ns>`
 * (one per store), or `ssm-reader` itself for the one role settings.iamRoleArn names. No pod runs as
 * it (no token is mounted); ESO's controller requests its tokens (TokenRequest).
 */
export const ESO_SSM_SERVICE_ACCOUNT = 'ssm-reader';
/** The controller's own ServiceAccount, named explicitly (the chart's default is its fullname). */
export const ESO_CONTROLLER_SERVICE_ACCOUNT = 'external-secrets';
const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

export const externalSecrets: CatalogEntry = {
  name: 'external-secrets',
  description: 'External Secrets Operator and a ClusterSecretStore for SSM Parameter Store per namespace that reads secrets',
  chart: { repoURL: 'https://charts.external-secrets.io', name: 'external-secrets', version: '2.9.0' },
  // Stability and support, "Upgrading" (docs/introduction/stability-support.md:55-61 at helm-chart-2.9.0):
  // read the release notes, one minor at a time.
  upgradeNotes: 'https://external-secrets.io/latest/introduction/stability-support/#upgrading',
  // deploy/charts/external-secrets/Chart.yaml at each helm-chart-<version> tag (1.0.0 … 2.9.0): `kubeVersion: ">= 1.19.0-0"`.
  chartKubeVersions: kubeVersionOf(
    ['1.0.0', '1.1.0', '1.1.1', '1.2.0', '1.2.1', '1.3.1', '1.3.2', '2.0.0', '2.0.1', '2.1.0', '2.2.0', '2.3.0', '2.4.0', '2.4.1', '2.5.0', '2.6.0', '2.7.0', '2.8.0', '2.9.0'],
    { constraint: '>= 1.19.0-0', source: 'external-secrets/external-secrets deploy/charts/external-secrets/Chart.yaml at helm-chart-<version> (2.9.0: cc5bfbc)' },
  ),
  namespace: 'external-secrets',
  nodeCredentials: true,
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  facts: ESO_FACTS,
  podSecurity: 'restricted',
  // The SecretStore and ClusterSecretStore CRDs (~349 KB as compact JSON) exceed the 262144-byte
  // last-applied annotation of client-side apply (external-secrets/external-secrets#5098, #5881).
  serverSideApply: true,
  // orphan: every Secret the platform reads from SSM (add-ons' and workloads') stops refreshing and new ones are never created.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS, 'external-secrets.io/ClusterSecretStore'],
  iamRole: 'irsa',
  settings: {
    [CHART_ADDON_IAM_ROLE]: `one IAM role ARN for every namespace's store (aws.iam.mode irsa only; annotates ServiceAccount ${ESO_SSM_SERVICE_ACCOUNT}): it reads what all of them read, so each namespace can read the others' secrets (rule secret-access warns); without it each store has a role of its own`,
  },
  // The store's namespace conditions follow every add-on's secrets and every workload's `{ secret }` variables.
  extraInputs: (m) => [['addons'], [SYNC_POLICY_KEY], ...[...m.workloads].sort((a, b) => a.name.localeCompare(b.name)).flatMap((w): InputPath[] => [['workloads', { name: w.name }, 'namespace'], ['workloads', { name: w.name }, 'env']])],
  values: (ctx) => ({
    installCRDs: true,
    // Namespaced SecretStores off (chart 2.9.0 values.yaml lines 64-65 and 151): the chart aggregates
    // `secretstores` into `edit` (templates/rbac.yaml lines 311-343), and a store without `auth` reads
    // with the controller's identity, so anyone with `edit` anywhere could read what that identity
    // reads. processSecretStore: false alone only stops the status reconciler (the flood gate then
    // refuses unready stores, research/day2.md §14b); without the CRD the kind does not exist. An
    // environment that needs them sets both back in addons.external-secrets.values (the access graph
    // then counts every namespace as a reader of what the controller's identity reads).
    processSecretStore: false,
    // The chart's CRDs are templates (chart 2.9.0 hack/helm.generate.sh), so helm uninstall deletes
    // them, every ExternalSecret with them, and with creationPolicy Owner every Secret they made
    // (ownerReference GC). Kept: crds.annotations (values.yaml:56-79, default {}) lands on each CRD.
    crds: { createSecretStore: false, annotations: { 'helm.sh/resource-policy': 'keep' } },
    serviceAccount: { name: ESO_CONTROLLER_SERVICE_ACCOUNT },
    // The chart's default (rbac.serviceAccountTokenCreate: true; templates/rbac.yaml at v2.9.0) lets
    // the controller mint tokens for every ServiceAccount in the cluster — anyone who can write a
    // SecretStore could borrow any workload's identity. Off; with IRSA a Role grants exactly the
    // one token the ClusterSecretStore needs (manifests below).
    rbac: { serviceAccountTokenCreate: false },
    // A store whose role the controller assumes with the node's credentials (IMDS) pins the
    // controller to the one place that has them (catalog/placement.ts controllersHost); with web
    // identity for every store it needs none and runs anywhere. Chart 2.9.0 values.yaml:439
    // nodeSelector and :441 tolerations are the controller's (webhook.* and certController.* are
    // their own, :563 and :800).
    ...((assumesStoreRoles(ctx) && controllersPlacement(ctx.model)) || {}),
  }),
  // One store per namespace holding one of the platform's ExternalSecrets, admitting that namespace
  // only (without conditions, ESO serves every namespace; it matches each name against the
  // namespace's kubernetes.io/metadata.name label: external-secrets v2.9.0
  // pkg/controllers/secretstore/client_manager.go:227-278), reading with a role scoped to what that
  // namespace's ExternalSecrets read (infra/aws/plan.ts storeAuths). A ClusterSecretStore is
  // cluster-scoped: no tenant may write one (its kind is in no tenant's cluster-scoped list).
  // Each store is a unit of its own, `external-secrets-store-<ns>` (with its own ServiceAccount under
  // IRSA): a store that is not Ready (its role not yet created, or not assumable) holds back only the
  // units of its namespace, never another namespace's (plan/graph.ts).
  partsPrefix: 'store-',
  parts: (ctx) => {
    const { model, namespace } = ctx;
    return (ctx.secretStoreNamespaces ?? []).map((ns) => {
      const auth = platformStoreAuth(model, ctx.settings, ESO_SSM_SERVICE_ACCOUNT, ns);
      return {
        suffix: `${externalSecrets.partsPrefix}${ns}`,
        forNamespace: ns,
        description: `ClusterSecretStore ${namespaceStoreName(ns)}: SSM Parameter Store for namespace ${ns}`,
        // With one user-named role (settings.iamRoleArn) every store shares its ServiceAccount: the add-on's own.
        manifests: [...(sharedIdentity(auth) ? [] : identityObjects(auth, namespace)), clusterStore(namespaceStoreName(ns), model.aws.region, [ns], auth, namespace)],
        clusterResources: ['external-secrets.io/ClusterSecretStore'],
      };
    });
  },
  manifests: (ctx) => {
    const { model, namespace } = ctx;
    const out: K8sObject[] = [];
    // The one ServiceAccount every namespace's store uses with settings.iamRoleArn.
    const shared = (ctx.secretStoreNamespaces ?? []).map((ns) => platformStoreAuth(model, ctx.settings, ESO_SSM_SERVICE_ACCOUNT, ns)).find(sharedIdentity);
    if (shared) out.push(...identityObjects(shared, namespace));
    // Stores of the engines' own (a hub's cluster registry): one namespace each, a role of their own.
    for (const d of ctx.dedicatedStores ?? []) {
      const a = dedicatedStoreAuth(model, d);
      out.push(...identityObjects(a, namespace), clusterStore(d.name, model.aws.region, [d.namespace], a, namespace));
    }
    return out;
  },
};

/** Whether a platform store reads through the one ServiceAccount shared by every namespace's store (settings.iamRoleArn). */
const sharedIdentity = (auth: StoreAuth): boolean => auth.kind === 'web-identity' && auth.serviceAccount === ESO_SSM_SERVICE_ACCOUNT;

/** Whether the controller assumes some store's role with the node's credentials (infra/aws/plan.ts storeAuths). */
export const assumesStoreRoles = (ctx: Pick<AddonContext, 'model' | 'settings' | 'dedicatedStores' | 'secretStoreNamespaces'>): boolean =>
  [...(ctx.secretStoreNamespaces ?? []).map((ns) => platformStoreAuth(ctx.model, ctx.settings, ESO_SSM_SERVICE_ACCOUNT, ns)), ...(ctx.dedicatedStores ?? []).map((d) => dedicatedStoreAuth(ctx.model, d))].some((a) => a.kind === 'assumed');

function clusterStore(name: string, region: string, namespaces: string[], auth: StoreAuth, namespace: string): K8sObject {
  return new ClusterSecretStore({
    // After the chart that brings its CRD and webhook (the delivery graph orders it: plan/graph.ts).
    metadata: { name },
    spec: {
      conditions: [{ namespaces }],
      provider: {
        aws: {
          service: 'ParameterStore',
          region,
          // web identity: ESO reads the ServiceAccount's role-arn annotation, requests a token for it
          // (audience sts.amazonaws.com) and calls AssumeRoleWithWebIdentity itself (no pod identity
          // webhook needed); a ClusterSecretStore's reference needs its namespace, without one ESO looks
          // the ServiceAccount up in each ExternalSecret's namespace. assumed: the controller's default
          // credential chain (the node's instance profile) assumes `role` (catalog/secret-stores.ts).
          ...storeProviderAuth(auth, namespace),
        },
      },
    },
  }).toJSON() as unknown as K8sObject;
}

/** With web identity: the store's ServiceAccount (no pod runs as it) and a Role letting the controller request its tokens, for it only. */
function identityObjects(auth: StoreAuth, namespace: string): K8sObject[] {
  if (auth.kind !== 'web-identity') return [];
  const name = auth.serviceAccount;
  const sa = new ServiceAccount({
    metadata: { name, namespace, annotations: { [ROLE_ARN_ANNOTATION]: auth.roleArn } },
    automountServiceAccountToken: false,
  });
  // TokenRequest for this one ServiceAccount only (RBAC resourceNames match the name in the URL).
  const tokenRole = `${name}-token`;
  const role = new Role({
    metadata: { name: tokenRole, namespace },
    rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [name], verbs: ['create'] }],
  });
  const binding = new RoleBinding({
    metadata: { name: tokenRole, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: tokenRole },
    subjects: [{ kind: 'ServiceAccount', name: ESO_CONTROLLER_SERVICE_ACCOUNT, namespace }],
  });
  return [sa.toJSON() as K8sObject, role.toJSON() as K8sObject, binding.toJSON() as K8sObject];
}
