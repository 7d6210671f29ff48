/**
 * The Engine interface: what a GitOps engine (one folder under generators/engines/) gives the core.
 * The core reaches engines only through ./registry.ts; nothing here names one.
 */
import type { PlanStep } from '../upgrade-plan/plan.js';
import type { Consequence, ObjectSides } from '../diff/consequences.js';
import type { CatalogEntry, DedicatedSecretStore } from '../catalog/types.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentInput } from '../model/input.js';
import type { SecretDependency } from '../model/secrets.js';
import type { EnvironmentModel } from '../model/types.js';
import type { ManifestIntent } from '../plan/annotations.js';
import type { DeliveryUnit } from '../plan/types.js';
import type { ReadmeContext, ReadmeSection } from '../render/readme/sections.js';
import type { RenderedFile } from '../render/types.js';
import type { JsonSchema } from '../schema/compose.js';
import type { SchemaError } from '../validate/k8s-models.js';
import type { FileChecker, TreeChecker } from '../validate/rendered/registry.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import type { Rule } from '../validate/rules.js';
import type { ParsedDoc, ParsedFile } from '../validate/rendered/tree.js';
import type { EngineMotionResult, MotionContext, MotionRule } from '../validate/motion/context.js';

/** Checks of the rendered tree an engine contributes (run over every environment's tree, like the core's). */
export interface EngineChecks {
  /** File checkers (after the core's). */
  files?: readonly FileChecker[];
  /** Tree checkers (after the core's). */
  tree?: readonly TreeChecker[];
  /** Model packages (@kubernetes-models/…) of its API groups, by group. */
  modelPackages?: Readonly<Record<string, string>>;
  /** Strict schema checks of its own kinds no model package covers, by `apiVersion/kind`. */
  customResources?: Readonly<Record<string, (o: Record<string, unknown>) => SchemaError[]>>;
  /**
   * Namespaces its delivery objects create, with the Pod Security level they label them with (the
   * PSS policy counts them as labelled), and findings about such objects that label none.
   */
  namespaceLevels?(file: ParsedFile, doc: ParsedDoc): { namespace?: string; level?: string; findings: Diagnostic[] };
}

/** How the core's README sections and messages name the engine's things. */
export interface EngineText {
  /** What one workload is delivered as (README), e.g. "<Title> Application". */
  workloadDelivery: string;
  /** What an add-on is, with its article, e.g. "a <Title> add-on". */
  addon: string;
  /** What one unit of the delivery plan becomes, e.g. "<Title> Application"; short: "Application". */
  unit: string;
  unitShort: string;
  /** The env-relative file of a unit's delivery object. */
  unitFile(name: string): string;
  /** Which namespaces it creates, as the add-on namespace rule says it. */
  createsNamespaces: string;
  /** What it does with a cluster-scoped object of a third-party chart whose kind the add-on does not declare (clusterResources). */
  refusesClusterKinds: string;
  /** Its client-side apply (whose last-applied annotation limits an object's size), when it applies so. */
  clientSideApply?: string;
}

/** Its fragment of the environment schema (generators/schema/compose.ts places each part). */
export interface EngineSchema {
  /** Its phrase in the description of `gitops`, e.g. "<name>: Applications under apps/ and <name>/". */
  summary: string;
  /** Properties it adds to the sync policy section (after the core's). */
  sync?: Record<string, JsonSchema>;
  /** What it says about the sync policy (appended to its description). */
  syncNote?: string;
  /**
   * A hint for a key the environment's top level does not take (`key`, with the value written under it), when a
   * user of this engine may write it there: where that setting goes instead (e.g. the engine's name for its sync
   * policy). Undefined: not one of its own. Read by validate/schema.ts for the unknown-key error.
   */
  keyHint?(key: string, value: unknown): string | undefined;
}

/**
 * How the engine applies the delivery plan: the facts its renderer follows, which a simulation of
 * its first sync would model.
 */
export interface EngineSync {
  /** What its way of ordering units is called in text, e.g. "sync waves". */
  orderName: string;
  /** How a unit's order (DeliveryUnit.order) is expressed and waited on (after orderName, in docs/reference/engines.md). */
  order: string;
  /** How a unit's `cascade` deletion policy is carried out. */
  cascade: string;
  /** How a tenant's scope (DeliveryUnit.tenant) is enforced. */
  tenants: string;
}

