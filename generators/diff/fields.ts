/**
 * Field-level diff of two parsed documents: added / removed / changed leaves with their paths.
 * Lists of maps that all carry a unique `name` (containers, env, ports, volumes …) are matched by
 * name, as Kubernetes' strategic merge does, so inserting one item does not shift every path; other
 * lists of maps are matched by content (longest common subsequence).
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

/** Above this many items per side the content alignment (quadratic) gives way to index matching. */
const MAX_ALIGN = 400;

/**
 * Longest common subsequence of two lists under deepEqual: the pairs of indexes kept unchanged.
 */
export function commonItems(a: readonly unknown[], b: readonly unknown[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) len[i]![j] = deepEqual(a[i], b[j]) ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const out: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (deepEqual(a[i], b[j])) out.push([i++, j++]);
    else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return out;
}

/**
 * Lists of unnamed items (NetworkPolicy rules, tolerations, a node config's files): items are matched by
 * content, so inserting one item reads as one addition. Between two unchanged items, as many
 * removed as added items are taken as the same items changed (diffed field by field); otherwise
 * they are removals and additions. Paths carry the head index (the base index for removals).
 */
function diffUnnamedList(a: readonly unknown[], b: readonly unknown[], path: FieldPath): FieldChange[] {
  const out: FieldChange[] = [];
  const anchors: [number, number][] = a.length <= MAX_ALIGN && b.length <= MAX_ALIGN ? commonItems(a, b) : [];
  if (anchors.length === 0 && (a.length > MAX_ALIGN || b.length > MAX_ALIGN)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= b.length) out.push({ op: 'removed', path: [...path, i], old: a[i] });
      else if (i >= a.length) out.push({ op: 'added', path: [...path, i], new: b[i] });
      else out.push(...diffValues(a[i], b[i], [...path, i]));
    }
    return out;
  }
  let i = 0;
  let j = 0;
  for (const [ai, bj] of [...anchors, [a.length, b.length] as [number, number]]) {
    const removed = ai - i;
    const added = bj - j;
    if (removed === added) {
      for (let k = 0; k < removed; k++) out.push(...diffValues(a[i + k], b[j + k], [...path, j + k]));
    } else {
      for (let k = i; k < ai; k++) out.push({ op: 'removed', path: [...path, k], old: a[k] });
      for (let k = j; k < bj; k++) out.push({ op: 'added', path: [...path, k], new: b[k] });
    }
    i = ai + 1;
    j = bj + 1;
  }
  return out;
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
    if (!isScalarList(a) || !isScalarList(b)) return diffUnnamedList(a, b, path);
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

/** The changed field paths between two values, as printed (`data.key`, `spec.ingress[1]`). */
export const changedPaths = (a: unknown, b: unknown): string[] => diffValues(a, b).map((c) => formatFieldPath(c.path));
