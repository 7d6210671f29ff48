/**
 * Derive the key trees of the pinned charts (schemas/charts/<chart>-<version>.keys.json) from each
 * chart's values.yaml and, where the chart ships one, values.schema.json. The output is our own
 * format (see keys.ts), not a copy of an upstream file; run it when a catalog pin changes:
 *
 *   npx tsx generators/values/derive-keys.ts [--charts DIR]...   (default: ../shared/upstream/charts)
 *   npx tsx generators/values/derive-keys.ts --chart-dir DIR...  (one unpacked chart each, e.g. from
 *                                                                helm pull --untar: any version)
 *
 * Each --charts DIR holds <chart>/<version>/{Chart.yaml,values.yaml[,values.schema.json]}; there
 * only the versions the catalog pins are derived. A --chart-dir is one chart (name and version from
 * its Chart.yaml): that is how a version an environment tries (addons.<name>.chart.version) gets
 * its table.
 *
 * Rules: a map with keys is a node; an empty map `{}` or `null` default is open (`*`: podAnnotations,
 * nodeSelector, extraArgs …); scalars and lists are leaves (`*`); a sub-chart's section (Chart.yaml
 * dependencies, by alias or name) and `global` are open (their keys live in the sub-chart). With a
 * schema: its properties are added (keys documented only there), and an object whose schema allows
 * additional properties, or has none listed, is open.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { catalogEntries } from '../catalog/index.js';
import { CHART_KEYS_DIR, keysFileName, valueType, type ChartKeys, type KeyTree, type ValueType } from './keys.js';

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function treeFromValues(values: unknown): KeyTree {
  if (!isMap(values) || Object.keys(values).length === 0) return '*';
  const out: Record<string, KeyTree> = {};
  for (const [k, v] of Object.entries(values)) out[k] = treeFromValues(v);
  return out;
}

function resolveRef(root: Json, node: Json, depth = 0): Json {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/') || depth > 32) return node;
  let cur: unknown = root;
  for (const seg of ref.slice(2).split('/')) cur = isMap(cur) ? cur[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  if (!isMap(cur)) return node;
  const { $ref: _, ...rest } = node;
  return { ...resolveRef(root, cur, depth + 1), ...rest };
}

export function treeFromSchema(root: Json, node: Json = root): KeyTree {
  const s = resolveRef(root, node);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[k])) return '*'; // combinations: do not guess which keys apply
  }
  const props = isMap(s.properties) ? s.properties : undefined;
  if (!props || Object.keys(props).length === 0) return '*';
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) return '*';
  if (isMap(s.patternProperties)) return '*';
  const out: Record<string, KeyTree> = {};
  for (const [k, v] of Object.entries(props)) out[k] = isMap(v) ? treeFromSchema(root, v) : '*';
  return out;
}

/** Union of two trees: a key known by either is known; open wins. */
export function mergeTrees(a: KeyTree, b: KeyTree): KeyTree {
  if (a === '*' || b === '*') return '*';
  const out: Record<string, KeyTree> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeTrees(out[k]!, v) : v;
  return out;
}

/**
 * Maps whose defaults list some entries but which take any key (the chart passes them through
 * verbatim): values.yaml cannot tell, so the catalog entry says it (CatalogEntry.openValuePaths).
 */
export const openPaths = (chart: string): readonly string[][] => catalogEntries().find((e) => e.chart?.name === chart)?.openValuePaths ?? [];

/**
 * Keys a chart's templates read that its values.yaml does not list (so values.yaml cannot tell):
 * each one checked in the chart's template at the pinned version.
 */
export const TEMPLATE_KEYS: Record<string, string[][]> = {
  // charts/aws-cloud-controller-manager/templates/daemonset.yaml (0.0.11):
  //   {{- if .Values.hostNetworking }} hostNetwork: true {{- end }}
  'aws-cloud-controller-manager': [['hostNetworking']],
};

function addLeaf(tree: KeyTree, path: string[]): KeyTree {
  if (tree === '*' || path.length === 0) return '*';
  const [head, ...rest] = path;
  return { ...tree, [head!]: rest.length === 0 ? (tree[head!] ?? '*') : addLeaf(tree[head!] ?? {}, rest) };
}

function openAt(tree: KeyTree, path: string[]): KeyTree {
  if (tree === '*' || path.length === 0) return '*';
  const [head, ...rest] = path;
  return { ...tree, [head!]: head! in tree ? openAt(tree[head!]!, rest) : '*' };
}

function sortTree(t: KeyTree): KeyTree {
  if (t === '*') return t;
  return Object.fromEntries(Object.keys(t).sort().map((k) => [k, sortTree(t[k]!)]));
}

const SCHEMA_TYPES: Record<string, ValueType> = { object: 'map', array: 'list', string: 'scalar', number: 'scalar', integer: 'scalar', boolean: 'scalar' };

/** The types a schema node allows (type, or the union over anyOf/oneOf), or undefined when it does not say. */
function schemaTypes(root: Json, node: Json): ValueType[] | undefined {
  const s = resolveRef(root, node);
  const t = s.type;
  if (typeof t === 'string' || Array.isArray(t)) {
    const names = (Array.isArray(t) ? t : [t]) as string[];
    if (names.includes('null') && names.length === 1) return undefined;
    return [...new Set(names.filter((n) => n !== 'null').map((n) => SCHEMA_TYPES[n]).filter((x): x is ValueType => x !== undefined))];
  }
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (!Array.isArray(s[k])) continue;
    const parts = (s[k] as Json[]).map((x) => (isMap(x) ? schemaTypes(root, x) : undefined));
    if (parts.some((p) => p === undefined)) return undefined;
    return [...new Set(parts.flat() as ValueType[])];
  }
  return undefined;
}

