/** The shape of one catalog add-on: its pinned chart, defaults, extra manifests and placement. */
import type { AddonOverride, EnvironmentModel, SecretRef } from '../model/types.js';
import type { InputPath } from '../lib/paths.js';
import type { Rule } from '../validate/rules.js';
import type { DeterminismRule } from './determinism.js';
import type { Need, PodPlacement } from '../plan/needs.js';

/**
 * What a chart at its pinned version provides and needs (the delivery graph's facts, plan/graph.ts;
 * the simulator reads them for the chart a rendered release names), as functions of the release's
 * merged values (the rendered values file). Each fact cites the chart template it is read from.
 */
export interface ChartFacts {
  /** The chart version the facts were read from: another version has no facts. */
  version: string;
  /** Capabilities (plan/needs.ts) the release provides once it is Ready. */
  provides(values: Record<string, unknown>, namespace: string): string[];
  /** What the release needs before its resources can become Ready. */
  needs(values: Record<string, unknown>, namespace: string): Need[];
  /** Where its pods run (tolerations, selectors), for the nodes present when it is installed. */
  pods?(values: Record<string, unknown>): PodPlacement[];
}

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
  /** The engines' dedicated stores (Engine.secretStores), resolved once per environment. */
  dedicatedStores?: readonly DedicatedSecretStore[];
}

/**
 * A ClusterSecretStore of its own for parameters that must not share the platform store's identity
 * (a hub's cluster registry): it admits one namespace and reads only `parameters` (policy: `prefix`),
 * with an IAM role of its own (catalog/secret-stores.ts).
 */
export interface DedicatedSecretStore {
  /** The ClusterSecretStore's name; also its ServiceAccount's and the suffix of its IAM role's name. */
  name: string;
  /** The one namespace it admits. */
  namespace: string;
  /** The SSM parameters its ExternalSecrets read. */
  parameters: string[];
  /** The SSM name prefix its role may read (ends in `/*`). */
  prefix: string;
  /** Who reads through it, in words. */
  who: string;
}

/** One chart version's `kubeVersion` (CatalogEntry.chartKubeVersions). */
export interface ChartKubeVersion {
  constraint: string | null;
  source: string;
}

/** The same recorded `kubeVersion` for several chart versions (read from one index listing them all). */
export const kubeVersionOf = (versions: readonly string[], record: ChartKubeVersion): Record<string, ChartKubeVersion> => Object.fromEntries(versions.map((v) => [v, record]));

/** A part of an add-on delivered by a unit of its own (CatalogEntry.parts). */
export interface AddonPart {
  /** The unit is `<add-on>-<suffix>`. */
  suffix: string;
  description: string;
  manifests: K8sObject[];
  /** Cluster-scoped kinds its manifests create, `group/Kind`. */
  clusterResources: string[];
  /** The namespace its suffix is derived from, when it is one part per namespace (where a too long unit name is reported). */
  forNamespace?: string;
}

