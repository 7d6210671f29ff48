/**
 * Typed objects (kubernetes-models) to plain manifests: what the engines' delivery objects
 * (Applications, AppProjects, HelmReleases, Kustomizations, …) are written from. The workloads go
 * through cdk8s-plus constructs and a cdk8s App (render/workloads); these objects have no
 * constructs, so passing each through a cdk8s ApiObject (as this module did) only cost a construct
 * tree, a dependency walk over the whole App for every chart, and two deep copies per object: a
 * tenth of a render's CPU (issue 23). The same plain values come out, byte for byte, because this
 * does what cdk8s 2.70 does to a plain object (node_modules/cdk8s/lib/api-object.js toJson,
 * metadata.js toJson, _util.js sanitizeValue; its resolvers change nothing in plain data):
 * - the body: null and undefined members dropped at every depth (array items too: they are written
 *   `null`), keys sorted, then apiVersion, kind and metadata first;
 * - metadata: the same, and empty arrays and empty objects dropped as well, at every depth;
 * - an object whose kind and name repeat another's in the same group is refused, as the construct
 *   ids `${kind}-${name}` were (constructs: "There is already a Construct with name").
 */

interface SanitizeOptions {
  filterEmpty: boolean;
}

/** cdk8s's sanitizeValue with sortKeys (and filterEmptyArrays = filterEmptyObjects = filterEmpty). */
function sanitize(value: unknown, opts: SanitizeOptions): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (opts.filterEmpty && value.length === 0) return undefined;
    return value.map((x) => sanitize(x, opts));
  }
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  if (name !== 'Object') throw new Error(`can't render non-simple object of type '${String(name)}'`);
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  // Sorted only when out of order (the default sort's order: UTF-16 code units, as `<` compares).
  for (let i = 1; i < keys.length; i++)
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  for (const key of keys) {
    const v = sanitize((value as Record<string, unknown>)[key], opts);
    if (v !== null && v !== undefined) out[key] = v;
  }
  if (opts.filterEmpty && Object.keys(out).length === 0) return undefined;
  return out;
}

const BODY: SanitizeOptions = { filterEmpty: false };
const METADATA: SanitizeOptions = { filterEmpty: true };

/** One object as cdk8s's ApiObject.toJson writes it (explicit name, no chart labels or namespace). */
export function manifestOf(json: { apiVersion: string; kind: string; metadata?: Record<string, unknown> }): Record<string, unknown> {
  // As ApiObjectMetadataDefinition copies them (metadata.js constructor): maps spread, lists copied.
  const m = (json.metadata ?? {}) as { labels?: object; annotations?: object; finalizers?: unknown[]; ownerReferences?: unknown[] };
  const metadata = sanitize(
    { ...m, labels: { ...m.labels }, annotations: { ...(m.annotations ?? {}) }, finalizers: m.finalizers ? [...m.finalizers] : [], ownerReferences: m.ownerReferences ? [...m.ownerReferences] : [] },
    METADATA,
  );
  const body = sanitize({ ...json, metadata }, BODY) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(body)]) if (k in body && !(k in out)) out[k] = body[k];
  return out;
}

/** Typed objects to plain manifests, per group, in insertion order. */
export function synthesize(envName: string, groups: Record<string, { toJSON(): unknown }[]>): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [group, objects] of Object.entries(groups)) {
    const ids = new Set<string>();
    out[group] = objects.map((o) => {
      const json = o.toJSON() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
      // Kind and name, and the namespace of a namespaced object (one add-on's IMDS denials share a name).
      const id = `${json.kind}-${json.metadata.namespace ? `${json.metadata.namespace}-` : ''}${json.metadata.name}`;
      if (ids.has(id)) throw new Error(`There is already a Construct with name '${id}' in Chart [${envName}-${group}]`);
      ids.add(id);
      return manifestOf(json);
    });
  }
  return out;
}
