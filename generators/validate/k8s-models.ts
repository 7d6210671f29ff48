/**
 * Strict validation of Kubernetes objects with the schemas the kubernetes-models packages ship.
 *
 * Those packages compile each OpenAPI/CRD schema into an ajv standalone validator
 * (`kubernetes-models/_schemas/*.js`) that checks types and required fields but lets unknown fields
 * through (no additionalProperties:false). We make it strict without a second copy of the schemas:
 * the object is validated through Proxies that record which properties the validator looks up. A
 * compiled validator reads every property its schema declares (`void 0 !== data.x`) and enumerates
 * the keys of maps (`additionalProperties` schemas: labels, data …); a key of a visited object that
 * the validator neither read nor enumerated is therefore not in the schema. Objects the validator
 * never touches (`x-kubernetes-preserve-unknown-fields`, RawExtension) stay free-form, as in the
 * API server.
 *
 * Built-in kinds: kubernetes-models (Kubernetes 1.34 API, see BUILTIN_MODELS). Custom resources: the
 * @kubernetes-models packages for External Secrets, Prometheus Operator and cert-manager, and those the
 * engines name for their own API groups (Engine.checks.modelPackages).
 */
import { createRequire } from 'node:module';
import type { DocPath } from '../lib/paths.js';
import { engines } from '../engines/registry.js';
import { hintFor } from '../lib/suggest.js';

/**
 * The Kubernetes API the built-in models describe. kubernetes-models 5.1.0 is generated from the
 * 1.34 OpenAPI documents; no npm package ships 1.35+ schemas yet (checked 2026-11), so `validate`
 * says so for environments on another minor and takes `--kubernetes-schemas DIR` for exact checks.
 */
export const BUILTIN_MODELS = {
  package: 'kubernetes-models',
  version: (createRequire(import.meta.url)('kubernetes-models/package.json') as { version: string }).version,
  kubernetesMinor: '1.34',
} as const;

/**
 * The note `validate` prints when environments run another Kubernetes minor than the models'
 * (undefined when all match): which API was used, which environments differ, how to check exactly.
 */
export function builtinSchemaNote(envs: readonly { name: string; kubernetesVersion: string }[]): string | undefined {
  const byMinor = new Map<string, string[]>();
  for (const e of envs) {
    const minor = /^v?(\d+\.\d+)/.exec(e.kubernetesVersion)?.[1] ?? e.kubernetesVersion;
    if (minor !== BUILTIN_MODELS.kubernetesMinor) byMinor.set(minor, [...(byMinor.get(minor) ?? []), e.name]);
  }
  if (byMinor.size === 0) return undefined;
  const minors = [...byMinor.keys()].sort();
  const who = minors.map((m) => `${byMinor.get(m)!.sort().join(', ')} on ${m}`).join('; ');
  return `note: built-in kinds checked against the Kubernetes ${BUILTIN_MODELS.kubernetesMinor} API; ${who}: for an exact check pass --kubernetes-schemas DIR (see --help)`;
}

export interface SchemaError {
  path: DocPath;
  /** Report at the key (unknown field) rather than the value. */
  key: boolean;
  message: string;
  /** "did you mean …" for an unknown field close to a schema field. */
  hint?: string;
}

type ModelClass = { prototype: { validate(this: unknown): void } };

/** Packages that ship models of custom resources, by API group (the engines add theirs). */
const CRD_PACKAGES: Record<string, string> = {
  'external-secrets.io': '@kubernetes-models/external-secrets',
  'generators.external-secrets.io': '@kubernetes-models/external-secrets',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'acme.cert-manager.io': '@kubernetes-models/cert-manager',
};

const crdPackage = (group: string): string | undefined => CRD_PACKAGES[group] ?? engines().map((e) => e.checks.modelPackages?.[group]).find((p) => p !== undefined);

/** The module that exports the model class of apiVersion/kind. */
export function modelModule(apiVersion: string, kind: string): string | undefined {
  if (!/^[A-Za-z0-9]+$/.test(kind)) return undefined;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version)) return undefined;
  if (group === '') return `kubernetes-models/${version}/${kind}`;
  const crd = crdPackage(group);
  if (crd) return `${crd}/${group}/${version}/${kind}`;
  if (!/^[a-z0-9.-]+$/.test(group)) return undefined;
  // Built-in groups: kubernetes-models/<group>/<version>/<Kind> (apps, batch, networking.k8s.io …)
  if (!group.includes('.') || group.endsWith('.k8s.io')) return `kubernetes-models/${group}/${version}/${kind}`;
  return undefined;
}

const cache = new Map<string, Promise<ModelClass | undefined>>();

export function loadModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const mod = modelModule(apiVersion, kind);
  if (!mod) return Promise.resolve(undefined);
  let p = cache.get(mod);
  if (!p) {
    p = import(mod).then(
      (m: Record<string, unknown>) => (typeof m[kind] === 'function' ? (m[kind] as ModelClass) : undefined),
      () => undefined,
    );
    cache.set(mod, p);
  }
  return p;
}

interface Visit {
  value: Record<string, unknown>;
  path: DocPath;
  read: Set<string>;
  enumerated: boolean;
}

/** A deep copy of `value` where every map records the keys read from it. */
function instrument(value: unknown, path: DocPath, visits: Visit[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => instrument(v, [...path, i], visits));
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) copy[k] = instrument(v, [...path, k], visits);
  const visit: Visit = { value: src, path, read: new Set(), enumerated: false };
  visits.push(visit);
  return new Proxy(copy, {
    get(t, k, r) {
      if (typeof k === 'string') visit.read.add(k);
      return Reflect.get(t, k, r) as unknown;
    },
    has(t, k) {
      if (typeof k === 'string') visit.read.add(k);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      visit.enumerated = true;
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, k) {
      return Reflect.getOwnPropertyDescriptor(t, k);
    },
  });
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const pointerPath = (p: string): DocPath =>
  p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));

function describeError(e: AjvError): SchemaError {
  const path = pointerPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return { path, key: true, message: `missing required field '${String(e.params.missingProperty)}'` };
    case 'type':
      return { path, key: false, message: `expected ${String(e.params.type)}` };
    case 'enum':
      return { path, key: false, message: `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'format':
      return { path, key: false, message: `not a valid ${String(e.params.format)}` };
    default:
      return { path, key: false, message: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * Validate one object strictly. `undefined` when no model is known for its apiVersion/kind (the
 * caller reports that); otherwise the list of errors (empty when valid).
 */
export async function validateObject(obj: Record<string, unknown>): Promise<SchemaError[] | undefined> {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return undefined;
  const model = await loadModel(obj.apiVersion, obj.kind);
  if (!model) return undefined;
  const visits: Visit[] = [];
  const proxy = instrument(obj, [], visits);
  const errors: SchemaError[] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (e) {
    const list = (e as { errors?: AjvError[] }).errors;
    if (!list) throw e;
    errors.push(...list.filter((x) => x.keyword !== 'if' && x.keyword !== 'anyOf' && x.keyword !== 'oneOf').map(describeError));
  }
  for (const v of visits) {
    if (v.enumerated || v.read.size === 0) continue; // a map, or a free-form object
    for (const k of Object.keys(v.value)) {
      if (v.read.has(k)) continue;
      const hint = hintFor(k, [...v.read].filter((r) => !Object.prototype.hasOwnProperty.call(v.value, r)));
      errors.push({ path: [...v.path, k], key: true, message: `unknown field '${k}' (not in the ${String(obj.apiVersion)} ${String(obj.kind)} schema)`, ...(hint ? { hint } : {}) });
    }
  }
  return errors;
}
