/**
 * Key trees: which Helm values keys a pinned chart version has, in our own derived format
 * (schemas/charts/<chart>-<version>.keys.json, written by generators/values/derive-keys.ts).
 *
 * A tree node is either `"*"` (anything below is accepted: a scalar, a list, or an open map such as
 * podAnnotations, nodeSelector, extraArgs or a sub-chart's values) or a map of child keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { projectUrl } from '../lib/project-root.js';

export type KeyTree = '*' | { [key: string]: KeyTree };

/** The shape of a value: a map, a list, or a scalar (string, number, boolean). */
export type ValueType = 'map' | 'list' | 'scalar';

export interface ChartKeys {
  chart: string;
  version: string;
  /** What the tree was derived from: the chart's values.schema.json and/or values.yaml. */
  derivedFrom: string[];
  keys: KeyTree;
  /**
   * The types each value path (dotted; keys with dots left out) may have: the type of its default
   * in values.yaml, or the types values.schema.json allows there. No entry (a null default): any.
   */
  types?: Record<string, ValueType[]>;
}

export const valueType = (v: unknown): ValueType => (Array.isArray(v) ? 'list' : v !== null && typeof v === 'object' ? 'map' : 'scalar');

export interface WrongType {
  path: string[];
  expected: ValueType[];
  actual: ValueType;
}

/** Every value of `values` whose type the chart does not take there (null always passes: it deletes the default). */
export function wrongTypes(values: unknown, types: Record<string, ValueType[]>, prefix: string[] = []): WrongType[] {
  if (!isMap(values)) return [];
  const out: WrongType[] = [];
  for (const [k, v] of Object.entries(values)) {
    const path = [...prefix, k];
    const expected = path.some((p) => p.includes('.')) ? undefined : types[path.join('.')];
    if (v !== null && expected && !expected.includes(valueType(v))) out.push({ path, expected, actual: valueType(v) });
    else if (isMap(v)) out.push(...wrongTypes(v, types, path));
  }
  return out;
}

export const CHART_KEYS_DIR = projectUrl('schemas/charts/');

export const keysFileName = (chart: string, version: string): string => `${chart}-${version}.keys.json`;

/**
 * Where key trees are looked up, in order: the project's schemas/charts/ first. Tests add a
 * temporary directory here (and remove it) to check a chart version the project has no table for.
 */
export const CHART_KEYS_DIRS: URL[] = [CHART_KEYS_DIR];

const cache = new Map<string, ChartKeys | null>();

/** The committed key tree of a chart version, or undefined when the project has none. */
export function loadChartKeys(chart: string, version: string): ChartKeys | undefined {
  const name = keysFileName(chart, version);
  const key = `${CHART_KEYS_DIRS.map(String).join('|')}|${name}`;
  if (!cache.has(key)) {
    const url = CHART_KEYS_DIRS.map((d) => new URL(name, d)).find((u) => existsSync(u));
    cache.set(key, url ? (JSON.parse(readFileSync(url, 'utf8')) as ChartKeys) : null);
  }
  return cache.get(key) ?? undefined;
}

/** The exact commands that derive a missing key table (the warning for an unchecked version says them). */
export function deriveKeysHint(chart: { repoURL: string; name: string; version: string }): string {
  const pull = chart.repoURL.startsWith('oci://')
    ? `helm pull ${chart.repoURL.replace(/\/$/, '')}/${chart.name} --version ${chart.version} --untar --untardir /tmp/charts`
    : `helm pull ${chart.name} --repo ${chart.repoURL} --version ${chart.version} --untar --untardir /tmp/charts`;
  return `derive it: ${pull} && npx tsx generators/values/derive-keys.ts --chart-dir /tmp/charts/${chart.name}, then commit schemas/charts/${keysFileName(chart.name, chart.version)}`;
}

export interface UnknownKey {
  /** Path below the values root, ending with the unknown key. */
  path: string[];
  /** Keys known at that level (for "did you mean"). */
  known: string[];
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every key of `values` the tree does not know, depth first in document order. */
export function unknownKeys(values: unknown, tree: KeyTree, prefix: string[] = []): UnknownKey[] {
  if (tree === '*' || !isMap(values)) return [];
  const out: UnknownKey[] = [];
  for (const [k, v] of Object.entries(values)) {
    const sub = tree[k];
    if (sub === undefined) out.push({ path: [...prefix, k], known: Object.keys(tree) });
    else out.push(...unknownKeys(v, sub, [...prefix, k]));
  }
  return out;
}