/** The name of one of its delivery objects (EngineRules.unitNames). */
export interface UnitObjectName {
  /** The object's name, as its renderer names it. */
  name: string;
  /** The unit of the delivery plan it delivers (or a step of). */
  unit: DeliveryUnit;
}

/** How it names its delivery objects, and the longest such a name may be. */
export interface UnitNames {
  /** What the objects are, e.g. "<Title> Application". */
  object: string;
  max: number;
  /** Who refuses a longer name and why (its module cites the upstream source). */
  why: string;
  /** The names of its objects of one environment's units, from the very functions its renderer names them with. */
  names(model: EnvironmentModel): UnitObjectName[];
}

/** Its environment rules, at fixed places among the core rules (see DistributionRules); they run for every environment. */
export interface EngineRules {
  /** After the distributions' version rules. */
  versions?: Rule;
  /** Last (rules across environments, e.g. hub mode). */
  fleet?: readonly Rule[];
  /** Why its own add-on cannot be disabled where it is the environment's engine (message, hint). */
  required(): { message: string; hint: string };
  /** What its environments need from other add-ons, in words (the add-on dependency rule). */
  needs?(input: EnvironmentInput): { addon: string; who: string }[];
  /** Names it reserves for its own objects in every environment (an add-on or workload may not take them). */
  reservedNames?: Readonly<Record<string, { what: string; where: string }>>;
  /**
   * The names of the further units it delivers add-on `addon` in besides the add-on's own (e.g. its manifests
   * after its chart), reserved like reservedNames for every catalog add-on and every add-on an environment declares.
   */
  addonUnitNames?(addon: string): { name: string; what: string; where: string }[];
  /**
   * The names of its delivery objects of an environment's units and the limit a consumer puts on them
   * (validate/unit-names.ts refuses a longer one at the name in the environment file it is derived from).
   */
  unitNames?: UnitNames;
  /** Why no add-on may write to its namespace `ns` (checked in every environment), when it guards it. */
  guardedNamespace?(addon: string, ns: string): { message: string; hint: string };
}

/** A Helm chart one of its delivery objects installs (the review comment's chart versions). */
export interface ChartRef {
  chart: string;
  version: string;
  /** The namespace the release goes to, when the object says. */
  namespace?: string;
}

/**
 * What the review comment's lead (generators/diff/lead.ts) reads off its delivery objects; each
 * member answers for its own objects (by apiVersion/kind) and with nothing for any other.
 */
export interface EngineReview {
  /** The charts an object installs, each at its exact version. */
  charts?(value: Record<string, unknown>): ChartRef[];
  /** Releases of its own an object pins besides charts (the engine's distribution), each named for people (npm run plan compares them). */
  versions?(value: Record<string, unknown>): { name: string; version: string }[];
  /** Namespaces it creates for an object (a sync option), besides Namespace objects. */
  namespaces?(value: Record<string, unknown>): string[];
  /** Cluster-scoped kinds (`group/Kind`) an object lets its units manage (a tenant's allow-list). */
  clusterKinds?(value: Record<string, unknown>): string[];
  /**
   * What a change of one of its delivery objects does in the cluster (sync policy, pruning, waiting, order, who may
   * deploy where), one line each with its group (generators/diff/consequences.ts); nothing for another's object.
   */
  consequences?(sides: ObjectSides): Consequence[];
}

/**
 * One read of an environment's delivery objects from its cluster (npm run promote, `promotion.requireHealthy`):
 * `kubectl get <resource> -o json`, in one namespace or all, with a label selector.
 */
export interface HealthQuery {
  /** The resource, qualified with its API group (e.g. `<plural>.<group>`). */
  resource: string;
  /** Its namespace; undefined: every namespace. */
  namespace?: string;
  /** A label selector (`key=value`). */
  selector?: string;
}

