/**
 * The Application and AppProject specs of the delivery plan's units: one project per tenant, sources, sync policy.
 */
import type { OnDelete } from '../../catalog/types.js';
import type { InputPath } from '../../lib/paths.js';
import { TENANTS, type DeliveryUnit, type Tenant } from '../../plan/types.js';

/**
 * The AppProjects Applications belong to. `platform`: the root Application and the catalog add-ons
 * (the only project that may write to Argo CD's namespace); `third-party`: charts an environment
 * declares, limited to their namespaces and the cluster kinds they declare; `workloads`: the team
 * workloads, limited to their namespaces (and Namespace, which the namespace owner ships).
 */
export const PROJECTS = TENANTS;
export type ProjectName = Tenant;

/**
 * What one Argo CD Application delivers, as data. Add-ons and workloads describe themselves with
 * an AppSpec; the Argo CD renderer turns each into an Application and derives the AppProject
 * (source repositories, destination namespaces, cluster-scoped kinds) from all of them.
 */
export interface AppSpec {
  /** Application name (unique per environment). */
  name: string;
  /** The AppProject the Application belongs to. */
  project: ProjectName;
  /** Destination namespace. */
  namespace: string;
  /** Sync wave: operators and CRDs first (lower), their consumers later. */
  syncWave: number;
  /** A Helm chart, with values from rendered/<env>/values/<name>.yaml. */
  chart?: { repoURL: string; name: string; version: string };
  /** Plain manifests from rendered/<env>/manifests/<name>/ (for a chart: extra manifests next to it). */
  manifests: boolean;
  /** Server-side apply (and server-side diff): every chart that ships CRDs, whose size the client-side annotation may not hold. */
  serverSideApply?: boolean;
  /** Fields not counted as drift (spec.ignoreDifferences). */
  driftIgnore?: DeliveryUnit['driftIgnore'];
  /** Cluster-scoped kinds the Application creates, as `group/Kind` ('' group for core). */
  clusterResources: string[];
  /** Extra namespaces the Application writes to besides its own. */
  extraNamespaces?: string[];
  /** Labels of the namespace Argo CD creates (Pod Security Standard level). */
  namespaceLabels?: Record<string, string>;
  /**
   * What deleting the Application does to its resources (catalog `onDelete`): `cascade` (the
   * default; the resources finalizer) deletes them, `orphan` (no finalizer) leaves them running.
   */
  onDelete?: OnDelete;
  /** Environment paths the Application derives from (provenance hash); default: the whole environment. */
  inputs?: InputPath[];
  /** The part of `inputs` the AppProject depends on (namespace, chart repository); default: `inputs`. */
  projectInputs?: InputPath[];
  /** Let Argo CD create the destination namespace (default true); false when the Application ships its Namespace. */
  createNamespace?: boolean;
  /** The bootstrap script installs the release with helm first: the Application adopts it (objects.ts HELM_MIGRATION). */
  adoptsHelmRelease?: boolean;
}


/** The Application of one delivery unit: tenant → project, its layer in the delivery graph → sync wave, deletion policy → finalizer. */
export function appSpecOf(u: DeliveryUnit, wave: number): AppSpec {
  return {
    name: u.name,
    project: u.tenant,
    namespace: u.namespace,
    syncWave: wave,
    ...(u.chart ? { chart: u.chart.source } : {}),
    manifests: u.manifestsDir !== undefined,
    ...(u.serverSideApply ? { serverSideApply: true } : {}),
    ...(u.driftIgnore ? { driftIgnore: u.driftIgnore } : {}),
    ...(u.createNamespace ? {} : { createNamespace: false }),
    clusterResources: u.clusterResources,
    ...(u.extraNamespaces.length > 0 ? { extraNamespaces: u.extraNamespaces } : {}),
    ...(u.createNamespace && u.podSecurity ? { namespaceLabels: { 'pod-security.kubernetes.io/enforce': u.podSecurity } } : {}),
    onDelete: u.onDelete,
    ...(u.inputs ? { inputs: u.inputs } : {}),
    ...(u.tenantInputs ? { projectInputs: u.tenantInputs } : {}),
    ...(u.bootstrapOrder !== undefined && u.chart ? { adoptsHelmRelease: true } : {}),
  };
}
