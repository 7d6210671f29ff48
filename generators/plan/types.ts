/**
 * The engine-neutral delivery plan of an environment: what the GitOps engine delivers, unit by unit
 * (one per add-on, per workload namespace and per workload), as data. The catalog, the workloads and
 * the environment say WHAT; each engine (generators/engines/<name>/) turns every unit into its own
 * objects and maps the order to its mechanism (Engine.sync). Adding an engine means adding one
 * folder behind the Engine interface that reads this plan.
 */
import type { InputPath } from '../lib/paths.js';
import type { DriftIgnore } from '../catalog/types.js';

/**
 * Who a unit belongs to, and therefore what it may write. `platform`: the catalog add-ons (the only
 * tenant that may write to the engine's own namespace); `third-party`: charts an environment declares,
 * limited to their namespaces and the cluster kinds they declare; `workloads`: the team workloads,
 * limited to their namespaces. Each engine scopes a tenant its own way (Engine.sync.tenants).
 */
export const TENANTS = ['platform', 'third-party', 'workloads'] as const;
export type Tenant = (typeof TENANTS)[number];

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** A Helm chart pinned to an exact version. `repoURL` is an https Helm repository or an `oci://` registry path. */
export interface ChartSource {
  repoURL: string;
  name: string;
  version: string;
}

/** Whether the chart is served from an OCI registry (`oci://…`) rather than an https Helm repository. */
export const isOciChart = (c: ChartSource): boolean => c.repoURL.startsWith('oci://');

/**
 * What deleting the unit (removing it from the environment, or deleting its engine object) does to
 * what it delivered. `cascade`: its objects go with it (Engine.sync.cascade says how). `orphan`:
 * they stay (the engine itself: deleting its own delivery must not uninstall it).
 */
export type DeletionPolicy = 'cascade' | 'orphan';

/**
 * The longest Helm release name: 53 characters (helm/helm pkg/chartutil/validate_name.go:50 maxReleaseNameLen,
 * ValidateReleaseName :68-77, which pkg/action/install.go availableName calls before its dry-run return: `helm
 * install`, `upgrade --install` and `helm template` all refuse a longer name). Every engine installs a unit's chart
 * under chart.releaseName, as the bootstrap does; each engine's folder cites how.
 */
export const HELM_RELEASE_NAME_MAX = 53;

export interface DeliveryUnit {
  /** Unique per environment: the name of the engine's object for it, and the rendered directory names. */
  name: string;
  /** What the unit is: an add-on (catalog or third-party chart), a workload namespace's own objects, one workload. */
  kind: 'addon' | 'workload-namespace' | 'workload';
  /** One line for READMEs and the bootstrap script's comments. */
  description: string;
  tenant: Tenant;
  /** The namespace the unit delivers into (the Helm release's namespace). */
  namespace: string;
  /**
   * Order: lower first; a unit is delivered once every unit of a lower order is healthy. Each engine
   * expresses it its own way (Engine.sync.order).
   */
  order: number;
  /** A Helm chart release (add-ons with a chart). */
  chart?: {
    /** Helm release name (kept across engines, so a bootstrap-installed release is adopted). */
    releaseName: string;
    source: ChartSource;
    /** Env-relative path of the values file: the one reviewed file, also fed to `helm -f` by the bootstrap. */
    valuesFile: string;
  };
  /** Env-relative directory of plain manifests (a chart's extra manifests, or the unit's only content). */
  manifestsDir?: string;
  /** Server-side apply: charts that ship CRDs, whose size the client-side annotation may not hold. */
  serverSideApply: boolean;
  /** Fields the engine must not count as drift (catalog driftIgnore). */
  driftIgnore?: DriftIgnore[];
  /** Cluster-scoped kinds the unit creates, `group/Kind` ('' group for core), sorted, unique. */
  clusterResources: string[];
  /** Namespaces the unit writes to besides its own. */
  extraNamespaces: string[];
  /**
   * Pod Security level of the unit's namespace when the ENGINE creates it (add-ons); undefined when
   * the namespace already exists (kube-system) or the unit ships its own Namespace (workload namespaces).
   */
  podSecurity?: PodSecurityLevel;
  /** Whether the engine creates the unit's namespace (add-ons; false: the unit ships its Namespace itself). */
  createNamespace: boolean;
  /** What deleting the unit cascades to. */
  onDelete: DeletionPolicy;
  /** Installed by the bootstrap script (helm) before the engine runs, lower first. */
  bootstrapOrder?: number;
  /** Environment paths the unit's engine objects derive from (provenance hash); undefined: the whole environment. */
  inputs?: InputPath[];
  /** The part of `inputs` the tenant's scope (AppProject, tenant RBAC) depends on; default: `inputs`. */
  tenantInputs?: InputPath[];
}

/** Units the bootstrap script installs with helm before the engine runs (lower bootstrapOrder first). */
export function bootstrapUnits(plan: readonly DeliveryUnit[]): (DeliveryUnit & { chart: NonNullable<DeliveryUnit['chart']> })[] {
  return plan
    .filter((u): u is DeliveryUnit & { chart: NonNullable<DeliveryUnit['chart']> } => u.bootstrapOrder !== undefined && u.chart !== undefined)
    .sort((a, b) => a.bootstrapOrder! - b.bootstrapOrder!);
}
