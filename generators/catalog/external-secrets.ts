import { ClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import type { InputPath } from '../lib/paths.js';
import { IAM_ROLE_SETTING } from './irsa.js';
import { CRD, RBAC, SSM_STORE, WEBHOOKS, type CatalogEntry, type K8sObject } from './types.js';

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
  clusterResources: [CRD, ...RBAC, ...WEBHOOKS, 'external-secrets.io/ClusterSecretStore'],
  settings: IAM_ROLE_SETTING,
  // The store's namespace conditions follow every add-on's secrets and every workload's `{ secret }` variables.
  extraInputs: (m) => [['addons'], ...[...m.workloads].sort((a, b) => a.name.localeCompare(b.name)).flatMap((w): InputPath[] => [['workloads', { name: w.name }, 'namespace'], ['workloads', { name: w.name }, 'env']])],
  values: (ctx) => ({
    installCRDs: true,
  }),
  manifests: (ctx) => {
    const { model } = ctx;
    const store = new ClusterSecretStore({
      metadata: {
        name: SSM_STORE,
        annotations: {
          // The CRD comes with the chart in the same sync: apply the store after it.
          'argocd.argoproj.io/sync-wave': '1',
          'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true',
        },
      },
      spec: {
        // Only the namespaces that hold one of the platform's ExternalSecrets may use the store
        // (without conditions, ESO serves every namespace). ESO matches each name against the
        // namespace's kubernetes.io/metadata.name label; a condition naming no namespace admits none.
        conditions: [{ namespaces: [...(ctx.secretStoreNamespaces ?? [])] }],
        // No auth block: the controller uses the AWS default credential chain, i.e. the node's
        // instance profile or, with IRSA, the web identity of its service account.
        provider: { aws: { service: 'ParameterStore', region: model.aws.region } },
      },
    });
    return [store.toJSON() as unknown as K8sObject];
  },
};
