/**
 * Load layer: environment files parsed with source positions, `extends` resolved (maps merge
 * deeply, lists replace). Pure functions of file texts; the only I/O is `readEnvironmentSources`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isAlias, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document } from 'yaml';
import type { DocPath } from '../lib/paths.js';
import { hintFor } from '../lib/suggest.js';
import type { Diagnostic, SourcePos } from '../validate/diagnostics.js';
import { findIndentSlip, type IndentSlip } from './indentation.js';
import { collectOrigins, locateIn, mergeOrigins, type OriginMap } from './source.js';

export const ENV_DIR = 'environments';
export const SCHEMA_COMMENT = '# yaml-language-server: $schema=../schemas/environment.schema.json';

/** Files of an environment directory, keyed by repo-relative path. */
export type SourceFiles = ReadonlyMap<string, string>;

export interface ParsedFile {
  file: string;
  data: unknown;
  origins: OriginMap;
}

export interface ResolvedEnvironment {
  name: string;
  /** Repo-relative path of the environment's own file. */
  file: string;
  /** The file and its bases, most specific first. */
  files: string[];
  /** The merged document (SSM references still unresolved). */
  data: Record<string, unknown>;
  origins: OriginMap;
}

export const envFile = (name: string): string => `${ENV_DIR}/${name}.yaml`;

export function isEnvironmentFileName(f: string): boolean {
  return f.endsWith('.yaml') && !f.startsWith('_') && !f.startsWith('.');
}

/** Read every environment and base file (and SSM lock) below `root`. */
export function readEnvironmentSources(root: string): Map<string, string> {
  const dir = join(root, ENV_DIR);
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.yaml') || f.endsWith('.json')) out.set(`${ENV_DIR}/${f}`, readFileSync(join(dir, f), 'utf8'));
  }
  return out;
}

export function listEnvironmentNames(sources: SourceFiles): string[] {
  return [...sources.keys()]
    .filter((p) => p.startsWith(`${ENV_DIR}/`) && isEnvironmentFileName(p.slice(ENV_DIR.length + 1)))
    .map((p) => p.slice(ENV_DIR.length + 1, -'.yaml'.length))
    .sort();
}

/**
 * Parsed documents of recently parsed texts. A run resolves each environment twice (the fleet index,
 * then its own preparation) and each base once more for every environment extending it; parsing is
 * most of the cold cost of loading. The Document and its LineCounter are only read afterwards
 * (toJS, visits, positions), so sharing them is safe: every call still builds its own data,
 * origins and diagnostics. Bounded (least recently used goes), so 1000 environments do not stay in
 * memory: 100, as many as a render thread renders before it retires (cli/jobs.ts), about 150 KB each
 * for an environment like examples' prod.
 */
const PARSED = new Map<string, { doc: Document; lineCounter: LineCounter }>();
let PARSED_MAX = 100;

/**
 * For the in-memory bench (bench/bench.ts): bound the parse cache to `max` entries (returns the bound
 * it had) and empty it, so that a pass over a set of environments measures what it says: every file
 * parsed (emptied first) or every parse reused (bounded to the set). A bound smaller than the set
 * cycled by a pass misses on every file (least recently used goes first).
 */
export function setParseCacheLimit(max: number): number {
  const before = PARSED_MAX;
  PARSED_MAX = max;
  clearParseCache();
  return before;
}

export function clearParseCache(): void {
  PARSED.clear();
}

function parsedDocument(text: string, keep = true): { doc: Document; lineCounter: LineCounter } {
  const hit = PARSED.get(text);
  if (hit) {
    PARSED.delete(text);
    PARSED.set(text, hit);
    return hit;
  }
  const lineCounter = new LineCounter();
  const parsed = { doc: parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false }), lineCounter };
  if (!keep) return parsed;
  PARSED.set(text, parsed);
  if (PARSED.size > PARSED_MAX) PARSED.delete(PARSED.keys().next().value!);
  return parsed;
}

