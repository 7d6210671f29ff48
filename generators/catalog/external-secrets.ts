/**
 * Catalog entry (data): External Secrets with its ClusterSecretStore over SSM Parameter Store.
 */
import { ClusterSecretStore, Role, RoleBinding, ServiceAccount } from '../lib/k8s-objects.js';
import type { InputPath } from '../lib/paths.js';
import { deliveryAnnotations } from '../plan/annotations.js';
import { SYNC_POLICY_KEY } from '../engines/registry.js';
import { CHART_ADDON_IAM_ROLE } from './irsa.js';
import { dedicatedStoreAuth, platformStoreAuth, storeProviderAuth, type StoreAuth } from './secret-stores.js';
import { CRD, RBAC, SSM_STORE, WEBHOOKS, type CatalogEntry, type K8sObject } from './types.js';

/**
 * With IRSA and settings.iamRoleArn: the ServiceAccount whose role the ClusterSecretStore assumes.
 * No pod runs as it (no token is mounted); ESO's controller requests its tokens (TokenRequest).
 */
export const ESO_SSM_SERVICE_ACCOUNT = 'ssm-reader';
/** The controller's own ServiceAccount, named explicitly (the chart's default is its fullname). */
export const ESO_CONTROLLER_SERVICE_ACCOUNT = 'external-secrets';
const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

export const externalSecrets: CatalogEntry = {
  name: 'external-secrets',
  description: 'External Secrets Operator and a ClusterSecretStore for SSM Parameter Store in the environment\'s region',
  chart: { repoURL: 'https://charts.external-secrets.io', name: 'external-secrets', version: '2.9.0' },
  namespace: 'external-secrets',
  syncWave: -1,
  enabledByDefault: () => true,
  condition: 'always',
  podSecurity: 'restricted',
  // The SecretStore and ClusterSecretStore CRDs (~349 KB as compact JSON) exceed the 262144-byte
  // last-applied annotation of client-side apply (external-secrets/external-secrets#5098, #5881).
  serverSideApply: true,
  // orphan: every Secret the platform reads from SSM (add-ons' and workloads') stops refreshing and new ones are never created.
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS, 'external-secrets.io/ClusterSecretStore'],
  iamRole: 'irsa',
  settings: {
    [CHART_ADDON_IAM_ROLE]: `IAM role ARN for the store's SSM reads (aws.iam.mode irsa only): annotates ServiceAccount ${ESO_SSM_SERVICE_ACCOUNT}, which the store's JWT auth names`,
  },
  // The store's namespace conditions follow every add-on's secrets and every workload's `{ secret }` variables.
  extraInputs: (m) => [['addons'], [SYNC_POLICY_KEY], ...[...m.workloads].sort((a, b) => a.name.localeCompare(b.name)).flatMap((w): InputPath[] => [['workloads', { name: w.name }, 'namespace'], ['workloads', { name: w.name }, 'env']])],
  values: () => ({
    installCRDs: true,
    // Namespaced SecretStores off (chart 2.9.0 values.yaml lines 64-65 and 151): the chart aggregates
    // `secretstores` into `edit` (templates/rbac.yaml lines 311-343), and a store without `auth` reads
    // with the controller's identity, so anyone with `edit` anywhere could read what that identity
    // reads. processSecretStore: false alone only stops the status reconciler (the flood gate then
    // refuses unready stores, research/day2.md §14b); without the CRD the kind does not exist. An
    // environment that needs them sets both back in addons.external-secrets.values (the access graph
    // then counts every namespace as a reader of what the controller's identity reads).
    processSecretStore: false,
    crds: { createSecretStore: false },
    serviceAccount: { name: ESO_CONTROLLER_SERVICE_ACCOUNT },
    // The chart's default (rbac.serviceAccountTokenCreate: true; templates/rbac.yaml at v2.9.0) lets
    // the controller mint tokens for every ServiceAccount in the cluster — anyone who can write a
    // SecretStore could borrow any workload's identity. Off; with IRSA a Role grants exactly the
    // one token the ClusterSecretStore needs (manifests below).
    rbac: { serviceAccountTokenCreate: false },
  }),
  manifests: (ctx) => {
    const { model, namespace } = ctx;
    const auth = platformStoreAuth(model, ctx.settings, ESO_SSM_SERVICE_ACCOUNT);
    // Only the namespaces that hold one of the platform's ExternalSecrets may use the store (without
    // conditions, ESO serves every namespace). ESO matches each name against the namespace's
    // kubernetes.io/metadata.name label; a condition naming no namespace admits none.
    const out: K8sObject[] = [...identityObjects(auth, namespace), clusterStore(SSM_STORE, model.aws.region, [...(ctx.secretStoreNamespaces ?? [])], auth, namespace)];
    // Stores of the engines' own (a hub's cluster registry): one namespace each, a role of their own.
    for (const d of ctx.dedicatedStores ?? []) {
      const a = dedicatedStoreAuth(model, d);
      out.push(...identityObjects(a, namespace), clusterStore(d.name, model.aws.region, [d.namespace], a, namespace));
    }
    return out;
  },
};

function clusterStore(name: string, region: string, namespaces: string[], auth: StoreAuth, namespace: string): K8sObject {
  return new ClusterSecretStore({
    metadata: {
      name,
      // The CRD comes with the chart in the same sync: apply the store after it.
      annotations: deliveryAnnotations({ order: 1, crdLater: true }),
    },
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
