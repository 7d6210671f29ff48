/**
 * The environment schema, composed: the core (./core.ts) with every registered distribution's and
 * engine's fragment. schemas/environment.schema.json is this text, committed for editors (a test fails when they differ).
 */
import { distributions } from '../distributions/registry.js';
import type { Distribution } from '../distributions/types.js';
import { engines, SYNC_POLICY_KEY } from '../engines/registry.js';
import type { Engine } from '../engines/types.js';
import { CORE_SCHEMA } from './core.js';

/** A JSON Schema (draft 2020-12) node, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** Where the committed composition lives (repo-relative), and how to rewrite it. */
export const SCHEMA_FILE = 'schemas/environment.schema.json';
export const WRITE_SCHEMA_COMMAND = 'npx tsx generators/schema/write.ts';

type Obj = Record<string, unknown>;
const obj = (o: unknown, ...path: string[]): Obj => path.reduce((x, k) => (x as Obj)[k] as Obj, o as Obj);

/** `props` with `add` inserted after the key `after` (at the end without one). */
function insertAfter(props: Obj, after: string | undefined, add: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(props)) {
    out[k] = v;
    if (k === after) Object.assign(out, add);
  }
  return after === undefined || !(after in props) ? { ...out, ...add } : out;
}

/** "a, b or c". */
const listed = (xs: readonly string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

function merge(into: Obj, from: Obj | undefined, what: string): void {
  for (const [k, v] of Object.entries(from ?? {})) {
    if (k in into && JSON.stringify(into[k]) !== JSON.stringify(v)) throw new Error(`schema: two fragments define ${what} ${k} differently`);
    into[k] = v;
  }
}

/** Append `notes` (`name: note`) to a description. */
const withNotes = (description: string, notes: string[]): string => (notes.length === 0 ? description : `${description} ${notes.join('; ')}.`);

export function composeEnvironmentSchema(ds: readonly Distribution[] = distributions(), es: readonly Engine[] = engines()): JsonSchema {
  const s = structuredClone(CORE_SCHEMA) as Obj;

  // cluster: the distribution enum, each one's release after `distribution`, its settings at the end.
  const cluster = obj(s, 'properties', 'cluster');
  let props = obj(cluster, 'properties');
  const distribution = obj(props, 'distribution');
  distribution.enum = ds.map((d) => d.name);
  distribution.description = `${listed(ds.map((d) => d.schema.summary))}.`;
  const release: Obj = {};
  const settings: Obj = {};
  for (const d of ds) {
    merge(release, d.schema.release, 'cluster property');
    merge(settings, d.schema.cluster, 'cluster property');
  }
  props = insertAfter(props, 'distribution', release);
  props = insertAfter(props, undefined, settings);
  cluster.properties = props;

  // The datastore every distribution shares: the union of the types they run, and their notes.
  const datastore = obj(props, 'datastore', 'properties');
  const type = obj(datastore, 'type');
  const types = [...new Set(ds.flatMap((d) => d.datastores))];
  type.enum = types;
  const note = (d: Distribution, path: string): string | undefined => d.schema.datastoreNotes?.[path];
  type.description = `${type.description as string} ${ds.map((d) => `${d.name}: ${d.datastores.map((t) => (note(d, `type.${t}`) ? `${t} (${note(d, `type.${t}`)})` : t)).join(', ')}`).join('; ')}.`;
  // Each distribution's snapshot settings after the core's.
  const backup = obj(datastore, 'backup');
  const backupSettings: Obj = {};
  for (const d of ds) merge(backupSettings, d.schema.backup, 'cluster.datastore.backup property');
  backup.properties = insertAfter(obj(backup, 'properties'), undefined, backupSettings);
  const paths = [...new Set(ds.flatMap((d) => Object.keys(d.schema.datastoreNotes ?? {}).filter((p) => !p.startsWith('type.'))))];
  for (const path of paths) {
    const target = path.split('.').reduce<Obj>((o, k, i) => (i === 0 ? obj(datastore, k) : obj(o, 'properties', k)), datastore);
    target.description = withNotes(target.description as string, ds.flatMap((d) => (note(d, path) ? [`${d.name}: ${note(d, path)}`] : [])));
  }

  // nodePools[]: each distribution's pool settings after the core's.
  const pool = obj(s, '$defs', 'nodePool');
  const poolSettings: Obj = {};
  for (const d of ds) merge(poolSettings, d.schema.pool, 'nodePools[] property');
  pool.properties = insertAfter(obj(pool, 'properties'), undefined, poolSettings);

  // Definitions the fragments refer to.
  const defs = obj(s, '$defs');
  for (const d of ds) merge(defs, d.schema.defs, '$defs');

  // gitops: the engines; the sync policy every engine follows, with what each adds.
  const top = obj(s, 'properties');
  const gitops = obj(top, 'gitops');
  gitops.enum = es.map((e) => e.name);
  gitops.description = `The GitOps engine that delivers the add-ons and workloads (default ${es[0]!.name}). ${es.map((e) => e.schema.summary).join('; ')}. Every engine delivers the same charts, versions, values files and manifests; switching is this one line.`;
  const sync = obj(top, '$syncPolicy');
  const syncProps = obj(sync, 'properties');
  for (const e of es) merge(syncProps, e.schema.sync, 'sync policy property');
  sync.description = [sync.description as string, ...es.flatMap((e) => (e.schema.syncNote ? [e.schema.syncNote] : []))].join(' ');
  const renamed: Obj = {};
  for (const [k, v] of Object.entries(top)) renamed[k === '$syncPolicy' ? SYNC_POLICY_KEY : k] = v;
  s.properties = renamed;
  return s;
}

/** The schema as committed: JSON with two-space indentation, non-ASCII characters escaped, a final newline. */
let cached: { of: readonly object[]; text: string } | undefined;

/**
 * The schema as committed: JSON with two-space indentation, non-ASCII characters escaped, a final
 * newline. Composed once per set of registered distributions and engines.
 */
export function environmentSchemaText(ds: readonly Distribution[] = distributions(), es: readonly Engine[] = engines()): string {
  const of = [...ds, ...es];
  if (cached && cached.of.length === of.length && cached.of.every((x, i) => x === of[i])) return cached.text;
  const text = `${JSON.stringify(composeEnvironmentSchema(ds, es), null, 2)}\n`.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  cached = { of, text };
  return text;
}