/**
 * What to build besides the data: `origins: false` leaves the positions out (a reader of values
 * only, such as the fleet index). `keep: false` does not keep the parse of an environment's own file
 * in the cache (one read now and not again soon: kept, it would only push out those that will be).
 */
export interface ParseOptions {
  origins?: boolean;
  keep?: boolean;
}

/**
 * What to do about a YAML syntax error, by the `yaml` library's error code (yaml 2.x
 * `src/errors.ts` ErrorCode). The position is where the parser gave up, which can be after the mistake.
 */
function yamlSyntaxHint(code: string, message: string): string {
  // Inside { … } or [ … ] a plain value ends at , [ ] { }: `path: nodePools[1]` opens a list.
  // `description: a: b`: ': ' inside a plain value starts a map (yaml: "Nested mappings are not allowed in compact mappings").
  if (/nested mappings/i.test(message)) return 'quote the value: a ": " inside an unquoted value starts a map (e.g. description: "nc: a shop")';
  if (/flow/i.test(message)) return 'inside { … } or [ … ], quote a value that contains [ ] { } or a comma (e.g. path: "nodePools[1]"), and close every bracket and brace';
  switch (code) {
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and the closing bracket, brace or quote of the value that starts here or on the lines above';
    case 'TAB_AS_INDENT':
      return 'indent with spaces: YAML does not allow tabs for indentation';
    case 'MULTILINE_IMPLICIT_KEY':
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'a key must fit on one line and be followed by ": "; check for a missing colon or an unclosed quote above';
    case 'BAD_SCALAR_START':
      return "quote the value: a plain value cannot start with this character (e.g. '@' or '`')";
    default:
      return 'check the syntax at and just before this position: indentation, ": " after keys, closing quotes and brackets';
  }
}

export function parseFile(file: string, text: string, opts: ParseOptions = {}): { parsed?: ParsedFile; diagnostics: Diagnostic[] } {
  const encoding = notUtf8(file, text);
  if (encoding) return { diagnostics: [encoding] };
  const { doc, lineCounter } = parsedDocument(text, opts.keep !== false);
  const diagnostics: Diagnostic[] = [];
  for (const e of [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAG_RESOLVE_FAILED')]) {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    const duplicate = e.code === 'DUPLICATE_KEY';
    diagnostics.push({
      severity: doc.errors.includes(e) ? 'error' : 'warning',
      rule: duplicate ? 'yaml.duplicate-key' : 'yaml.syntax',
      file,
      line,
      col,
      path: [],
      message: duplicate ? 'duplicate key: a key may appear once in a map' : `YAML ${e.message.split('\n')[0]}`,
      hint: duplicate ? 'remove or merge the second occurrence' : yamlSyntaxHint(e.code, e.message),
    });
  }
  // An indentation slip makes the parser report several errors around it (or further on, after
  // comments): say once what is wrong, where the slip is.
  const firstError = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
  if (firstError) {
    const slip = findIndentSlip(text);
    const errorLine = lineCounter.linePos(firstError.pos[0]).line;
    const between = (a: number, b: number): number => text.split('\n').slice(Math.min(a, b), Math.max(a, b) - 1).filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length;
    if (slip && (slip.line <= errorLine + 3 || between(errorLine, slip.line) <= 2)) return { diagnostics: [indentationDiagnostic(file, slip)] };
  }
  diagnostics.push(...tagErrors(file, text, doc, lineCounter), ...mergeKeyErrors(file, doc, lineCounter));
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const unresolved = unresolvedAlias(file, doc, lineCounter);
    if (unresolved) return { diagnostics: [...diagnostics, unresolved] };
    let first: number | undefined;
    visit(doc, { Alias: (_, node) => { first ??= node.range?.[0]; return visit.BREAK; } });
    const { line, col } = lineCounter.linePos(first ?? 0);
    diagnostics.push({
      severity: 'error', rule: 'yaml.alias-bomb', file, line, col, path: [],
      message: `YAML aliases expand beyond ${MAX_ALIAS_COUNT} copies of their anchors (an alias bomb, or anchors used far more than an environment needs)`,
      hint: 'write the repeated values out, or share them through a base file (extends)',
    });
    return { diagnostics };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    diagnostics.push({ severity: 'error', rule: 'yaml.not-a-map', file, line: 1, col: 1, path: [], message: 'an environment file must be a YAML map' });
    return { diagnostics };
  }
  // A UTF-8 byte order mark before the comment is still the comment (editors that write one show none).
  if (!text.replace(/^\uFEFF/, '').startsWith(SCHEMA_COMMENT)) {
    diagnostics.push({
      severity: 'warning',
      rule: 'schema-comment',
      file,
      line: 1,
      col: 1,
      path: [],
      message: 'the file does not start with the yaml-language-server schema comment, so editors cannot complete or check it',
      hint: `add '${SCHEMA_COMMENT}' as the first line`,
    });
  }
  return { parsed: { file, data, origins: opts.origins === false ? new Map() : collectOrigins(file, doc.contents, lineCounter) }, diagnostics };
}

