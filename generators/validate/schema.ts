/**
 * JSON Schema layer: the resolved environment against the environment schema (draft 2020-12; composed
 * from the registered distributions and engines, generators/schema/compose.ts, and committed as
 * schemas/environment.schema.json), every error at once, each turned into a positioned diagnostic with a hint.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { stringify } from 'yaml';
import { join } from 'node:path';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { fromPointer, getAt, toPointer, type DocPath } from '../lib/paths.js';
import { hintFor } from '../lib/suggest.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import { environmentSchemaText } from '../schema/compose.js';
import { engines } from '../engines/registry.js';
import type { Diagnostic } from './diagnostics.js';
import { BUILD_DIR, PROJECT_ROOT, projectUrl } from '../lib/project-root.js';

export const ENVIRONMENT_SCHEMA_PATH = projectUrl('schemas/environment.schema.json');

/** What a value of each named definition looks like, for messages. */
const DEF_NAMES: Record<string, string> = {
  dnsLabel: 'a DNS label (lowercase letters, digits and "-", at most 63 characters)',
  cidr: 'an IPv4 CIDR such as 10.0.0.0/16',
  ipv4: 'an IPv4 address such as 10.0.1.10',
  cron: 'a cron schedule with five fields, such as "0 */6 * * *"',
  quantity: 'a Kubernetes quantity such as 250m, 512Mi or 2',
};

/** The options the environment validator is compiled with, at run time or into standalone code. */
const AJV_OPTIONS = { allErrors: true, strict: true, strictTypes: false, strictRequired: false, verbose: true } as const;

/** ajv is CommonJS: loaded (synchronously) only when a validator has to be compiled. */
const require = createRequire(import.meta.url);

/** Where the build puts the validator compiled to standalone code (generators/build/build.mjs). */
export const PRECOMPILED_DIR = join(PROJECT_ROOT, BUILD_DIR, 'ajv');

/**
 * The file name of the standalone validator for this schema text: a hash of the text, the options
 * and ajv's version, so a validator compiled from another schema (or ajv) is never used.
 */
export function precompiledName(schemaText: string): string {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const hash = createHash('sha256').update(JSON.stringify([ajvVersion, AJV_OPTIONS])).update(schemaText).digest('hex');
  return `environment-${hash.slice(0, 16)}.cjs`;
}

/** Compile the schema now (about 0.3 s). `source` keeps the code for ajv's standalone output. */
export function compileEnvironmentValidator(schemaText: string, source = false): { ajv: Ajv2020; validate: ValidateFunction } {
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const ajv = new Ajv({ ...AJV_OPTIONS, ...(source ? { code: { source: true, esm: false } } : {}) });
  return { ajv, validate: ajv.compile(JSON.parse(schemaText) as object) };
}

