/**
 * Strict validation of Kubernetes objects against the API's own OpenAPI v3 documents
 * (`api/openapi-spec/v3/*_openapi.json` of kubernetes/kubernetes), and of custom resources against
 * their CRDs. Strict = unknown fields are rejected: `additionalProperties: false` is added to every
 * schema that lists properties and says nothing about others (what kubeconform's strict mode does).
 *
 * Schemas are loaded at run time from a directory (the project does not ship upstream files), e.g.
 * `../shared/upstream/kubernetes/1.34`. Objects whose kind has no schema are reported as such
 * (rule `kubernetes.unknown-kind`) so that callers decide whether that is an error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { LineCounter, parseAllDocuments } from 'yaml';
import { fromPointer } from '../lib/paths.js';

export interface KubeIssue {
  /** `apiVersion/Kind namespace/name` of the object. */
  object: string;
  /** JSON pointer inside the object. */
  pointer: string;
  rule: 'kubernetes.schema' | 'kubernetes.unknown-kind' | 'kubernetes.not-an-object';
  message: string;
  /** Position in the YAML text, when validating text. */
  line?: number;
  col?: number;
}

export interface KubernetesValidator {
  /** apiVersion/kind pairs this validator knows, e.g. `apps/v1/Deployment`. */
  readonly kinds: ReadonlySet<string>;
  validate(object: unknown): KubeIssue[];
  /** Validate every document of a YAML stream; issues carry line and column. */
  validateYaml(text: string): KubeIssue[];
}

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Add `additionalProperties: false` wherever a schema lists properties and leaves others open. */
export function strictify(schema: unknown, preserveUnknownKey = 'x-kubernetes-preserve-unknown-fields'): unknown {
  if (Array.isArray(schema)) return schema.map((s) => strictify(s, preserveUnknownKey));
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    // `properties`, `patternProperties`, `definitions` hold maps of schemas keyed by name.
    if ((k === 'properties' || k === 'patternProperties' || k === 'schemas') && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, strictify(s, preserveUnknownKey)]));
    } else {
      out[k] = strictify(v, preserveUnknownKey);
    }
  }
  if (isObject(out.properties) && out.additionalProperties === undefined && out[preserveUnknownKey] !== true) out.additionalProperties = false;
  return out;
}

/** Drop null-valued keys (the API server treats them as absent; the schemas never allow null). */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)]));
}

const gvkKey = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, logger: false });
  addFormats.default(ajv);
  ajv.addFormat('int-or-string', true);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  return ajv;
}

function describe(o: unknown): string {
  if (!isObject(o)) return '(not an object)';
  const meta = isObject(o.metadata) ? o.metadata : {};
  const where = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `${String(o.apiVersion)}/${String(o.kind)} ${where}${String(meta.name)}`;
}

function messageOf(e: ErrorObject): { pointer: string; message: string } {
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { pointer: `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`, message: `unknown field '${extra}'` };
  }
  return { pointer: e.instancePath, message: e.message ?? e.keyword };
}

/** Keep the most specific error per place: oneOf/anyOf umbrella errors repeat their branches. */
function issuesOf(object: unknown, errors: ErrorObject[]): KubeIssue[] {
  const seen = new Set<string>();
  const out: KubeIssue[] = [];
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'allOf') continue;
    const { pointer, message } = messageOf(e);
    const key = `${pointer}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ object: describe(object), pointer, rule: 'kubernetes.schema', message });
  }
  return out;
}

interface Source {
  /** ajv schema id */
  id: string;
  /** pointer of the kind's schema inside it */
  pointer: string;
}

/**
 * Load a validator: `schemaDir` holds Kubernetes OpenAPI v3 documents (`*_openapi.json`);
 * `crdFiles` are CRD YAML files (their served versions' openAPIV3Schema).
 */
export function loadKubernetesValidator(schemaDir: string, crdFiles: readonly string[] = []): KubernetesValidator {
  const ajv = newAjv();
  const sources = new Map<string, Source>();
  for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as { components?: { schemas?: Record<string, Schema> } };
    const schemas = doc.components?.schemas ?? {};
    const id = `k8s:${file}`;
    ajv.addSchema({ $id: id, components: { schemas: (strictify({ schemas }) as { schemas: unknown }).schemas } }, id);
    for (const [key, s] of Object.entries(schemas)) {
      const gvks = (s['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
      // A kind appears in several files (e.g. PersistentVolumeClaim in apps); the first listing its
      // group-version as its own wins, which is the core file for core kinds (sorted: api__v1 first).
      for (const g of gvks) {
        const apiVersion = g.group === '' ? g.version : `${g.group}/${g.version}`;
        const k = gvkKey(apiVersion, g.kind);
        if (!sources.has(k)) sources.set(k, { id, pointer: `/components/schemas/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      }
    }
  }
  for (const file of crdFiles) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[] } };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        if (!v.served || !v.schema?.openAPIV3Schema) continue;
        const apiVersion = `${crd.spec.group}/${v.name}`;
        const id = `crd:${apiVersion}/${crd.spec.names.kind}`;
        const root = strictify(v.schema.openAPIV3Schema) as Schema;
        // Every object has apiVersion, kind and metadata, even where a CRD schema leaves them out.
        const props = isObject(root.properties) ? root.properties : {};
        root.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...props };
        ajv.addSchema({ $id: id, ...root }, id);
        sources.set(gvkKey(apiVersion, crd.spec.names.kind), { id, pointer: '' });
      }
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (k: string): ValidateFunction | undefined => {
    const src = sources.get(k);
    if (!src) return undefined;
    const known = compiled.get(k);
    if (known) return known;
    const fn = ajv.compile({ $ref: `${src.id}#${src.pointer}` });
    compiled.set(k, fn);
    return fn;
  };
  const validate = (object: unknown): KubeIssue[] => {
    if (!isObject(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string')
      return [{ object: describe(object), pointer: '', rule: 'kubernetes.not-an-object', message: 'not a Kubernetes object (needs apiVersion and kind)' }];
    const fn = validatorFor(gvkKey(object.apiVersion, object.kind));
    if (!fn) return [{ object: describe(object), pointer: '', rule: 'kubernetes.unknown-kind', message: `no schema for ${object.apiVersion} ${object.kind}` }];
    const clean = dropNulls(object);
    return fn(clean) ? [] : issuesOf(clean, fn.errors ?? []);
  };
  return {
    kinds: new Set(sources.keys()),
    validate,
    validateYaml(text: string): KubeIssue[] {
      const lineCounter = new LineCounter();
      const out: KubeIssue[] = [];
      for (const doc of parseAllDocuments(text, { lineCounter, version: '1.1' })) {
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) continue;
        for (const issue of validate(value)) {
          const node = doc.getIn(fromPointer(issue.pointer), true) as { range?: [number, number] } | undefined;
          const offset = node?.range?.[0] ?? (doc.contents as { range?: [number, number] } | null)?.range?.[0] ?? 0;
          const { line, col } = lineCounter.linePos(offset);
          out.push({ ...issue, line, col });
        }
      }
      return out;
    },
  };
}

export function formatKubeIssue(file: string, i: KubeIssue): string {
  const where = i.line === undefined ? file : `${file}:${i.line}:${i.col ?? 1}`;
  return `${where}  ${i.object} ${i.pointer || '/'}: ${i.message}`;
}
