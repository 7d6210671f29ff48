/**
 * docs/reference/environment.md: every field of the environment format, read off
 * schemas/environment.schema.json (path, type, whether required, default, allowed values,
 * description) with an example from the test fixtures' environment files where one sets it.
 *
 * Structural definitions (`$defs` with properties: a node pool, a workload …) are inlined where they
 * are used; the others (a CIDR, an SSM reference, a quantity …) are value types, listed once at the
 * end and linked from every field of that type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { code, compareText, escapeText, fence, generatedPage, LINE_WIDTH, listItem, wrap, type Page } from './markdown.js';

export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  uniqueItems?: boolean;
  default?: unknown;
  examples?: unknown[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
  title?: string;
  $defs?: Record<string, SchemaNode>;
}

export interface Field {
  /** Document path: `cluster.datastore.type`, `nodePools[].name`, `addons.<name>.values`. */
  path: string;
  node: SchemaNode;
  required: boolean;
}

/** Paths as list of segments: a key, `[]` (any list item) or `<name>` (any map key). */
const segments = (path: string): string[] => path.split(/\.|(?=\[\])/).filter((s) => s !== '');

export class EnvironmentSchema {
  readonly defs: Record<string, SchemaNode>;
  constructor(readonly root: SchemaNode) {
    this.defs = root.$defs ?? {};
  }

  defName(ref: string): string {
    return ref.replace(/^#\/\$defs\//, '');
  }

  /**
   * A definition is a value type (listed once, linked, not inlined) unless it is a map of several
   * properties: a single-key map such as `{ ssm: /name }` reads as one value.
   */
  isValueType(name: string): boolean {
    return Object.keys(this.defs[name]?.properties ?? {}).length < 2;
  }

  /** A node with a structural $ref resolved (its own description wins over the definition's). */
  resolve(node: SchemaNode): SchemaNode {
    if (!node.$ref) return node;
    const name = this.defName(node.$ref);
    if (this.isValueType(name)) return node;
    const { $ref: _, ...own } = node;
    return { ...this.resolve(this.defs[name]!), ...own };
  }

  /** Every field, depth first in the schema's order. */
  fields(): Field[] {
    const out: Field[] = [];
    const walk = (node: SchemaNode, path: string, required: boolean, depth: number): void => {
      const n = this.resolve(node);
      if (path !== '') out.push({ path, node: n, required });
      if (depth > 12) return;
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, path ? `${path}.${k}` : k, (n.required ?? []).includes(k), depth + 1);
      if (typeof n.additionalProperties === 'object' && this.resolve(n.additionalProperties).properties) walk(n.additionalProperties, `${path}.<name>`, false, depth + 1);
      if (n.items && this.resolve(n.items).properties && !n.items.$ref?.endsWith('/' + '')) for (const [k, v] of Object.entries(this.resolve(n.items).properties!)) walk(v, `${path}[].${k}`, (this.resolve(n.items).required ?? []).includes(k), depth + 1);
    };
    walk(this.root, '', true, 0);
    return out;
  }

  /** The type in words, value types as links: `string`, `list of [cidr](#cidr)`, `map of name → …`. */
  typeText(node: SchemaNode, link = true): string {
    if (node.$ref) {
      const name = this.defName(node.$ref);
      if (this.isValueType(name)) return link ? `[${name}](#${name.toLowerCase()})` : name;
      return this.typeText(this.resolve(node), link);
    }
    if (node.if && node.then && node.else) return `${this.typeText(node.then, link)} or ${this.typeText(node.else, link)}`;
    const alternatives = node.anyOf ?? node.oneOf;
    if (alternatives) return alternatives.map((a) => this.typeText(a, link)).join(' or ');
    const type = Array.isArray(node.type) ? node.type.join(' or ') : node.type;
    if (type === 'array') return `list of ${node.items ? this.typeText(node.items, link) : 'any'}`;
    if (type === 'object' || node.properties || node.additionalProperties) {
      if (node.properties) return 'map';
      if (typeof node.additionalProperties === 'object') return `map of name → ${this.typeText(node.additionalProperties, link)}`;
      return node.additionalProperties === false ? 'empty map' : 'map (free-form)';
    }
    if (!type && (node.enum || node.const !== undefined)) return [...new Set([...(node.enum ?? []), ...(node.const !== undefined ? [node.const] : [])].map((v) => (v === null ? 'null' : typeof v)))].join(' or ');
    return type ?? 'any';
  }

