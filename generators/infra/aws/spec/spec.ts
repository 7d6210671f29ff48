/**
 * The CloudFormation resource specification, as the AWS CDK generates its L1 constructs from it:
 * `@aws-cdk/aws-service-spec` (exact version pinned in package.json) ships `db.json.gz`, every
 * resource type with its properties, their types, `required`, and `causesReplacement`
 * (`yes` | `maybe`; absent = updated in place) — the registry schemas' `createOnlyProperties` and
 * the documentation's "Update requires" merged by cdklabs/awscdk-service-spec.
 *
 * 15 MB of JSON, ~0.3–1 s to parse: loaded on first use only (validate, diff, the type generator),
 * never by synth. Read directly (gunzip + JSON.parse); the package's own loader is not used, so
 * nothing of its type library is imported.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

export const SPEC_PACKAGE = '@aws-cdk/aws-service-spec';

export type SpecType =
  | { type: 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };

export interface SpecProperty {
  type: SpecType;
  /** Older types a value may still have (the spec keeps them for compatibility). */
  previousTypes?: SpecType[];
  required?: boolean;
  /** Absent: updated in place. */
  causesReplacement?: 'yes' | 'maybe' | 'no';
  documentation?: string;
  deprecated?: string;
}

export interface SpecResource {
  cloudFormationType: string;
  documentation?: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, { type: SpecType; documentation?: string }>;
}

export interface SpecTypeDefinition {
  $id: string;
  name: string;
  properties: Record<string, SpecProperty>;
}

export interface CfnSpec {
  version: string;
  resource(type: string): SpecResource | undefined;
  resourceTypes(): string[];
  typeDefinition(id: string): SpecTypeDefinition | undefined;
}

interface RawDb {
  schema: {
    resource: { entities: (SpecResource & { $id: string })[] };
    typeDefinition: { entities: SpecTypeDefinition[] };
  };
}

let loaded: CfnSpec | undefined;

/** Whether this process has parsed the specification (synth never should). */
export const specLoaded = (): boolean => loaded !== undefined;

/** The spec, parsed once per process. */
export function cfnSpec(): CfnSpec {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const version = (require(`${SPEC_PACKAGE}/package.json`) as { version: string }).version;
  const db = JSON.parse(gunzipSync(readFileSync(require.resolve(`${SPEC_PACKAGE}/db.json.gz`))).toString('utf8')) as RawDb;
  const resources = new Map(db.schema.resource.entities.map((r) => [r.cloudFormationType, r]));
  const types = new Map(db.schema.typeDefinition.entities.map((t) => [t.$id, t]));
  loaded = {
    version,
    resource: (t) => resources.get(t),
    resourceTypes: () => [...resources.keys()],
    typeDefinition: (id) => types.get(id),
  };
  return loaded;
}

/** The properties of a `ref` type, or of a resource. */
export function propertiesOf(spec: CfnSpec, t: SpecType): Record<string, SpecProperty> | undefined {
  return t.type === 'ref' ? spec.typeDefinition(t.reference.$ref)?.properties : undefined;
}

/** A type for people: `string`, `list of Tag`, `map of string`, `MetadataOptions`. */
export function describeType(spec: CfnSpec, t: SpecType): string {
  switch (t.type) {
    case 'ref':
      return spec.typeDefinition(t.reference.$ref)?.name ?? 'object';
    case 'array':
      return `list of ${describeType(spec, t.element)}`;
    case 'map':
      return `map of ${describeType(spec, t.element)}`;
    case 'union':
      return t.types.map((x) => describeType(spec, x)).join(' or ');
    case 'tag':
      return 'Tag ({ Key, Value })';
    default:
      return t.type;
  }
}
