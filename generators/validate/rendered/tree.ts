/**
 * The rendered tree as checkers see it: every file split into parsed YAML documents that remember
 * their source positions, so each finding names rendered/<env>/<file>:line:col and a document path.
 */
import { isMap as isYamlMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic, Severity } from '../diagnostics.js';

export interface ParsedDoc {
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  /** Line and column of the node at `path` (1-based), or of the document start. */
  locate(path: DocPath, key?: boolean): { line: number; col: number };
}

export interface ParsedFile {
  env: string;
  /** Relative to rendered/<env>/. */
  path: string;
  /** Repo-relative, e.g. rendered/prod/apps/cert-manager.yaml. */
  file: string;
  content: string;
  docs: ParsedDoc[];
  /** YAML syntax errors (positioned); docs is empty then. */
  errors: Diagnostic[];
}

export interface RenderedTree {
  /** Environment names with a tree. */
  envs: string[];
  files: ParsedFile[];
  /** Kubernetes version per environment (e.g. 1.35.4), when known. */
  kubernetesVersion: Map<string, string>;
  /** The VPC subnets per environment (resolved IDs, zone, tier), when known. */
  subnets: Map<string, readonly TreeSubnet[]>;
}

export interface TreeSubnet {
  name: string;
  id?: string;
  zone: string;
  public: boolean;
}

function locator(doc: Document, lc: LineCounter): ParsedDoc['locate'] {
  return (path, key = false) => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isYamlMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
    }
    const target = (key && keyNode ? keyNode : node) as { range?: [number, number, number] } | null;
    const offset = target?.range?.[0] ?? (doc.contents as { range?: [number] } | null)?.range?.[0] ?? 0;
    return lc.linePos(offset);
  };
}

export function parseRenderedFile(env: string, path: string, content: string): ParsedFile {
  const file = `rendered/${env}/${path}`;
  const out: ParsedFile = { env, path, file, content, docs: [], errors: [] };
  if (!/\.ya?ml$/.test(path)) return out;
  const lc = new LineCounter();
  const docs = parseAllDocuments(content, { version: '1.1', lineCounter: lc, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) {
    for (const e of d.errors) {
      const { line, col } = lc.linePos(e.pos[0]);
      out.errors.push({ severity: 'error', rule: 'rendered.yaml', file, line, col, path: [], message: `YAML ${e.message.split('\n')[0]}` });
    }
  }
  if (out.errors.length > 0) return out;
  list.forEach((d) => {
    const value = d.toJS({ maxAliasCount: -1 }) as unknown;
    if (value !== null && value !== undefined) out.docs.push({ index: out.docs.length, value, locate: locator(d, lc) });
  });
  return out;
}

/** Build the tree from a file map keyed `<env>/<path>` (the diff's FileMap shape). */
export function parseRenderedTree(files: ReadonlyMap<string, string>, kubernetesVersion = new Map<string, string>(), subnets = new Map<string, readonly TreeSubnet[]>()): RenderedTree {
  const parsed: ParsedFile[] = [];
  const envs = new Set<string>();
  for (const [p, c] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const i = p.indexOf('/');
    if (i <= 0) continue;
    envs.add(p.slice(0, i));
    parsed.push(parseRenderedFile(p.slice(0, i), p.slice(i + 1), c));
  }
  return { envs: [...envs].sort(), files: parsed, kubernetesVersion, subnets };
}

/** A finding about a document of a rendered file. */
export function finding(f: ParsedFile, doc: ParsedDoc | undefined, rule: string, path: DocPath, message: string, opts: { hint?: string; severity?: Severity; key?: boolean } = {}): Diagnostic {
  const pos = doc ? doc.locate(path, opts.key) : { line: 1, col: 1 };
  return { severity: opts.severity ?? 'error', rule, file: f.file, line: pos.line, col: pos.col, path, message, hint: opts.hint };
}

export const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** apiVersion/kind/metadata.name of a Kubernetes object, or undefined. */
export function k8sIdentity(v: unknown): { apiVersion: string; kind: string; name: string; namespace?: string } | undefined {
  if (!isMap(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string' || v.apiVersion === 'v1alpha1' && !isMap(v.metadata)) return undefined;
  const m = v.metadata;
  if (!isMap(m) || typeof m.name !== 'string') return undefined;
  return { apiVersion: v.apiVersion, kind: v.kind, name: m.name, namespace: typeof m.namespace === 'string' ? m.namespace : undefined };
}
