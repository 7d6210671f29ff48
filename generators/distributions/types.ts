/**
 * The Distribution interface: what a Kubernetes distribution (one folder under generators/distributions/)
 * gives the core. The core reaches distributions only through ./registry.ts; nothing here names one.
 */
import type { AddonContext, CatalogEntry } from '../catalog/types.js';
import type { EnvDiff, TreeDiff } from '../diff/diff.js';
import type { Rollout } from '../diff/lead.js';
import type { Consequence, ObjectSides } from '../diff/consequences.js';
import type { DocPath, InputPath } from '../lib/paths.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentInput, NodePoolInput } from '../model/input.js';
import type { SecretDependency } from '../model/secrets.js';
import type { EnvironmentModel } from '../model/types.js';
import type { ReadmeContext, ReadmeSection } from '../render/readme/sections.js';
import type { RenderedFile } from '../render/types.js';
import type { DistributionAwsFacts } from '../infra/aws/facts.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { IdentifierCheck } from '../validate/rules-aws.js';
import type { Rule } from '../validate/rules.js';
import type { JsonSchema } from '../schema/compose.js';
import type { SchemaError } from '../validate/k8s-models.js';
import type { NodeConfig } from '../validate/rendered/gpu.js';
import type { FileChecker } from '../validate/rendered/registry.js';
import type { ParsedFile } from '../validate/rendered/tree.js';

/**
 * Its environment rules. Every registered distribution's rules run for every environment (a
 * distribution also refuses its own settings in another's environment), at fixed places among the
 * core rules, so findings keep their order: registered order within a place.
 */
export interface DistributionRules {
  /** Before the core's datastore settings checks: the datastore types it runs. */
  datastore?: Rule;
  /** Releases and versions (and its version key in another's environment). */
  versions?: Rule;
  /** After the core cluster rules: its settings (and its settings in another's environment). */
  cluster?: readonly Rule[];
  /** With the network rules. */
  network?: Rule;
  /** With the name rules. */
  names?: Rule;
  /** Identifiers of its settings the AWS identifier rule checks (at their position, resolved from the SSM lock). */
  identifiers?(input: EnvironmentInput): { rule: string; path: DocPath; value: unknown; check: IdentifierCheck }[];
  /** How its environments word another distribution's setting (default: the owner says where it belongs). */
  foreignSetting?(key: string): { message: string; hint?: string };
}

/** Its fragment of the environment schema (generators/schema/compose.ts places each part). */
export interface DistributionSchema {
  /** Its phrase in the description of `cluster.distribution`, e.g. "<name> (what it is for)". */
  summary: string;
  /** `cluster` properties right after `distribution`: its release. */
  release: Record<string, JsonSchema>;
  /** `cluster` properties after the core's: its settings. */
  cluster: Record<string, JsonSchema>;
  /** `nodePools[]` properties after the core's: its pool settings. */
  pool: Record<string, JsonSchema>;
  /** `cluster.datastore.backup` properties after the core's: its snapshot settings. */
  backup?: Record<string, JsonSchema>;
  /** Definitions its parts refer to (`#/$defs/<name>`); two fragments may share one, identical. */
  defs?: Record<string, JsonSchema>;
  /**
   * What it says about the datastore settings every distribution shares, appended to their
   * descriptions: `type.<type>` qualifies a type it runs, `backup`, `backup.<key>` a setting.
   */
  datastoreNotes?: Record<string, string>;
}

/** Its part of the model, built from the validated input with its defaults (read back through its own accessors). */
export interface DistributionModel {
  /** `cluster.extension`: its release and cluster settings. */
  cluster(input: EnvironmentInput): unknown;
  /** `nodePools[].extension`: a pool's settings. */
  pool(pool: NodePoolInput, input: EnvironmentInput): unknown;
}