/**
 * A file that is not UTF-8: read as UTF-8 (readEnvironmentSources), each byte sequence that is not
 * valid UTF-8 became U+FFFD, the replacement character. Everything before the first one decoded
 * as it was written, so its UTF-8 length is the byte offset of the first bad byte. (A file that
 * holds U+FFFD itself is refused too: the character is never meant in an environment.)
 */
function notUtf8(file: string, text: string): Diagnostic | undefined {
  const at = text.indexOf('\uFFFD');
  if (at === -1) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const col = at - before.lastIndexOf('\n');
  const byte = new TextEncoder().encode(before).length;
  return {
    severity: 'error', rule: 'yaml.encoding', file, line, col, path: [],
    message: `the file is not UTF-8: the byte at offset ${byte} (line ${line}, column ${col}) is not valid UTF-8 (or is U+FFFD, the replacement character)`,
    hint: 'save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8, or your editor\'s "save with encoding"); YAML files are UTF-8',
  };
}

const spaces = (n: number): string => `${n} space${n === 1 ? '' : 's'}`;

function indentationDiagnostic(file: string, slip: IndentSlip): Diagnostic {
  const at = { severity: 'error' as const, rule: 'yaml.indentation', file, line: slip.line, col: slip.col, path: slip.path };
  if (slip.tab) return { ...at, message: `line ${slip.line} is indented with a tab: YAML indents with spaces only`, hint: 'replace the tab with spaces, as many as the lines around it use' };
  const like = slip.sibling ? `'${slip.sibling.what}' on line ${slip.sibling.line}` : 'the lines around it';
  return {
    ...at,
    message: `'${slip.what}' is indented ${spaces(slip.indent)}, but the block it belongs to is indented ${spaces(slip.expected)} (${like})`,
    hint: `indent it ${spaces(slip.expected)}, like ${like}: YAML reads indentation as structure, so the lines from here on cannot be read until it lines up`,
  };
}

/** The document path of a node from the ancestors yaml's visit() passes (pairs give their key, lists the index). */
function docPathOf(ancestors: readonly unknown[], self: unknown): DocPath {
  const chain = [...ancestors, self];
  const out: (string | number)[] = [];
  chain.forEach((a, i) => {
    if (isPair(a) && isScalar(a.key)) out.push(String(a.key.value));
    else if (isSeq(a) && i + 1 < chain.length) out.push(a.items.indexOf(chain[i + 1] as never));
  });
  return out;
}

/**
 * An alias whose anchor is not set before it (a typo in `*name`, or the anchor further down): the
 * yaml library throws a ReferenceError at toJS, like for too many expansions, so it is told apart here.
 * YAML 1.2.2 §7.1: an alias refers to the most recent preceding node with that anchor.
 */
