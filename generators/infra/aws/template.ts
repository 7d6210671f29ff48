/**
 * CloudFormation templates as plain objects: the template and resource shapes, the intrinsic
 * functions in their long form (`Ref`, `Fn::GetAtt`, `Fn::Sub` …: plain YAML maps, so the rendered
 * file parses with any YAML reader and no custom `!Ref` tags), and logical ids.
 *
 * Resource properties are typed by spec/cfn-types.ts, generated from the CloudFormation resource
 * specification of the pinned `@aws-cdk/aws-service-spec` (the data CDK generates its L1 classes
 * from). Everything here is pure and synchronous: synth never loads the specification.
 */
import type { CfnResourceProps } from './spec/cfn-types.js';

export type Intrinsic =
  | { Ref: string }
  | { 'Fn::GetAtt': [string, string] }
  | { 'Fn::Sub': string | [string, Record<string, unknown>] }
  | { 'Fn::ImportValue': unknown }
  | { 'Fn::Base64': unknown }
  | { 'Fn::Join': [string, unknown[]] };

/** A property value: the literal, or an intrinsic function that yields it. */
export type Value<T> = T | Intrinsic;

export const ref = (logicalId: string): { Ref: string } => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string): { 'Fn::GetAtt': [string, string] } => ({ 'Fn::GetAtt': [logicalId, attribute] });
export const sub = (text: string): { 'Fn::Sub': string } => ({ 'Fn::Sub': text });
export const importValue = (exportName: string): { 'Fn::ImportValue': string } => ({ 'Fn::ImportValue': exportName });
export const base64 = (value: unknown): { 'Fn::Base64': unknown } => ({ 'Fn::Base64': value });

/** EC2 accepts at most 16 KB of user data before base64 (AWS::EC2::Instance.UserData: "User data is limited to 16 KB"). */
export const USER_DATA_LIMIT = 16384;

/** Resource attributes CloudFormation knows besides Type and Properties. */
export const RESOURCE_ATTRIBUTES = ['Type', 'Properties', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy', 'Metadata', 'Condition'] as const;

export type ResourceType = keyof CfnResourceProps;

export interface Resource<T extends ResourceType = ResourceType> {
  Type: T;
  Properties: CfnResourceProps[T];
  DependsOn?: string[];
  DeletionPolicy?: 'Delete' | 'Retain' | 'RetainExceptOnCreate' | 'Snapshot';
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
  UpdatePolicy?: Record<string, unknown>;
  /** What the resource is for, in words, for the reviewer (CloudFormation ignores Metadata). */
  Metadata?: Record<string, unknown>;
}

/** A resource of type T (the properties are checked against the generated types). */
export const resource = <T extends ResourceType>(type: T, properties: CfnResourceProps[T], extra: Omit<Resource<T>, 'Type' | 'Properties'> = {}): Resource<T> => ({
  Type: type,
  Properties: properties,
  ...extra,
});

export interface Parameter {
  Type: string;
  Description: string;
  Default?: string;
  AllowedPattern?: string;
  ConstraintDescription?: string;
}

export interface Output {
  Description: string;
  Value: unknown;
  Export?: { Name: string };
}

export interface Template {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters?: Record<string, Parameter>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Output>;
}

/** A logical id from a name: `general-arm64` → `GeneralArm64` (CloudFormation allows A-Za-z0-9 only). */
export function logicalId(...parts: string[]): string {
  // Each run of A-Za-z0-9, its first character upper-cased; everything else dropped. One pass over the
  // characters (the AWS templates ask for hundreds of ids per environment; split/map/join was ~2 %
  // of a render, issue 23).
  let out = '';
  for (const p of parts) {
    let start = -1;
    for (let i = 0; i <= p.length; i++) {
      const c = i < p.length ? p.charCodeAt(i) : 0;
      const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
      if (alnum && start === -1) start = i;
      else if (!alnum && start !== -1) {
        out += p[start]!.toUpperCase() + p.slice(start + 1, i);
        start = -1;
      }
    }
  }
  return out;
}

/** Every `Ref` and `Fn::GetAtt` target below a value (logical ids and parameter names). */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, out);
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') out.add(o.Ref);
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') out.add(ga[0]);
    const s = o['Fn::Sub'];
    const text = typeof s === 'string' ? s : Array.isArray(s) && typeof s[0] === 'string' ? s[0] : undefined;
    if (text) for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) out.add(m[1]!);
    for (const v of Object.values(o)) referencedIds(v, out);
  }
  return out;
}

/**
 * Sets `into[id]`, refusing an id already taken. Resources, parameters and outputs are keyed by logical id and
 * CloudFormation requires logical names "alphanumeric (A-Za-z0-9) and unique within the template" (User Guide,
 * resources-section-structure.html, "Logical ID"); in a JavaScript object a second value under one id would silently replace the first resource. Users' names
 * that give one id are refused before anything is written (rule `aws.logical-id`, rules.ts); reaching this is a
 * programming error, thrown.
 */
export function put<T>(into: Record<string, T>, id: string, value: T, what = 'resource'): void {
  if (Object.hasOwn(into, id)) throw new Error(`CloudFormation ${what} logical id ${id} is taken twice: the second would replace the first (a logical id derived from a name the rule aws.logical-id does not check)`);
  into[id] = value;
}

/** Every entry of `parts` in one record, through put (an id in two parts throws). */
export function merged<T>(parts: Record<string, T>[], what = 'resource'): Record<string, T> {
  const out: Record<string, T> = {};
  for (const part of parts) for (const [id, value] of Object.entries(part)) put(out, id, value, what);
  return out;
}

/** Outputs (or any entries) as a record, through put. */
export const uniqueRecord = <T>(entries: [string, T][], what = 'output'): Record<string, T> => merged(entries.map(([id, value]) => ({ [id]: value })), what);

/**
 * A template's sections share one namespace of logical ids ("unique within the template": User Guide,
 * outputs-section-structure.html and resources-section-structure.html; a `Ref` names a parameter or a resource):
 * throws on an id in two sections. `sections`: section name (for the message) → its entries.
 */
export function assertDisjoint(sections: Record<string, Record<string, unknown>>): void {
  const seen = new Map<string, string>();
  for (const [section, entries] of Object.entries(sections))
    for (const id of Object.keys(entries)) {
      const other = seen.get(id);
      if (other !== undefined) throw new Error(`CloudFormation logical id ${id} is in two sections of the template: ${other} and ${section}`);
      seen.set(id, section);
    }
}