  /**
   * What the schema allows beyond the type: enum values, patterns, bounds. A pattern too long for a
   * line is said to be "below" and added to `blocks`, to be shown as a code block.
   */
  constraints(node: SchemaNode, blocks: string[] = []): string[] {
    const out: string[] = [];
    if (node.enum) out.push(`one of ${node.enum.map((v) => code(String(v))).join(', ')}`);
    if (node.const !== undefined) out.push(`exactly ${code(String(node.const))}`);
    if (node.pattern && node.pattern.length <= LONG_PATTERN) out.push(`matching ${code(node.pattern)}`);
    else if (node.pattern) {
      out.push('matching the pattern below');
      blocks.push(node.pattern);
    }
    if (node.format) out.push(`format ${node.format}`);
    if (node.minimum !== undefined || node.maximum !== undefined) out.push(range(node.minimum, node.maximum, ''));
    if (node.minLength === 1 && node.maxLength === undefined) out.push('not empty');
    else if (node.minLength !== undefined || node.maxLength !== undefined) out.push(range(node.minLength, node.maxLength, ' characters'));
    if (node.minItems !== undefined || node.maxItems !== undefined) out.push(range(node.minItems, node.maxItems, ' items'));
    if (node.minProperties !== undefined) out.push(`at least ${node.minProperties} ${node.minProperties === 1 ? 'key' : 'keys'}`);
    if (node.uniqueItems) out.push('no item twice');
    if (node.propertyNames?.pattern) out.push(`keys matching ${code(node.propertyNames.pattern)}`);
    if (node.additionalProperties === false && node.properties) out.push('no other keys');
    if (node.items && !node.items.$ref) out.push(...this.constraints(node.items, blocks).map((c) => `items ${c}`));
    return out;
  }
}

/** Patterns longer than this are shown as a code block, not inline. */
const LONG_PATTERN = 90;

function range(min: number | undefined, max: number | undefined, unit: string): string {
  if (min !== undefined && max !== undefined) return `${min}–${max}${unit}`;
  return min !== undefined ? `at least ${min}${unit}` : `at most ${max}${unit}`;
}

/**
 * The default a field's description states, or the schema's `default`: "(default 2)", "Default 300.",
 * "(default: the bucket's)", or an allowed value followed by "(default)".
 */
export function defaultOf(node: SchemaNode): string | undefined {
  if (node.default !== undefined) return code(JSON.stringify(node.default));
  const d = node.description ?? '';
  const m = /(?:\(|^|\.\s)default:?\s([^;)]+?)(?:[;)]|\.(?:\s|$)|$)/i.exec(d);
  if (m) return escapeText(m[1]!.replace(/,\s.*$/, '').trim());
  for (const v of node.enum ?? []) if (new RegExp(`\\b${String(v).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(default\\)`).test(d)) return code(String(v));
  return undefined;
}

/** Environment files of the test fixtures, parsed (as written: bases not merged, SSM references kept). */
export function fixtureDocuments(root: string, dirs: readonly string[]): { file: string; data: unknown }[] {
  const out: { file: string; data: unknown }[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml')).sort();
    } catch {
      continue;
    }
    for (const f of names) {
      try {
        out.push({ file: `${dir}/${f}`, data: parse(readFileSync(join(root, dir, f), 'utf8')) as unknown });
      } catch {
        // A fixture that does not parse (an invalid one) gives no example.
      }
    }
  }
  return out;
}