function schemaAt(root: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = root;
  for (const seg of path) {
    const s: Json | undefined = cur ? resolveRef(root, cur) : undefined;
    const props: unknown = s?.properties;
    cur = isMap(props) && isMap(props[seg]) ? (props[seg] as Json) : undefined;
    if (!cur) return undefined;
  }
  return cur;
}

/** Types of every non-null default (dotted paths; keys containing dots are left out), widened by the schema. */
export function typesFromValues(values: unknown, schema?: Json, prefix: string[] = [], out: Record<string, ValueType[]> = {}): Record<string, ValueType[]> {
  if (!isMap(values)) return out;
  for (const [k, v] of Object.entries(values)) {
    if (k.includes('.')) continue;
    const path = [...prefix, k];
    if (v !== null) {
      const fromSchema = schema ? (() => { const n = schemaAt(schema, path); return n ? schemaTypes(schema, n) : undefined; })() : undefined;
      out[path.join('.')] = fromSchema && fromSchema.length > 0 ? [...new Set([valueType(v), ...fromSchema])].sort() : [valueType(v)];
    }
    if (isMap(v)) typesFromValues(v, schema, path, out);
  }
  return out;
}

export function deriveChartKeys(dir: string, chart: string, version: string): ChartKeys {
  const chartYaml = (parseAllDocuments(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { toJS(): unknown }[])[0]!.toJS() as { dependencies?: { name: string; alias?: string }[] };
  const values: unknown = parse(readFileSync(join(dir, 'values.yaml'), 'utf8'));
  const derivedFrom = ['values.yaml'];
  let tree = treeFromValues(values);
  const schemaPath = join(dir, 'values.schema.json');
  const schema = existsSync(schemaPath) ? (JSON.parse(readFileSync(schemaPath, 'utf8')) as Json) : undefined;
  if (schema) {
    tree = mergeTrees(tree, treeFromSchema(schema));
    derivedFrom.unshift('values.schema.json');
  }
  const types = typesFromValues(values, schema);
  if (tree !== '*') {
    tree.global = '*';
    for (const d of chartYaml.dependencies ?? []) tree[d.alias ?? d.name] = '*';
  }
  for (const p of openPaths(chart)) tree = openAt(tree, p);
  if (TEMPLATE_KEYS[chart]) {
    for (const p of TEMPLATE_KEYS[chart]) tree = addLeaf(tree, p);
    derivedFrom.push('templates (TEMPLATE_KEYS in generators/values/derive-keys.ts)');
  }
  return { chart, version, derivedFrom, keys: sortTree(tree), types: Object.fromEntries(Object.keys(types).sort().map((k) => [k, types[k]!])) };
}

/** Write the key table of one unpacked chart directory (name and version from its Chart.yaml). */
export function deriveChartDir(dir: string, outDir: URL = CHART_KEYS_DIR): ChartKeys {
  const meta = parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { name?: unknown; version?: unknown };
  if (typeof meta.name !== 'string' || typeof meta.version !== 'string') throw new Error(`${dir}/Chart.yaml: no name or version`);
  const keys = deriveChartKeys(dir, meta.name, meta.version);
  writeFileSync(new URL(keysFileName(meta.name, meta.version), outDir), JSON.stringify(keys, null, 1) + '\n');
  return keys;
}

function main(argv: string[]): void {
  const dirs: string[] = [];
  const chartDirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--charts' && argv[i + 1]) dirs.push(argv[++i]!);
    else if (argv[i] === '--chart-dir' && argv[i + 1]) chartDirs.push(argv[++i]!);
  }
  if (chartDirs.length > 0) {
    for (const d of chartDirs) {
      const keys = deriveChartDir(d);
      console.log(`${keys.chart} ${keys.version}: from ${keys.derivedFrom.join(' + ')} → schemas/charts/${keysFileName(keys.chart, keys.version)}`);
    }
    return;
  }
  if (dirs.length === 0) dirs.push(join(import.meta.dirname, '..', '..', '..', 'shared', 'upstream', 'charts'));
  const pinned = catalogEntries().flatMap((e) => (e.chart ? [e.chart] : []));
  let written = 0;
  for (const c of pinned) {
    const dir = dirs.map((d) => join(d, c.name, c.version)).find((d) => existsSync(join(d, 'values.yaml')));
    if (!dir) {
      console.error(`${c.name} ${c.version}: no values.yaml in ${dirs.join(', ')}; keys not derived`);
      continue;
    }
    const keys = deriveChartKeys(dir, c.name, c.version);
    writeFileSync(new URL(keysFileName(c.name, c.version), CHART_KEYS_DIR), JSON.stringify(keys, null, 1) + '\n');
    written++;
    console.log(`${c.name} ${c.version}: from ${keys.derivedFrom.join(' + ')}`);
  }
  console.log(`${written} key file(s) written to schemas/charts/`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main(process.argv.slice(2));