/** The operations of the distribution the core commands print. */
export interface DistributionOperations {
  /** The step `npm run new-env` prints for the cluster's own secrets (the model is undefined when the new file does not validate yet). */
  newEnvironmentSecrets(name: string, model: EnvironmentModel | undefined): string;
  /** The operator's commands for the cluster (first apply, bootstrap, upgrades, restore), for all targets or one. */
  commands?(model: EnvironmentModel, target?: string): string;
}

/** What the core README sections (overview, EC2, workloads) say about the distribution. */
export interface DistributionReadme {
  /** Its own sections (nodes, images, hardening, runbooks). */
  sections(model: EnvironmentModel, ctx: ReadmeContext): ReadmeSection[];
  /** The overview table's cluster cell (product, release, profile). */
  overviewName(model: EnvironmentModel): string;
  /** Rows of the overview table after Kubernetes (its release). */
  overviewRows?(model: EnvironmentModel): { label: string; value: string }[];
  /** The overview's datastore cell. */
  datastore(model: EnvironmentModel): string;
  /** The overview's CNI cell (default: cluster.network.cni). */
  cni?(model: EnvironmentModel): string;
  /** What the nodes reach besides registries and AWS APIs (EC2 section), and what replaces it without internet egress. */
  egress?: { online: string; offline: string };
}

/** Checks of its rendered files, run by `npm run validate`. */
export interface DistributionChecks {
  /** File checkers of its node configs (run on every environment's tree, after the Kubernetes schema check). */
  files?: readonly FileChecker[];
  /** Checks that need the environment's model (which target is a server): its files, env-relative path → text. */
  environment?(model: EnvironmentModel, files: ReadonlyMap<string, string>): Diagnostic[];
  /** Its node configs as the GPU device-plugin check reads them (labels, taints, GPU). */
  nodeConfigs?: { pattern: RegExp; read(file: ParsedFile): NodeConfig | undefined };
  /** Env-relative paths of its files that hold no Kubernetes objects (left out of the schema check). */
  notKubernetes?: RegExp;
  /** Strict schema checks of its own kinds no model package covers, by `apiVersion/kind`. */
  customResources?: Readonly<Record<string, (o: Record<string, unknown>) => SchemaError[]>>;
  /** What `npm run validate --help` says it checks, e.g. "<product> documents against the <product> rules". */
  help?: string;
  /**
   * How its nodes refuse the SSM placeholders of `npm run new-env` (lib/placeholder.ts): in words for
   * `npm run new-env --help`, and, for one of its files (env-relative path), what keeps a placeholder
   * in it from a node (the rendered.placeholder warning); undefined: not its file.
   */
  placeholders?: { refusal: string; guard(path: string): string | undefined };
}

/** One environment's two trees as the diff sees them (paths relative to rendered/<env>/). */
export interface EnvChange {
  base: ReadonlyMap<string, string>;
  head: ReadonlyMap<string, string>;
  /** Whether a file's content changed: on one side only or different, and not a file renamed unchanged. */
  changed(path: string): boolean;
}

/** The semantic diff's part (generators/diff/): its documents, and what applying a changed node config takes. */
export interface DistributionDiff {
  /** Identity and label of one of its documents (its kind is then the distribution's name), else undefined. */
  identify?(path: string, value: Record<string, unknown>): { id: string; label: string } | undefined;
  /** Its node configs: never paired as renamed files (a config under another node's name is another node). */
  nodeConfig?: RegExp;
  /**
   * What several of its control planes down at once take with them, in words (the AWS impact of a stack update that
   * stops or replaces several: in parallel, or one after another along the control planes' DependsOn chain with a
   * slow start overlapping the next stop): its datastore's, e.g. a quorum lost, or only
   * the API when the datastore runs elsewhere. Asked of the environment's own distribution.
   */
  controlPlanesDown?(model: EnvironmentModel): string;
  /**
   * What a changed user data of one of its fixed instances (AWS::EC2::Instance UserData) does to the node, in words,
   * when it says more than the generic text (CloudFormation stops and starts it; cloud-init runs user data once per
   * instance). Asked of the environment's own distribution.
   */
  fixedUserData?(model: EnvironmentModel): string;
  /** What its impact needs from the head environment's model (targets, addresses); asked of every environment. */
  context?(model: EnvironmentModel): unknown;
  /**
   * The keys it adds to every environment's diff, in order (the JSON report carries them), and how
   * many node configs it found affected (an environment with any is a changed one).
   */
  impact(change: EnvChange, context: unknown): { entries: object; nodes: number };
  /** The keys it adds to the diff's totals, from the environments' diffs. */
  totals?(envs: readonly EnvDiff[]): object;
  readonly report: DistributionDiffReport;
}