function unresolvedAlias(file: string, doc: Document, lineCounter: LineCounter): Diagnostic | undefined {
  const anchors: string[] = [];
  const all = new Set<string>();
  visit(doc, (_, node) => { if (isNode(node) && !isAlias(node) && node.anchor) all.add(node.anchor); });
  let found: Diagnostic | undefined;
  visit(doc, (_, node, ancestors) => {
    if (!isNode(node)) return;
    if (!isAlias(node)) {
      if (node.anchor) anchors.push(node.anchor);
      return;
    }
    if (anchors.includes(node.source)) return;
    const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
    const later = all.has(node.source);
    found = {
      severity: 'error', rule: 'yaml.alias-unresolved', file, line, col, path: docPathOf(ancestors, node),
      message: later
        ? `YAML alias *${node.source} comes before its anchor &${node.source}: an alias refers to an anchor set above it`
        : `YAML alias *${node.source} refers to no anchor: no &${node.source} is set in this file`,
      hint: later
        ? `move the value marked &${node.source} above its first use`
        : hintFor(node.source, anchors) ?? `mark the value to repeat with &${node.source} above this line (anchors do not cross files: a base's values are shared through extends)`,
    };
    return visit.BREAK;
  });
  return found;
}

/**
 * A plain `<<` key: YAML 1.1's merge key, which YAML 1.2 (what environments are read as) does not
 * have, so `<<: *pool` would be a key named `<<`, not the anchored map's keys merged in. Said at the
 * key, instead of an unknown key '<<' (or required keys missing) from the schema.
 */
function mergeKeyErrors(file: string, doc: Document, lineCounter: LineCounter): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(doc, {
    Pair: (_, pair, ancestors) => {
      if (!isScalar(pair.key) || pair.key.value !== '<<' || pair.key.type !== Scalar.PLAIN) return;
      const { line, col } = lineCounter.linePos(pair.key.range?.[0] ?? 0);
      const source = isAlias(pair.value) ? `*${pair.value.source}` : 'the value';
      out.push({
        severity: 'error', rule: 'yaml.merge-key', file, line, col, path: docPathOf(ancestors, pair),
        message: `'<<' is YAML 1.1's merge key, which environment files (YAML 1.2) do not have: the keys of ${source} are not merged here`,
        hint: "write the keys out (an alias such as *name repeats a whole value, not part of a map), or share them through a base file (extends: maps merge deeply)",
      });
    },
  });
  return out;
}

/** How many alias expansions a document may make (the yaml library's guard against alias bombs). */
export const MAX_ALIAS_COUNT = 100;

/** The tags whose values are plain JSON: every other tag (`!Ref`, `!!python/object`, `!!binary`, `!!set` …) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** An explicit tag is an error: environments hold plain data, and no consumer knows CloudFormation's or Python's tags. */
function tagErrors(file: string, text: string, doc: Document, lineCounter: LineCounter): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(doc, (_, node) => {
    if (!isNode(node) || isAlias(node) || node.tag === undefined || PLAIN_TAGS.has(node.tag)) return;
    const start = node.range?.[0] ?? 0;
    let bang = text.lastIndexOf('!', start - 1);
    while (bang > 0 && text[bang - 1] === '!') bang--;
    const { line, col } = lineCounter.linePos(bang >= 0 ? bang : start);
    const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
    out.push({
      severity: 'error', rule: 'yaml.tag', file, line, col, path: [],
      message: `unknown YAML tag ${tag}: an environment file holds plain data (strings, numbers, booleans, maps, lists)`,
      hint: tag === '!Ref' || tag.startsWith('!Get') || tag === '!Sub' ? "CloudFormation's intrinsic functions do not apply here; reference the value with { ssm: /parameter/name }" : 'remove the tag; quote the value if it must stay a string',
    });
  });
  return out;
}

