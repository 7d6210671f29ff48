/**
 * Field-level diff of two parsed documents: added / removed / changed leaves with their paths.
 * Lists of maps that all carry a unique `name` (containers, env, ports, volumes …) are matched by
 * name, as Kubernetes' strategic merge does, so inserting one item does not shift every path.
 */
import { secretShape } from '../lib/secrets.js';

/** A path segment: a map key, a list index, or a list item picked by its `name`. */
export type Segment = string | number | { name: string };
export type FieldPath = Segment[];

export type FieldOp = 'added' | 'removed' | 'changed';

export interface FieldChange {
  op: FieldOp;
  path: FieldPath;
  old?: unknown;
  new?: unknown;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'object') out += `[name=${seg.name}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(document)' : out;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function namedItems(list: unknown[]): Map<string, unknown> | undefined {
  if (list.length === 0) return undefined;
  const out = new Map<string, unknown>();
  for (const item of list) {
    if (!isMap(item) || typeof item.name !== 'string' || out.has(item.name)) return undefined;
    out.set(item.name, item);
  }
  return out;
}

const isScalarList = (v: unknown[]): boolean => v.every((x) => x === null || typeof x !== 'object');

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

export function diffValues(a: unknown, b: unknown, path: FieldPath = []): FieldChange[] {
  if (deepEqual(a, b)) return [];
  if (isMap(a) && isMap(b)) {
    const out: FieldChange[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (!(k in b)) out.push({ op: 'removed', path: [...path, k], old: a[k] });
      else if (!(k in a)) out.push({ op: 'added', path: [...path, k], new: b[k] });
      else out.push(...diffValues(a[k], b[k], [...path, k]));
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = namedItems(a);
    const nb = namedItems(b);
    if (na && nb) {
      const out: FieldChange[] = [];
      for (const [name, item] of na) if (!nb.has(name)) out.push({ op: 'removed', path: [...path, { name }], old: item });
      for (const [name, item] of nb) {
        if (!na.has(name)) out.push({ op: 'added', path: [...path, { name }], new: item });
        else out.push(...diffValues(na.get(name), item, [...path, { name }]));
      }
      return out;
    }
    // Short scalar lists (args, SANs, subnets) read best as one old → new value.
    if (!isScalarList(a) || !isScalarList(b)) {
      const out: FieldChange[] = [];
      const n = Math.max(a.length, b.length);
      for (let i = 0; i < n; i++) {
        if (i >= b.length) out.push({ op: 'removed', path: [...path, i], old: a[i] });
        else if (i >= a.length) out.push({ op: 'added', path: [...path, i], new: b[i] });
        else out.push(...diffValues(a[i], b[i], [...path, i]));
      }
      return out;
    }
  }
  return [{ op: 'changed', path, old: a, new: b }];
}

export const MASK = '‹masked›';

/**
 * A value safe to print: secret-shaped strings (and every value of a Secret's data) become ‹masked›,
 * secret references (`{ secret: /path }`, secretKeyRef, remoteRef) stay as they are — they are
 * references, not values.
 */
export function maskValue(value: unknown, key?: string, inSecretData = false): unknown {
  if (Array.isArray(value)) return value.map((v) => maskValue(v, undefined, inSecretData));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k, inSecretData)]));
  if (inSecretData && value !== null && value !== undefined) return MASK;
  return secretShape(key, value) ? MASK : value;
}

/** Whether a field path lies inside a Kubernetes Secret's data/stringData. */
export const inSecretData = (doc: unknown, path: FieldPath): boolean =>
  isMap(doc) && doc.kind === 'Secret' && doc.apiVersion === 'v1' && (path[0] === 'data' || path[0] === 'stringData');

export function maskChange(c: FieldChange, doc: unknown): FieldChange {
  const last = c.path[c.path.length - 1];
  const key = typeof last === 'string' ? last : undefined;
  const secretData = inSecretData(doc, c.path);
  const out: FieldChange = { op: c.op, path: c.path };
  if ('old' in c) out.old = maskValue(c.old, key, secretData);
  if ('new' in c) out.new = maskValue(c.new, key, secretData);
  return out;
}
