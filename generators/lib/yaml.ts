/**
 * The one YAML module: every rendered file is serialized here, so the output format (YAML 1.1-safe
 * quoting, key order, line width) is decided once.
 */
import { timed } from './timing.js';
import { plainEmitter } from './yaml-emit.js';
import { Document, isMap, isScalar, parseAllDocuments, Scalar, visit, type Pair, type Tags, type ToStringOptions } from 'yaml';

/** Keys written first, in this order; all other keys follow alphabetically. */
const LEADING_KEYS = ['apiVersion', 'kind', 'version', 'metadata', 'name', 'namespace'];

const RANK = new Map(LEADING_KEYS.map((k, i) => [k, i]));

/** Called twice per pair of neighbouring keys of every map written: a Map lookup, not a scan of LEADING_KEYS. */
function keyRank(key: string): number {
  return RANK.get(key) ?? LEADING_KEYS.length;
}

export function compareKeys(a: string, b: string): number {
  const ra = keyRank(a);
  const rb = keyRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortEntries(a: Pair, b: Pair): number {
  const ka = isScalar(a.key) ? String(a.key.value) : String(a.key);
  const kb = isScalar(b.key) ? String(b.key.value) : String(b.key);
  return compareKeys(ka, kb);
}

/** YAML 1.1's tags without the merge key: data is written, never a merge (see quoteMergeKeys). */
const withoutMergeTag = (tags: Tags): Tags => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:merge');

const DOC_OPTIONS = {
  // YAML 1.1 so that yes/on/no and date-like strings are quoted: Kubernetes, Helm and the node OS read 1.1.
  version: '1.1' as const,
  // ...and the 1.2 core schema's tests too, so that what a 1.2 reader types differently is quoted as
  // well. The one string the 1.1 tests leave plain and 1.2 core retypes is a 0o-octal: `0o17` is 15
  // to a YAML 1.2 reader (go-yaml v3, which Kubernetes vendors as sigs.k8s.io/yaml/goyaml.v3:
  // "Octals in the 0o777 format are supported though", its README). Only quoting changes.
  compat: 'core',
  sortMapEntries: sortEntries,
  aliasDuplicateObjects: false,
  customTags: withoutMergeTag,
};
const STRING_OPTIONS: ToStringOptions = { lineWidth: 0, indentSeq: true };

/**
 * The strings a plain scalar must not be, read from the schema the `yaml` package writes with (and
 * its compat schema): every default tag's test but the string tag's. One regular expression.
 */
function retypedTest(): RegExp {
  const schema = new Document(null, DOC_OPTIONS).schema;
  const tests = [...schema.tags, ...(schema.compat ?? [])].flatMap((t) => (t.default && t.tag !== 'tag:yaml.org,2002:str' && t.test ? [t.test] : []));
  if (tests.some((t) => t.flags !== '')) throw new Error('a YAML schema test has flags; the emitter cannot combine it');
  return new RegExp(tests.map((t) => `(?:${t.source})`).join('|'));
}

/** Plain data written without building a yaml Document (yaml-emit.ts); undefined for anything else. */
export const emitPlainYaml = plainEmitter({ compareKeys, retyped: retypedTest(), quotedKeys: new Set(['<<']) });

/** The `yaml` package's own serialization of one document (what emitPlainYaml matches byte for byte). */
export function libraryYaml(value: unknown): string {
  const doc = new Document(prune(value), DOC_OPTIONS);
  quoteMergeKeys(doc);
  return doc.toString(STRING_OPTIONS);
}

/** Drop `undefined` members so optional fields never appear as empty keys. */
export function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => prune(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = prune(v);
    }
    return out as T;
  }
  return value;
}

/** One YAML document (no header, no leading `---`). */
export function toYaml(value: unknown): string {
  return timed('serialize', () => emitPlainYaml(value) ?? libraryYaml(value));
}

/**
 * A plain `<<` key is YAML 1.1's merge key: every 1.1 reader (Helm, Kubernetes, this module's own
 * parser) would merge its value instead of reading a member named `<<`. Data never means a merge,
 * so such keys are written double-quoted, which all of them read as an ordinary string key. (The
 * merge tag is left out of the schema above, or the `yaml` package would write `<<` plain whatever
 * the node's type says.)
 */
function quoteMergeKeys(doc: Document): void {
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '<<') pair.key.type = Scalar.QUOTE_DOUBLE;
    },
  });
}

/** Several documents, separated by `---`. */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map((v) => toYaml(v)).join('---\n');
}

/** A YAML scalar or flow collection safe to splice into a template line (used by the Handlebars helper). */
export function yamlInline(value: unknown): string {
  if (value === undefined) throw new Error('yamlInline: undefined value');
  const doc = new Document(value, { version: '1.1', customTags: withoutMergeTag });
  quoteMergeKeys(doc);
  return doc.toString({ lineWidth: 0, collectionStyle: 'flow', defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }).trimEnd();
}

/** Parse a (possibly multi-document) YAML stream back to plain values; throws on any YAML error. */
export function parseYamlStream(text: string): unknown[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  if (!Array.isArray(docs)) return [];
  const out: unknown[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
    const js = d.toJS({ maxAliasCount: -1 });
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

export function isPlainMapNode(node: unknown): boolean {
  return isMap(node);
}