/** How the text and Markdown diff reports show its impact (generators/diff/format.ts). */
export interface DistributionDiffReport {
  /** Its impact actions, most disruptive first (`npm run diff --help` lists them). */
  actions: readonly string[];
  /** A label and a value after the totals ("<product> nodes: 3 upgrade"), when it has any. */
  totals?(totals: TreeDiff['totals']): { label: string; value: string } | undefined;
  /** After an environment's counts ("; <product>: 3 upgrade"), when it has any. */
  summary?(env: EnvDiff): string | undefined;
  /** Its column of the Markdown summary table (one per environment). */
  column?: { title: string; cell(env: EnvDiff): string };
  /** Its lines of an environment's text report, heading included; none when nothing changed. */
  text(env: EnvDiff): string[];
  /** Its items of an environment's Markdown block (each a list of lines). */
  markdown(env: EnvDiff): string[][];
  /**
   * Its node steps for the review comment's lead ("What changes in the cluster"): every node (or
   * pool) its impact lists, with what happens to it and its commands, and the once-per-cluster steps
   * after them. The core orders them: control planes one at a time (each gated), then workers.
   */
  rollout?(env: EnvDiff): Rollout;
  /**
   * What a change of one of its GitOps objects does (an upgrade Plan upgrades nodes), one line each with its group
   * (generators/diff/consequences.ts); nothing for another's object. Members of a family may answer alike: the lead
   * says a line once.
   */
  consequences?(sides: ObjectSides): Consequence[];
}

/** What it adds to the add-on catalog. */
export interface DistributionAddons {
  /** Its own add-ons (catalog entries, offered to every environment; each decides when it is on). */
  entries?: readonly CatalogEntry[];
  /** Helm values it puts under a catalog add-on's own (then the environment's), by add-on name. */
  values?: Readonly<Record<string, (ctx: AddonContext) => Record<string, unknown>>>;
  /** What it appends to a catalog add-on's one-line description, by add-on name. */
  notes?: Readonly<Record<string, string>>;
}

