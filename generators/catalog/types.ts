/** The shape of one catalog add-on: its pinned chart, defaults, extra manifests and placement. */
import type { AddonOverride, EnvironmentModel, SecretRef } from '../model/types.js';
import type { InputPath } from '../lib/paths.js';
import type { CatalogAddonName } from './names.js';
import type { DeletionPolicy } from '../plan/types.js';

/** A Helm chart pinned to an exact version. */
export interface ChartRef {
  repoURL: string;
  name: string;
  version: string;
}

/** A Kubernetes object as plain data (serialized by the renderer). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Secret name → key → SSM SecureString. */
export type SecretSpec = Record<string, Record<string, SecretRef>>;

/** What a catalog entry sees when it renders for one environment. */
export interface AddonContext {
  model: EnvironmentModel;
  /** The add-on's namespace (catalog default or the environment's override). */
  namespace: string;
  /** addons.<name>.settings of the environment (checked against the entry's `settings`). */
  settings: Record<string, unknown>;
  override?: AddonOverride;
  /**
   * Namespaces holding an ExternalSecret on the ClusterSecretStore (add-ons' and workloads'),
   * sorted; the store admits exactly these. Computed once per environment by resolveAddons.
   */
  secretStoreNamespaces?: readonly string[];
}

export interface CatalogEntry {
  name: CatalogAddonName;
  /** One line for the README. */
  description: string;
  /** The pinned chart; undefined for manifest-only add-ons (etcd-backup). */
  chart?: ChartRef;
  namespace: string;
  syncWave: number;
  /** Whether the add-on is on when the environment does not say `enabled`. */
  enabledByDefault: (m: EnvironmentModel) => boolean;
  /** When it is enabled by default, in words (README). */
  condition: string;
  /** Catalog default Helm values for this environment. */
  values?: (ctx: AddonContext) => Record<string, unknown>;
  /** Extra manifests the add-on needs (StorageClass, ClusterSecretStore, CronJob …). */
  manifests?: (ctx: AddonContext) => K8sObject[];
  /** Secrets the add-on always needs (the environment's `secrets` add to or replace them by name). */
  secrets?: (ctx: AddonContext) => SecretSpec;
  /** Environment paths the add-on reads besides its own `addons.<name>` and the cluster basics. */
  extraInputs?: (m: EnvironmentModel) => InputPath[];
  /** Known settings keys → description. */
  settings?: Record<string, string>;
  /** Server-side apply; default: whether the chart ships CRDs (clusterResources has CRD). */
  serverSideApply?: boolean;
  /** Cluster-scoped kinds the add-on creates, `group/Kind` ('' for core). */
  clusterResources: string[];
  /** Namespaces the chart writes to besides its own. */
  extraNamespaces?: (ctx: AddonContext) => string[];
  /** Pod Security Standard level of the namespace Argo CD creates (omitted for kube-system). */
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  /** What deleting the add-on's delivery does to its objects (default delete; the GitOps engine itself: keep). */
  onDelete?: DeletionPolicy;
  /** Installed by helm before Argo CD on a fresh cluster (lower first): CNI, cloud controller, Argo CD. */
  bootstrapOrder?: number;
}

/** Common cluster-scoped kinds. */
export const RBAC = ['rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding'];
export const CRD = 'apiextensions.k8s.io/CustomResourceDefinition';
export const WEBHOOKS = ['admissionregistration.k8s.io/MutatingWebhookConfiguration', 'admissionregistration.k8s.io/ValidatingWebhookConfiguration'];

/**
 * Node selector for control-plane nodes. Talos labels them like kubeadm, with an empty value; K3s
 * labels servers `node-role.kubernetes.io/control-plane=true` (pkg/server: `v != "true"` → set
 * "true"), and a nodeSelector matches values exactly.
 */
export const controlPlaneSelector = (m: EnvironmentModel): Record<string, string> => ({ 'node-role.kubernetes.io/control-plane': m.cluster.distribution === 'k3s' ? 'true' : '' });
/** Toleration for the control-plane taint (both distributions taint with this key). */
export const CONTROL_PLANE_TOLERATION = { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' } as const;

/** The ClusterSecretStore every ExternalSecret of the platform reads from. */
export const SSM_STORE = 'aws-ssm-parameter-store';

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