/** The validator as standalone CommonJS code (what the build writes to PRECOMPILED_DIR). */
export function environmentValidatorCode(schemaText: string): string {
  const { ajv, validate } = compileEnvironmentValidator(schemaText, true);
  const standalone = (require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js')).default;
  return standalone(ajv, validate);
}

/** A validator written by environmentValidatorCode (about 20 ms to load). */
export function loadPrecompiledValidator(file: string): ValidateFunction {
  const m = require(file) as ValidateFunction & { default?: ValidateFunction };
  return m.default ?? m;
}

let compiled: { text: string; validate: ValidateFunction } | undefined;

/**
 * The environment schema's validator: the build's standalone code when it was built from this
 * schema (the registered distributions and engines compose it; a registry that differs from the
 * build's gets another name), else compiled now.
 */
export function environmentValidator(): ValidateFunction {
  const text = environmentSchemaText();
  if (compiled?.text !== text) {
    const file = join(PRECOMPILED_DIR, precompiledName(text));
    compiled = { text, validate: existsSync(file) ? loadPrecompiledValidator(file) : compileEnvironmentValidator(text).validate };
  }
  return compiled.validate;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** A document path as the reference page's headings name it: `nodePools[].nodes[].ip` (the top level: `the top level`). */
const referenceSection = (path: DocPath): string =>
  path.length === 0 ? 'the top level' : path.map((p, i) => (typeof p === 'number' ? '[]' : i === 0 ? p : `.${p}`)).join('');

type SchemaNode = { $ref?: string; enum?: unknown[]; const?: unknown; type?: string | string[]; pattern?: string; minimum?: number; maximum?: number; description?: string; items?: SchemaNode; required?: string[]; properties?: Record<string, SchemaNode> };

let root: { text: string; schema: { $defs?: Record<string, SchemaNode> } } | undefined;
/**
 * A `#/$defs/…` reference of the environment schema, followed (the composed schema parsed once per
 * composition, on the first message that needs it).
 */
function deref(s: SchemaNode | undefined): SchemaNode | undefined {
  if (!s?.$ref?.startsWith('#/$defs/')) return s;
  const text = environmentSchemaText();
  if (root?.text !== text) root = { text, schema: JSON.parse(text) as { $defs?: Record<string, SchemaNode> } };
  return deref(root.schema.$defs?.[s.$ref.slice('#/$defs/'.length)]);
}

const typesOf = (s: SchemaNode | undefined): string[] => (s?.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

/** The values a missing key may take, when the schema lists them. */
function allowedValues(s: SchemaNode | undefined): string[] | undefined {
  const d = deref(s);
  if (Array.isArray(d?.enum)) return d.enum.map(String);
  if (d?.const !== undefined) return [String(d.const)];
  return undefined;
}

/** What to write instead, for a value of the wrong type that is a likely slip (quotes, a missing list). */
function typeHint(value: unknown, expected: string, parent: SchemaNode | undefined, key: string | number | undefined, source?: string): string | undefined {
  const written = key === undefined || typeof key === 'number' ? '' : `${key}: `;
  // Quoted, the number would still not be the string wanted (kubernetesVersion: 1.36 for "1.36.3"): say the form.
  const text = source ?? String(value);
  if (typeof value === 'number' && expected === 'string' && parent?.pattern !== undefined && !new RegExp(parent.pattern, 'u').test(text))
    return `write it in full and quoted: ${written}${text} is not of the form ${parent.pattern}${parent.description ? ` (${parent.description})` : ''}`;
  // YAML read the number as another text than the file's (leading zeros, trailing zeros after the point): quote what was written.
  if (typeof value === 'number' && expected === 'string' && source !== undefined)
    return `quote it as written (${written}"${source}"): without quotes, YAML reads ${source} as the number ${String(value)}`;
  if (typeof value === 'string') {
    if ((expected === 'integer' && /^-?[0-9]+$/.test(value)) || (expected === 'number' && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) || (expected === 'boolean' && /^(true|false)$/.test(value)))
      return `remove the quotes (${written}${value}): in quotes, YAML reads it as text`;
  }
  if (typeof value === 'string' && expected === 'boolean' && /^(yes|no|y|n|on|off)$/i.test(value))
    return `write ${written}${/^(yes|y|on)$/i.test(value) ? 'true' : 'false'}: environment files are YAML 1.2, where ${value} is text, not a boolean (YAML 1.1's yes/no/on/off)`;
  if ((typeof value === 'number' || typeof value === 'boolean') && expected === 'string') return `quote it (${written}"${String(value)}"): without quotes, YAML reads it as a ${typeof value}`;
  if (typeof value === 'string' && (expected === 'integer' || expected === 'number')) return numberHint(value, written, parent);
  if (expected === 'array' && isRecord(value)) return listForMapHint(value, written, deref(parent?.items));
  if (expected === 'object' && Array.isArray(value)) return mapForListHint(value, written, parent);
  if (expected === 'object' && value !== null && typeof value !== 'object') return mapForScalarHint(value, written, parent);
  if (expected === 'string' && isRecord(value) && Object.keys(value).length === 1 && typeof Object.values(value)[0] === 'string')
    return `write the value alone: ${written}${String(Object.values(value)[0])} (a string here, not a map)`;
  if (expected === 'array' && value !== null && typeof value !== 'object') {
    const items = deref(parent?.items);
    const shown = typeof value === 'string' ? value : String(value);
    if (items && typesOf(items).includes('object')) {
      const props = items.properties ?? {};
      const slot = (items.required ?? []).find((k) => typesOf(deref(props[k])).some((t) => t === typeof value || (t === 'integer' && Number.isInteger(value))));
      const fields = (items.required ?? []).map((k) => `${k}: ${k === slot ? shown : '…'}`).join(', ');
      return `write a list of maps: ${written}[{ ${fields} }]`;
    }
    return `write ${written}[${shown}]: a list, even of one item`;
  }
  return undefined;
}

/** Numbers written as words (`count: two`): the digits meant. */
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

/** A value shown as YAML writes it in one line (flow style), cut short when long. */
function flow(value: unknown): string {
  const text = stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

/**
 * Text where a number goes: a word for a number (`two`), a number with a suffix (`8080/TCP`, `3 nodes`),
 * anything else: the number alone, in digits, with an example in range.
 */
function numberHint(value: string, written: string, parent: SchemaNode | undefined): string {
  const word = NUMBER_WORDS.indexOf(value.trim().toLowerCase());
  if (word !== -1) return `write it in digits: ${written}${word} (a number, not a word: YAML reads '${value}' as text)`;
  const proto = /^\s*([0-9]+)\s*\/\s*(tcp|udp|sctp)\s*$/i.exec(value);
  if (proto)
    return `write the number alone: ${written}${proto[1]}; the protocol is a key of its own (protocol: ${proto[2]!.toUpperCase()}, TCP when left out), e.g. { name: http, port: ${proto[1]}, protocol: ${proto[2]!.toUpperCase()} }`;
  const lead = /^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*[^0-9\s]/.exec(value);
  if (lead) return `write the number alone: ${written}${lead[1]} (no unit or suffix after it)`;
  const example = parent?.minimum !== undefined && parent.minimum > 1 ? parent.minimum : 1;
  return `write a number in digits, e.g. ${written}${example}`;
}

/**
 * A map where a list goes. A map of the item's own keys is one item written without its "- "
 * (`taints: { key: …, effect: … }`): the same in brackets. Otherwise each key of the map becomes an
 * item (`ports: { http: 8080 }` → `[{ name: http, port: 8080 }]`, `manages: { a: …, b: … }` → `[a, b]`).
 */
function listForMapHint(value: Record<string, unknown>, written: string, items: SchemaNode | undefined): string {
  const keys = Object.keys(value);
  const props = items?.properties ?? {};
  const block = written === '' ? '' : ` (in block style: ${written.trim()} on its own line, then "- " before the item's first key)`;
  if (keys.length > 0 && keys.every((k) => k in props)) return `write a list (one item here): ${written}[${flow(value)}]${block}`;
  if (items && typesOf(items).includes('object')) {
    const required = items.required ?? [];
    const nameKey = required.includes('name') ? 'name' : required[0];
    const other = required.find((k) => k !== nameKey);
    const shown = keys.slice(0, 2).map((k) => {
      const v = value[k];
      const item = nameKey === undefined ? {} : { [nameKey]: k, ...(other !== undefined && !isRecord(v) ? { [other]: v } : isRecord(v) ? v : {}) };
      return flow(item);
    });
    return `write a list of maps, one per item: ${written}[${shown.join(', ')}${keys.length > 2 ? ', …' : ''}]`;
  }
  return `write a list: ${written}[${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''}]`;
}

/**
 * A list where a map goes. Items that are each a one-key map (`- requests: …`, `- limits: …`) are one map
 * written with "- " before each key: the same without the dashes. `KEY=value` items become `KEY: value`.
 */
function mapForListHint(value: unknown[], written: string, parent: SchemaNode | undefined): string {
  if (value.length > 0 && value.every((v) => isRecord(v) && Object.keys(v).length === 1))
    return `write one map, without "- " before each key: ${written}${flow(Object.assign({}, ...(value as Record<string, unknown>[])))}`;
  if (value.length > 0 && value.every((v) => typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_./-]*=/.test(v)))
    return `write a map of key: value: ${written}${flow(Object.fromEntries((value as string[]).map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)])))}`;
  if (value.length > 0 && value.every((v) => typeof v === 'string') && parent?.properties === undefined)
    return `write a map keyed by name: ${written}{ ${(value as string[]).slice(0, 3).map((v) => `${v}: {}`).join(', ')}${value.length > 3 ? ', …' : ''} }`;
  const keys = Object.keys(parent?.properties ?? {}).slice(0, 3);
  return `write a map (key: value, no "- "): ${written}{ ${keys.length > 0 ? keys.map((k) => `${k}: …`).join(', ') : 'key: value'} }`;
}

/** Keys as Kubernetes writes them where this schema has its own shorter form (a probe's tcpSocket is `tcp: true`). */
const KEY_SYNONYMS: Record<string, (allowed: string[]) => string | undefined> = {
  tcpSocket: (allowed) => (allowed.includes('tcp') ? "Kubernetes' tcpSocket is written tcp: true here (with port: N for another port than the first)" : undefined),
  exec: (allowed) => (allowed.includes('httpGet') ? 'probes here are httpGet: /path or tcp: true; a command probe is not offered' : undefined),
};

/** A top-level key an engine knows its users write (its name for its sync policy): where that setting goes (Engine.schema.keyHint). */
const engineKeyHint = (key: string, value: unknown): string | undefined => engines().map((e) => e.schema.keyHint?.(key, value)).find((h) => h !== undefined);

/**
 * A scalar where a map goes: kubectl's taint form (`key=value:Effect`) spelt out as the taint map; a value for the
 * map's only string-taking key (`egressTo: [api]` → `{ workload: api }`); `true` for a map whose required keys have
 * one allowed value each (`gpu: true` → `{ vendor: nvidia }`); otherwise the keys the map takes.
 */
function mapForScalarHint(value: unknown, written: string, parent: SchemaNode | undefined): string {
  const props = parent?.properties ?? {};
  const taint = typeof value === 'string' ? /^([^=:\s]+)(?:=([^:\s]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(value) : null;
  if (taint && 'key' in props && 'effect' in props)
    return `write the taint as a map: ${written}{ key: ${taint[1]}${taint[2] ? `, value: ${taint[2]}` : ''}, effect: ${taint[3]} } (kubectl's key=value:Effect form is not read here)`;
  const required = parent?.required ?? [];
  if (typeof value === 'boolean' && required.length > 0) {
    const fills = required.map((k) => [k, allowedValues(props[k])?.[0]] as const);
    if (fills.every(([, v]) => v !== undefined)) return `write a map: ${written}{ ${fills.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  }
  const stringKeys = Object.keys(props).filter((k) => typesOf(deref(props[k])).includes('string'));
  if (typeof value === 'string' && stringKeys.length >= 1) return `write a map: ${written}{ ${stringKeys[0]}: ${value} }${stringKeys.length > 1 ? ` (or ${stringKeys.slice(1).map((k) => `${k}: …`).join(', ')})` : ''}`;
  const keys = Object.keys(props).slice(0, 3);
  return `write a map: ${written}{ ${keys.length > 0 ? keys.map((k) => `${k}: …`).join(', ') : 'key: value'} }`;
}

/**
 * A pattern value one edit from the form: a path without its leading '/', a release without its leading 'v', an image
 * repository with capitals (registries take lowercase repository names; a tag may have capitals), a URL with a path.
 */
function patternFixHint(value: unknown, pattern: string, written: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const re = new RegExp(pattern, 'u');
  if (pattern === '^/') return `an absolute path: ${written}/${value}`;
  // A name in a hierarchy written without its leading slash (`odp/prod/api-key` for an SSM parameter name).
  if (pattern.startsWith('^/') && !value.startsWith('/') && re.test(`/${value}`)) return `it starts with /: ${written}/${value}`;
  // A character outside a single character class (`^/[A-Za-z0-9_./-]+$`): which ones, and what the class allows.
  const only = /^\^(\/?)\[([^\]]+)\]\+\$$/.exec(pattern);
  if (only) {
    const bad = [...new Set([...value.slice(only[1]!.length)].filter((ch) => !new RegExp(`^[${only[2]}]$`, 'u').test(ch)))];
    if (bad.length > 0) return `${bad.map((ch) => (ch === ' ' ? 'a space' : `'${ch}'`)).join(', ')} cannot appear in it (allowed: ${only[2]})`;
  }
  if (re.test(`v${value}`)) return `write it with the leading v: ${written}v${value}`;
  const at = value.search(/[:@][^/]*$/);
  const lowered = at === -1 ? value.toLowerCase() : value.slice(0, at).toLowerCase() + value.slice(at);
  if (pattern.includes('@sha256') && lowered !== value && re.test(lowered)) return `image repositories are lowercase: ${written}${lowered}`;
  const url = /^(https?:\/\/[^/?#]+)[/?#]/.exec(value);
  if (url && re.test(url[1]!)) return `write the URL without a path or trailing slash: ${written}${url[1]}`;
  return undefined;
}

/** A quantity with a unit Kubernetes does not have (GB, MB, cores): the one it means. */
function quantityHint(value: unknown, written: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^([0-9.]+)\s*([KMGTP])B$/i.exec(value.trim());
  if (m) return `${m[2]!.toUpperCase()}B is not a Kubernetes unit: write ${written}${m[1]}${m[2]!.toUpperCase()}i (binary, powers of 1024, as Kubernetes shows sizes) or ${m[1]}${m[2]!.toUpperCase()} (decimal)`;
  const c = /^([0-9.]+)\s*(cores?|cpus?|vcpus?)$/i.exec(value.trim());
  if (c) return `write cores as a plain number or in millicores: ${written}${c[1]} or ${Math.round(Number(c[1]) * 1000)}m`;
  return undefined;
}

/**
 * Other names of an allowed value, as users write them: the CPU architectures as AWS (`x86_64`,
 * `arm64` in DescribeInstanceTypes' SupportedArchitectures), the kernel (`aarch64`) and marketing
 * (`graviton`) name them; Kubernetes' node label kubernetes.io/arch and this schema say amd64, arm64.
 */
const SYNONYMS: Record<string, string> = {
  x86_64: 'amd64', 'x86-64': 'amd64', x64: 'amd64', x86: 'amd64', intel: 'amd64', amd: 'amd64',
  aarch64: 'arm64', arm: 'arm64', graviton: 'arm64', arm64v8: 'arm64',
};

function synonymHint(value: string, allowed: string[]): string | undefined {
  const meant = SYNONYMS[value.toLowerCase()];
  return meant && allowed.includes(meant) ? `'${value}' is called ${meant} here (Kubernetes' kubernetes.io/arch): write ${meant}` : undefined;
}

/** A name that is no DNS label (`Jobs_Runner`): the label it likely means, lowercased, other characters as '-'. */
function dnsLabelHint(value: unknown, schemaPath: string): string | undefined {
  if (typeof value !== 'string' || !schemaPath.includes('/$defs/dnsLabel/')) return undefined;
  const label = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63).replace(/^-+|-+$/g, '');
  return label !== '' ? `e.g. ${label}` : undefined;
}

/** A URL where a host name goes, or a host name where an https URL goes: what to write instead. */
function urlHint(value: unknown, pattern: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(value);
  if (url && !pattern.includes('://')) return `write the host name alone, without scheme, port or path: ${url[1]!.toLowerCase()}`;
  if (!url && pattern.startsWith('^https://') && /^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(value))
    return `write it as an https URL: https://${value.toLowerCase()}${value.includes(':') ? '' : ':6443'}${value.includes(':') ? '' : ' (6443: the Kubernetes API port)'}`;
  return undefined;
}

/** `key: ` as the file writes the value's key ('' for a list item). */
const writtenKey = (path: DocPath): string => {
  const key = path[path.length - 1];
  return key === undefined || typeof key === 'number' ? '' : `${key}: `;
};

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function defName(schemaPath: string): string | undefined {
  const m = /#\/\$defs\/([A-Za-z]+)\/[a-zA-Z]+$/.exec(schemaPath);
  return m ? DEF_NAMES[m[1]!] : undefined;
}

function toDiagnostic(env: ResolvedEnvironment, e: ErrorObject): Diagnostic | undefined {
  const path = fromPointer(e.instancePath);
  const at = (p: (string | number)[], key = false): Pick<Diagnostic, 'file' | 'line' | 'col'> => {
    const pos = locate(env, p, key);
    return { file: pos.file, line: pos.line, col: pos.col };
  };
  const base = { severity: 'error' as const, rule: `schema.${e.keyword}` };
  const parent = e.parentSchema as { properties?: Record<string, unknown>; description?: string } | undefined;
  switch (e.keyword) {
    case 'if':
      return undefined; // the failing branch reports the real problem
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      if (e.schemaPath.startsWith('#/$defs/ssmRef/') && key === 'secret') {
        const p = [...path, key];
        return {
          ...base,
          ...at(p, true),
          path: p,
          message: 'a secret reference { secret } is not taken here: this value is written into the rendered files in plain, and an SSM SecureString never is',
          hint: 'write { ssm: /path } for a non-secret String parameter (resolved from the lock), or the value itself; a secret goes where the schema takes { secret }',
        };
      }
      const allowed = Object.keys(parent?.properties ?? {});
      const p = [...path, key];
      return {
        ...base,
        ...at(p, true),
        path: p,
        message: `unknown key '${key}'; expected one of: ${allowed.join(', ')}`,
        hint: KEY_SYNONYMS[key]?.(allowed) ?? (path.length === 0 ? engineKeyHint(key, getAt(env.data, p)) : undefined) ?? hintFor(key, allowed) ?? `docs/reference/environment.md describes each key of ${referenceSection(path)}`,
      };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      // { secret } where { ssm } is wanted: the additionalProperties finding says why.
      if (e.schemaPath.startsWith('#/$defs/ssmRef/') && key === 'ssm' && isRecord(getAt(env.data, path)) && 'secret' in (getAt(env.data, path) as object)) return undefined;
      const allowed = allowedValues((parent as SchemaNode | undefined)?.properties?.[key]);
      return {
        ...base,
        ...at(path, true),
        path,
        message: `missing required key '${key}'${allowed ? ` (one of: ${allowed.join(', ')})` : ''}`,
        hint: allowed ? `add ${key}: ${allowed[0]} (or ${allowed.slice(1).join(', ') || 'nothing else'})` : `add ${key}: here; docs/reference/environment.md describes ${referenceSection([...path, key])}`,
      };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const value = getAt(env.data, path);
      return {
        ...base,
        ...at(path),
        path,
        message: `${describe(value)} is not allowed; expected one of: ${allowed.join(', ')}`,
        hint: typeof value === 'string' ? (synonymHint(value, allowed) ?? hintFor(value, allowed)) : undefined,
      };
    }
    case 'type': {
      const expected = (e.params as { type: string }).type;
      const value = getAt(env.data, path);
      if (e.schemaPath.startsWith('#/$defs/secretRef/') && typeof value !== 'object')
        return {
          ...base,
          ...at(path),
          path,
          message: `expected a secret reference { secret: /ssm/parameter }, got a plain value: secrets are never written in the environment`,
          hint: 'store the value as an SSM SecureString (aws ssm put-parameter --type SecureString) and write { secret: /odp/<env>/… } here; remove the value from git history if it was real',
        };
      const hint = typeHint(value, expected, parent as SchemaNode | undefined, path[path.length - 1], env.origins.get(toPointer(path))?.written);
      return { ...base, ...at(path), path, message: `expected ${expected}, got ${describe(value)}`, ...(hint ? { hint } : {}) };
    }
    case 'pattern': {
      const value = getAt(env.data, path);
      const name = defName(e.schemaPath);
      const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
      if (propertyName !== undefined) {
        const p = [...path, propertyName];
        return { ...base, ...at(p, true), path: p, message: `key '${propertyName}' is not ${name ?? `of the form ${(e.params as { pattern: string }).pattern}`}` };
      }
      return {
        ...base,
        ...at(path),
        path,
        message: `${describe(value)} is not ${name ?? `of the form ${(e.params as { pattern: string }).pattern}`}`,
        hint:
          urlHint(value, (e.params as { pattern: string }).pattern) ??
          (e.schemaPath.includes('/$defs/quantity/') ? quantityHint(value, writtenKey(path)) : undefined) ??
          patternFixHint(value, (e.params as { pattern: string }).pattern, writtenKey(path)) ??
          dnsLabelHint(value, e.schemaPath) ??
          parent?.description,
      };
    }
    case 'propertyNames':
      return undefined; // reported by the inner keyword with propertyName
    case 'minimum':
    case 'maximum': {
      const value = getAt(env.data, path);
      const range = parent as SchemaNode | undefined;
      const bounds = range?.minimum !== undefined && range.maximum !== undefined ? `from ${range.minimum} to ${range.maximum}` : range?.minimum !== undefined ? `${range.minimum} or more` : `at most ${range?.maximum}`;
      return { ...base, ...at(path), path, message: `${describe(value)} is out of range: ${e.message ?? 'is invalid'}`, hint: `a number ${bounds}` };
    }
    default: {
      const value = getAt(env.data, path);
      return { ...base, ...at(path), path, message: `${describe(value)}: ${e.message ?? 'is invalid'}` };
    }
  }
}

/** The key sets of a oneOf whose branches are forms of one map (each branch: the keys it requires), else undefined. */
function keyForms(e: ErrorObject): string[][] | undefined {
  if (e.keyword !== 'oneOf' || !Array.isArray(e.schema)) return undefined;
  const forms = (e.schema as { required?: unknown }[]).map((b) => (Array.isArray(b.required) ? b.required.map(String) : undefined));
  return forms.every((f): f is string[] => f !== undefined && f.length > 0) ? forms : undefined;
}

/**
 * A map that is none of its forms (a freeze window with schedule and start): one error naming the keys it has and the
 * forms, in place of Ajv's umbrella ("must match exactly one schema in oneOf") and its branches' errors ("must NOT be
 * valid", a required key of the form the map was not meant to be).
 */
function formDiagnostic(env: ResolvedEnvironment, e: ErrorObject, forms: string[][]): Diagnostic {
  const path = fromPointer(e.instancePath);
  const pos = locate(env, path, false);
  const value = getAt(env.data, path);
  const formKeys = new Set(forms.flat());
  const has = isRecord(value) ? Object.keys(value).filter((k) => formKeys.has(k)) : [];
  const list = (ks: string[]): string => (ks.length > 1 ? `${ks.slice(0, -1).join(', ')} and ${ks[ks.length - 1]}` : ks.join(''));
  const written = forms.map(list);
  return {
    severity: 'error',
    rule: 'schema.oneOf',
    file: pos.file,
    line: pos.line,
    col: pos.col,
    path,
    message: `${has.length > 0 ? `has ${list(has)}` : `has none of ${[...formKeys].join(', ')}`}: it takes exactly one of the forms ${written.join(', or ')}`,
    hint: 'keep the keys of one form and remove the others',
  };
}

/** Validate the merged document; errors are positioned in whichever file wrote the value. */
export function validateSchema(env: ResolvedEnvironment, validate: ValidateFunction = environmentValidator()): Diagnostic[] {
  if (validate(env.data)) return [];
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const errors = validate.errors ?? [];
  // A oneOf of key forms reports once, for itself and its branches (formDiagnostic).
  const forms = errors.flatMap((e) => { const f = keyForms(e); return f ? [{ e, f }] : []; });
  const inForm = (e: ErrorObject): boolean => forms.some((x) => e.instancePath === x.e.instancePath && e.schemaPath.startsWith(`${x.e.schemaPath}/`));
  for (const e of errors) {
    if (inForm(e)) continue;
    const form = forms.find((x) => x.e === e);
    const d = form ? formDiagnostic(env, e, form.f) : toDiagnostic(env, e);
    if (!d) continue;
    const key = `${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