/** The first value at `path` in the documents (a `[]` matches any list item, a `<name>` any map key). */
export function exampleAt(docs: readonly { file: string; data: unknown }[], path: string): { file: string; value: unknown } | undefined {
  const segs = segments(path);
  const find = (v: unknown, i: number): unknown => {
    if (i === segs.length) return v;
    const s = segs[i]!;
    if (s === '[]') {
      if (!Array.isArray(v)) return undefined;
      for (const item of v) {
        const r = find(item, i + 1);
        if (r !== undefined) return r;
      }
      return undefined;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const entries = s === '<name>' ? Object.values(v as Record<string, unknown>) : [(v as Record<string, unknown>)[s]];
    for (const e of entries) {
      const r = e === undefined || e === null ? undefined : find(e, i + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  for (const d of docs) {
    const value = find(d.data, 0);
    if (value !== undefined) return { file: d.file, value };
  }
  return undefined;
}

const EXAMPLE_WIDTH = 72;

function inline(value: unknown): string {
  const s = stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim().replace(/\s*\n\s*/g, ' ');
  return [...s].length > EXAMPLE_WIDTH ? `${[...s].slice(0, EXAMPLE_WIDTH - 1).join('')}…` : s;
}

/** docs/reference/environment.md. `docs` are the fixture environment files examples are taken from. */
export function environmentPage(schemaRoot: SchemaNode, docs: readonly { file: string; data: unknown }[]): Page {
  const schema = new EnvironmentSchema(schemaRoot);
  const fields = schema.fields();
  const body: string[] = [];
  const top = fields.filter((f) => !f.path.includes('.') && !f.path.includes('['));
  for (const t of top) {
    body.push(`## ${t.path}`, '');
    for (const f of fields.filter((x) => x.path === t.path || x.path.startsWith(`${t.path}.`) || x.path.startsWith(`${t.path}[]`))) {
      if (f !== t) body.push(`### ${code(f.path)}`, '');
      body.push(...fieldLines(schema, f, docs), '');
    }
  }
  body.push('## Value types', '');
  body.push(...wrap('The types fields refer to by name. A field of one of these types is described by it as well as by its own text.'), '');
  for (const name of Object.keys(schema.defs).filter((n) => schema.isValueType(n)).sort(compareText)) {
    const def = schema.defs[name]!;
    body.push(`### ${name}`, '');
    body.push(...listItem(`Type: ${schema.typeText({ ...def, $ref: undefined })}`));
    const blocks: string[] = [];
    for (const c of valueTypeConstraints(schema, def, blocks)) body.push(...listItem(`Allowed: ${c}`));
    // A single-key map (`{ secret: /name }`): how it is written, and its one key's own rules and text, which
    // "map, no other keys" alone leaves unsaid.
    const [key, only] = Object.entries(def.properties ?? {}).length === 1 ? Object.entries(def.properties!)[0]! : [];
    if (key !== undefined && only) {
      body.push(...listItem(`Written: ${code(`{ ${key}: … }`)}`));
      for (const c of schema.constraints(only, blocks)) body.push(...listItem(`Allowed: \`${key}\` ${c}`));
    }
    for (const b of blocks) body.push('', ...fence('', b, LINE_WIDTH - 2).map((l) => `  ${l}`), '');
    body.push('');
    if (def.description) body.push(...wrap(escapeText(def.description)), '');
    if (key !== undefined && only?.description) body.push(...wrap(escapeText(only.description)), '');
  }
  const intro = [
    ...wrap(
      `${escapeText(schemaRoot.description ?? '')} Every field below comes from \`schemas/environment.schema.json\` ` +
        '(JSON Schema 2020-12): a key that is not listed is an error, with "did you mean". Editors complete and check ' +
        'a file through the schema comment on its first line.',
    ),
    '',
    ...wrap(
      'Paths read as the error messages print them: `nodePools[].name` is the name of any node pool, ' +
        '`addons.<name>.values` the values of any add-on. Defaults are the ones the descriptions state; examples come ' +
        'from the environment files of the test fixtures (`test/fixtures/examples/`, `test/fixtures/valid/`). A pattern ' +
        'too long for one line is shown as a code block, `↪` continuing its line.',
    ),
  ];
  return generatedPage('docs/reference/environment.md', 'Environment file fields', intro, body);
}

function fieldLines(schema: EnvironmentSchema, f: Field, docs: readonly { file: string; data: unknown }[]): string[] {
  const n = f.node;
  const out: string[] = [];
  out.push(...listItem(`Type: ${schema.typeText(n)}${f.required ? ', required' : ''}`));
  const blocks: string[] = [];
  const constraints = schema.constraints(n.$ref ? {} : n, blocks);
  if (constraints.length > 0) out.push(...listItem(`Allowed: ${constraints.join('; ')}`));
  for (const b of blocks) out.push('', ...fence('', b, LINE_WIDTH - 2).map((l) => `  ${l}`), '');
  const def = defaultOf(n);
  if (def) out.push(...listItem(`Default: ${def}`));
  const given = n.examples?.[0];
  const example = given !== undefined ? { file: 'the schema', value: given } : isLeaf(schema, n) ? exampleAt(docs, f.path) : undefined;
  if (example) out.push(...listItem(`Example: ${code(inline(example.value))} (${code(example.file)})`));
  if (n.description) out.push('', ...wrap(escapeText(n.description)));
  return out;
}

/** A field whose value is written in one piece (not a map or list of maps, which have fields of their own). */
function isLeaf(schema: EnvironmentSchema, n: SchemaNode): boolean {
  const r = schema.resolve(n);
  if (r.properties) return false;
  if (r.items && schema.resolve(r.items).properties) return false;
  if (typeof r.additionalProperties === 'object' && schema.resolve(r.additionalProperties).properties) return false;
  return true;
}

function valueTypeConstraints(schema: EnvironmentSchema, def: SchemaNode, blocks: string[]): string[] {
  const parts = [def, def.then, def.else, ...(def.anyOf ?? []), ...(def.oneOf ?? [])].filter((x): x is SchemaNode => x !== undefined && !x.$ref);
  return [...new Set(parts.flatMap((p) => schema.constraints(p, blocks)))];
}