export interface CatalogEntry {
  name: string;
  /** One line for the README. */
  description: string;
  /** The pinned chart; undefined for manifest-only add-ons. */
  chart?: ChartRef;
  /** Where the chart's upgrade notes are (npm run plan links them when a new major version comes). */
  upgradeNotes?: string;
  /**
   * The chart's `kubeVersion` constraint per chart version, each read from that version's Chart.yaml
   * (`source` names the file and tag or commit); `constraint: null` when that Chart.yaml declares none.
   * Helm refuses to render the chart for a Kubernetes outside it (catalog/kube-version.ts). The pin
   * (chart.version) must be listed (test/upgrade-matrix.test.ts); other versions are those an
   * environment may pin (`addons.<name>.chart.version`). A version not listed is not known: validate
   * and the plan warn, never guess.
   */
  chartKubeVersions?: Readonly<Record<string, ChartKubeVersion>>;
  namespace: string;
  syncWave: number;
  /** Whether the add-on is on when the environment does not say `enabled`. */
  enabledByDefault: (m: EnvironmentModel) => boolean;
  /** When it is enabled by default, in words (README). */
  condition: string;
  /** Catalog default Helm values for this environment. */
  values?: (ctx: AddonContext) => Record<string, unknown>;
  /**
   * The merged values (catalog ⊕ distribution ⊕ environment) with what the add-on cannot do without put back: a list
   * the environment sets replaces the catalog's whole (Helm merges maps, replaces lists), so an item of the catalog's
   * list that another rendered file relies on (an alert's metric flag) is added to the environment's list here.
   */
  keepInValues?: (values: Record<string, unknown>, ctx: AddonContext) => Record<string, unknown>;
  /** Extra manifests the add-on needs (StorageClass, ClusterSecretStore, CronJob …). */
  manifests?: (ctx: AddonContext) => K8sObject[];
  /**
   * Manifests delivered by units of their own, `<add-on>-<suffix>`, each applied and judged apart from
   * the add-on and from one another (plan/graph.ts orders each after what it needs and before only its
   * consumers): a ClusterSecretStore per consumer namespace, so one store that is not Ready holds back
   * only that namespace's consumers. Each part's cluster-scoped kinds are listed in `clusterResources`.
   */
  parts?: (ctx: AddonContext) => AddonPart[];
  /**
   * What every part's suffix starts with: unit names `<add-on>-<partsPrefix>…` are reserved for the parts
   * in every environment (a workload or add-on of such a name is refused: validate/rules-names.ts).
   */
  partsPrefix?: string;
  /** Secrets the add-on always needs (the environment's `secrets` add to or replace them by name). */
  secrets?: (ctx: AddonContext) => SecretSpec;
  /** Environment paths the add-on reads besides its own `addons.<name>` and the cluster basics. */
  extraInputs?: (m: EnvironmentModel) => InputPath[];
  /** Known settings keys → description. */
  settings?: Record<string, string>;
  /** Server-side apply; default: whether the chart ships CRDs (clusterResources has CRD). */
  serverSideApply?: boolean;
  /**
   * Fields of the chart's objects that something in the cluster mutates after the apply (an admission
   * webhook), which the engine must not count as drift: JSON pointers per kind.
   */
  driftIgnore?: DriftIgnore[];
  /** Cluster-scoped kinds the add-on creates, `group/Kind` ('' for core). */
  clusterResources: string[];
  /** Namespaces the chart writes to besides its own. */
  extraNamespaces?: (ctx: AddonContext) => string[];
  /**
   * Its pods call AWS with the node's credentials through IMDS (infra/aws/plan.ts gives their
   * statements to a node role): its namespace is one of those that need IMDS, so it gets no
   * IMDS egress denial (catalog/network-policies.ts imdsDenyPolicy). A function decides per environment
   * (etcd-backup: not once it assumes a role of its own with a web identity).
   */
  nodeCredentials?: true | ((ctx: AddonContext) => boolean);
  /** Pod Security Standard level of the namespace the engine creates (omitted for kube-system). */
  podSecurity?: 'privileged' | 'baseline' | 'restricted';
  /** Installed by helm before the engine on a fresh cluster (lower first): CNI, cloud controller, the engine. */
  bootstrapOrder?: number;
  /**
   * What deleting the add-on's delivery object (the engine's Application, HelmRelease …) does to what
   * it installed: `cascade` deletes it too, `orphan` leaves it running. The cluster's plumbing (CNI,
   * cloud controller, storage, certificates, secrets, the GitOps engine, and whatever other units'
   * objects depend on) is `orphan`: one deleted object must not brick the cluster.
   * Required, so every entry decides (README "Deleting an add-on").
   */
  onDelete: OnDelete;
  /**
   * Its Secrets (`secrets`) outlive it: the GitOps engine's own credentials, which the bootstrap
   * creates before External Secrets runs. Their ExternalSecrets are never pruned and write the Secret
   * without an ownerReference (creationPolicy Orphan).
   */
  secretsOutlive?: boolean;
  /**
   * Its own IAM role: `irsa`, with aws.iam.mode irsa, from `settings.iamRoleArn` (./irsa.ts);
   * `node-role`: never (the setting is refused: only the EKS pod identity webhook would read it).
   */
  iamRole?: 'irsa' | 'node-role';
  /** The program it runs, as the README names it (e.g. the backup tool), when that helps a reader. */
  program?: string;
  /** Checks of the environment the add-on needs (run for every environment, at the core add-on rules). */
  rules?: {
    /** With the add-on conditions (enabled where it cannot run, settings it needs). */
    conditions?: Rule;
    /** With the IRSA rules. */
    irsa?: Rule;
  };
  /** Values that make its pinned chart render differently on every render (./determinism.ts), audited on its templates. */
  determinism?: readonly DeterminismRule[];
  /** Maps of its chart's values that take any key though values.yaml lists some (the chart passes them through verbatim). */
  openValuePaths?: readonly string[][];
  /** What its chart provides and needs at the pinned version (the delivery graph's facts). */
  facts?: ChartFacts;
}

/** Whether removing an add-on's delivery object removes what it installed (engine-neutral). */
export type OnDelete = 'cascade' | 'orphan';

/** Common cluster-scoped kinds. */
export const RBAC = ['rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding'];
export const CRD = 'apiextensions.k8s.io/CustomResourceDefinition';
export const WEBHOOKS = ['admissionregistration.k8s.io/MutatingWebhookConfiguration', 'admissionregistration.k8s.io/ValidatingWebhookConfiguration'];

/** Toleration for the control-plane taint (every distribution taints with this key). */
export const CONTROL_PLANE_TOLERATION = { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' } as const;

/** The ClusterSecretStore every ExternalSecret of the platform reads from. */
export const SSM_STORE = 'aws-ssm-parameter-store';

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A field the engine ignores when it compares a chart's objects with the cluster. */
export interface DriftIgnore {
  group: string;
  kind: string;
  /** JSON pointers (RFC 6901). */
  paths: string[];
  /** Why, with the upstream source. */
  why: string;
}