const isMapValue = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Deep merge with the `extends` rule: maps merge, lists and scalars of `over` replace, and `null`
 * removes a key the base set (e.g. one distribution's release key set to null in an environment of another extending a base).
 * A `null` with nothing to remove stays, so the schema reports it.
 */
export function mergeDeep(under: unknown, over: unknown): unknown {
  if (isMapValue(under) && isMapValue(over)) {
    const out: Record<string, unknown> = { ...under };
    for (const [k, v] of Object.entries(over)) {
      if (v === null && k in under) delete out[k];
      else out[k] = k in under ? mergeDeep(under[k], v) : v;
    }
    return out;
  }
  return over;
}

/** "did you mean" among the environment files that exist (bases included). */
function suggestEnvironment(name: string, sources: SourceFiles): { hint?: string } {
  const names = [...sources.keys()].map((f) => new RegExp(`^${ENV_DIR}/([^/]+)\\.yaml$`).exec(f)?.[1]).filter((n): n is string => n !== undefined);
  const hint = hintFor(name, names);
  return hint ? { hint } : {};
}

/** Parse an environment and its chain of bases and merge them (without positions: `opts.origins` false). */
export function resolveEnvironment(name: string, sources: SourceFiles, opts: ParseOptions = {}): { env?: ResolvedEnvironment; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const chain: ParsedFile[] = [];
  const seen = new Set<string>();
  let file = envFile(name);
  let from: { file: string; pos?: SourcePos } | undefined;
  for (;;) {
    const text = sources.get(file);
    if (text === undefined) {
      diagnostics.push({
        severity: 'error',
        rule: 'extends.missing',
        file: from?.file ?? file,
        line: from?.pos?.line,
        col: from?.pos?.col,
        path: from ? ['extends'] : [],
        message: from ? `extends '${file}', which does not exist` : `no environment file ${file}`,
        ...(from && file.endsWith('.yaml.yaml') && sources.has(file.slice(0, -'.yaml'.length))
          ? { hint: `write extends: ${file.slice(ENV_DIR.length + 1, -'.yaml.yaml'.length)} (the file's name without .yaml)` }
          : suggestEnvironment(file.slice(ENV_DIR.length + 1, -'.yaml'.length), sources)),
      });
      return { diagnostics };
    }
    // (Bases are kept whatever `keep` says: every environment extending them reads them again.)
    const { parsed, diagnostics: ds } = parseFile(file, text, chain.length === 0 ? opts : { ...opts, keep: true });
    diagnostics.push(...ds);
    if (!parsed) return { diagnostics };
    chain.push(parsed);
    seen.add(file);
    const ext = (parsed.data as Record<string, unknown>).extends;
    if (ext === undefined) break;
    const pos = locateIn(parsed.origins, ['extends']);
    if (typeof ext !== 'string') break; // the schema reports the type
    const next = envFile(ext);
    if (seen.has(next)) {
      diagnostics.push({ severity: 'error', rule: 'extends.cycle', file, line: pos?.line, col: pos?.col, path: ['extends'], message: `extends cycle: ${[...seen, next].join(' → ')}` });
      return { diagnostics };
    }
    from = { file, pos };
    file = next;
  }
  let data: unknown = {};
  let origins: OriginMap = new Map();
  for (const f of [...chain].reverse()) {
    data = mergeDeep(data, f.data);
    if (opts.origins !== false) origins = mergeOrigins(origins, f.origins);
  }
  const own = chain[0]!;
  return {
    env: { name, file: own.file, files: chain.map((c) => c.file), data: data as Record<string, unknown>, origins },
    diagnostics,
  };
}

/** Where a value of the resolved environment was written (its key for `preferKey`). */
export function locate(env: ResolvedEnvironment, path: DocPath, preferKey = false): SourcePos {
  return locateIn(env.origins, path, preferKey) ?? { file: env.file, line: 1, col: 1 };
}