/** One delivery object as its controller reports it. */
export interface ObservedObject {
  /** Kind, namespace and name, e.g. "<Kind> <namespace>/<name>". */
  name: string;
  /** Why it is not applied and healthy, in the controller's own words (its status fields and values); undefined: it is. */
  problem?: string;
  /** The commits of the environment's Git repository it has applied (full SHAs), each with where it read it. */
  revisions: { sha: string; field: string }[];
}

/**
 * How `npm run promote` checks, at promote time, that the source environment's cluster has applied and is healthy
 * at a revision containing a commit (`promotion.requireHealthy`). Pure: the command runs the queries (kubectl) and
 * checks Git ancestry; the engine says what to read and reads it, citing the upstream status fields.
 */
export interface EngineHealth {
  /** Where its objects of this environment live, in words (its own cluster, or its hub's), for the refusal and the docs. */
  where(model: EnvironmentModel): string;
  /** What to read. */
  queries(model: EnvironmentModel): HealthQuery[];
  /**
   * The objects the queries returned (one item list per query, in order), each with its problem and revisions, and
   * the objects that must exist and do not (e.g. the environment's root).
   */
  observe(model: EnvironmentModel, items: readonly unknown[][]): { objects: ObservedObject[]; missing: string[] };
  /** What it reads and requires, in words (docs/reference/engines.md). */
  readonly summary: string;
  /** The upstream status fields it reads (repository, file:line, version). */
  readonly source: string;
}

export interface Engine {
  /** The `gitops` value, also its folder name. */
  readonly name: string;
  /** Product name in text. */
  readonly title: string;
  /** Its own add-on in the catalog (the engine itself, installed by the bootstrap and then managing itself). */
  readonly addon: CatalogEntry;
  /** Whether it manages other environments' clusters (hub mode: `manages` in the sync policy section). */
  readonly hubMode: boolean;
  /**
   * Steps of `npm run plan` its own semantics require (a hub letting an environment go), from the
   * environment's merged document at the base and its model now. Pure.
   */
  planSteps?(base: Record<string, unknown> | undefined, head: EnvironmentModel): PlanStep[];
  /** Its files under rendered/<env>/ (delivery objects and bootstrap). Pure. */
  render(model: EnvironmentModel): RenderedFile[];
  /** Its README sections (delivery, bootstrap runbook). */
  readme(model: EnvironmentModel, ctx: ReadmeContext): ReadmeSection[];
  readonly text: EngineText;
  /** Env-relative path of the script that bootstraps the engine on a fresh cluster. */
  readonly bootstrapScript: string;
  readonly schema: EngineSchema;
  readonly sync: EngineSync;
  /**
   * The annotations it reads on an object inside a unit's manifests for what the object asks
   * (plan/annotations.ts): every registered engine's are written, an engine ignores the others'.
   */
  manifestAnnotations?(intent: ManifestIntent): Record<string, string>;
  /**
   * SecureStrings its own delivery objects read that the environment does not write (a hub's cluster
   * credentials), positioned in the environment file: `--refresh-ssm` checks each by name and type.
   */
  secrets?(env: ResolvedEnvironment, model: EnvironmentModel): SecretDependency[];
  /**
   * Stores of its own for what its own ExternalSecrets read (a hub's cluster registry): each admits
   * only its namespace and reads with an identity of its own, never the platform store's (`own`: its
   * add-on's namespace, when that add-on is on).
   */
  secretStores?(model: EnvironmentModel, own: string | undefined): DedicatedSecretStore[];
  readonly rules: EngineRules;
  readonly checks: EngineChecks;
  /** What the review comment's lead reads off its objects (charts, namespaces, cluster-scoped kinds). */
  readonly review?: EngineReview;
  /**
   * Its first sync as the simulator runs it (validate/motion/): the units of one environment's
   * rendered tree, each rule citing the upstream code it models; undefined when the tree holds none
   * of its objects.
   */
  motion?(ctx: MotionContext): EngineMotionResult | undefined;
  /** The rules its motion follows, by name (each with its id and upstream source). */
  readonly motionRules?: Readonly<Record<string, MotionRule>>;
  /** How promote reads whether an environment's cluster has applied a revision and is healthy (promotion.requireHealthy). */
  readonly health?: EngineHealth;
}