/** Facts about the cluster the core renderers and rules read. */
export interface DistributionFacts {
  /**
   * What enforces NetworkPolicies with the flannel CNI (the core answers Cilium itself), or
   * undefined when nothing does (validation then refuses workloads).
   */
  networkPolicyEnforcer(model: EnvironmentModel): string | undefined;
  /** Environment paths networkPolicyEnforcer reads besides cluster.distribution and cluster.network.cni. */
  networkPolicyInputs?: readonly InputPath[];
  /** How its node secrets stay out of the tree, for hints, e.g. "a <product> secret materialized at apply time". */
  applyTimeSecrets?: string;
  /** RuntimeClasses the distribution creates itself (an object may name them without one rendered, and none is rendered). */
  runtimeClasses?: readonly string[];
  /**
   * What else the cluster has before anything is applied, as delivery-graph capabilities
   * (plan/needs.ts), e.g. a CRD the distribution serves itself: the graph and the first-sync
   * simulator need no unit to provide them.
   */
  clusterCapabilities?(model: EnvironmentModel): string[];
  /** The value of the node-role.kubernetes.io/control-plane label on its control planes (nodeSelectors match it exactly). */
  controlPlaneLabel: string;
  /**
   * What its node operations do when a drain meets a PodDisruptionBudget that allows no eviction (the eviction API's
   * 429), in words with their sources: for the warning about replicas that share one node (rules-workloads.ts).
   */
  blockedDrain: string;
  /**
   * Whether its profile puts default-deny NetworkPolicies into kube-system (ingress only from the
   * same namespace): add-ons the API server or Prometheus reach there then render policies opening them.
   */
  kubeSystemPolicies?: boolean;
  /**
   * With kubeSystemPolicies: when its own policies already admit the nodes' host network into
   * kube-system (the API server's webhook and aggregated-API calls), which policy does, in words; the
   * add-ons then render none for the API server. Undefined: they admit the node subnets themselves.
   */
  kubeSystemNodeIngress?(model: EnvironmentModel): string | undefined;
  /** The pods its own CNI (flannel) runs on every node, when cluster.network.cni is flannel (the capacity rules count them). */
  flannelPods?: readonly string[];
  /**
   * How its environments say how long etcd snapshots are kept, when it keeps them by a setting of its
   * own (for the hint at another distribution's retention setting), e.g. "say how long … with backup.<key>".
   */
  snapshotExpiry?: string;
}

/**
 * Its support matrix, as the upgrade plan (generators/upgrade-plan/) reads it: which releases it lists
 * and which Kubernetes versions each runs, with the source the plan names when it refuses a pair.
 */
export interface DistributionUpgrade {
  /** Where the matrix comes from (named in the plan's refusals). */
  source: string;
  /** Why `release` is not a release the project lists, or undefined when it is. */
  unlisted(release: string): string | undefined;
  /** Why `release` does not run Kubernetes `kubernetes`, or undefined when it does. */
  unsupported(release: string, kubernetes: string): string | undefined;
  /** The Kubernetes version a release ships, when each release ships exactly one (the skew policy then applies to the release itself). */
  kubernetesOf?(release: string): string | undefined;
  /**
   * Set when the nodes read the release at first boot from a parameter of the AWS base stack (not from their user data):
   * a release bump then changes that parameter only, no node's user data (the nodes stack is untouched), and an
   * instance launched later boots the new release. `parameter`: its name; `inPlace`: what upgrades the running nodes;
   * `done`: how to see the servers upgraded, in words.
   */
  releaseAtBoot?: { parameter(m: EnvironmentModel): string; inPlace: string; done: string };
}

export interface Distribution {
  /** The `cluster.distribution` value, also its folder name and that of its files under rendered/<env>/. */
  readonly name: string;
  /** Product name in text. */
  readonly title: string;
  /** How a runbook says the cluster is up for its GitOps engine, e.g. "<product> servers up". */
  readonly clusterReady: string;
  readonly schema: DistributionSchema;
  readonly model: DistributionModel;
  /** The datastore types it runs (`cluster.datastore.type`). */
  readonly datastores: readonly string[];
  readonly rules: DistributionRules;
  /** The SecureStrings its nodes read (names and where the environment sets them; nothing is read). */
  secrets(env: ResolvedEnvironment, model: EnvironmentModel): SecretDependency[];
  /** Its node configs and user data under rendered/<env>/<name>/. Pure. */
  render(model: EnvironmentModel): RenderedFile[];
  readonly readme: DistributionReadme;
  readonly facts: DistributionFacts;
  /** What the AWS layer (generators/infra/aws/) needs to make its nodes exist: ports, images, IAM, user data, how pool instances join. */
  readonly aws: DistributionAwsFacts;
  readonly addons?: DistributionAddons;
  readonly operations: DistributionOperations;
  readonly checks: DistributionChecks;
  readonly diff: DistributionDiff;
  /** Its support matrix for the upgrade plan (none: the plan checks Kubernetes' own skew only). */
  readonly upgrade?: DistributionUpgrade;
}
